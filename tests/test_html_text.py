from bot.ingestion.html_text import first_image_url, html_to_text


def test_paragraph_blocks_are_separated_by_a_blank_line():
    html = (
        "<div>مقدمة<p>الفقرة <b>الأولى</b></p><p>الثانية</p>"
        "سطر<br>بعد<ul><li>بند</li></ul><h2>عنوان</h2></div>"
    )
    assert html_to_text(html) == "مقدمة\n\nالفقرة الأولى\n\nالثانية\n\nسطر\n\nبعد\n\nبند\n\nعنوان"


def test_scripts_styles_and_comments_are_dropped():
    html = "<p>خبر</p><script>alert('x')</script><style>p{color:red}</style><!-- تعليق -->"
    assert html_to_text(html) == "خبر"


def test_entities_are_decoded_and_no_break_spaces_collapsed():
    assert html_to_text("<p>قال&nbsp;&nbsp; الوزير &amp; &quot;أكد&quot; &#1605;</p>") == (
        'قال الوزير & "أكد" م'
    )


def test_source_newlines_inside_a_paragraph_are_just_spaces():
    assert html_to_text("<p>سطر\n  يكمل\tهنا</p>") == "سطر يكمل هنا"


def test_plain_text_keeps_its_lines_as_paragraphs():
    assert html_to_text("  الأول  \n\n\nالثاني &amp; الثالث\n") == "الأول\n\nالثاني & الثالث"


def test_literal_less_than_sign_survives():
    assert html_to_text("<p>3 < 5 و 7 > 2</p>") == "3 < 5 و 7 > 2"


def test_full_page_keeps_body_text_only():
    page = "<html><head><title>عنوان الصفحة</title></head><body><h1>خبر</h1></body></html>"
    assert html_to_text(page) == "خبر"


def test_empty_and_comment_only_input_give_empty_text():
    assert html_to_text("") == ""
    assert html_to_text("<!-- لا شيء -->") == ""


def test_encoding_declaration_does_not_break_parsing():
    assert html_to_text('<?xml version="1.0" encoding="utf-8"?><p>نص</p>') == "نص"


def test_first_image_is_made_absolute():
    html = '<p>نص</p><img src="data:image/png;base64,AAA"><img src="/img/a.jpg"><img src="b.jpg">'
    assert first_image_url(html, "https://example.ma/news/1") == "https://example.ma/img/a.jpg"


def test_no_image_or_unresolvable_image_gives_none():
    assert first_image_url("<p>لا صورة</p>", "https://example.ma/") is None
    assert first_image_url('<img src="/a.jpg">', None) is None
    assert first_image_url('<IMG SRC="https://cdn.example.ma/a.jpg">', None) == (
        "https://cdn.example.ma/a.jpg"
    )
