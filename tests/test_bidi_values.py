"""Right-to-left marks go into the catalog's own text, never into the values put in it."""

from bot.i18n import bidi
from bot.i18n.bidi import LRM, RLM


def test_commands_in_the_template_are_marked_and_values_left_as_they_are():
    text = bidi.right_to_left_format("اكتب /help بعد «{text}»", {"text": "a/b /etc"})
    assert text == f"اكتب {LRM}/help بعد «a/b /etc»"


def test_a_line_starting_inside_a_value_gets_no_mark_but_template_lines_do():
    text = bidi.right_to_left_format("«{title}»\n/latest", {"title": "one\ntwo"})
    assert text.split("\n") == [f"{RLM}«one", "two»", f"{RLM}{LRM}/latest"]


def test_a_line_opening_with_a_latin_value_is_marked_before_the_value():
    assert bidi.right_to_left_format("{name} مرحبا", {"name": "Inès"}) == f"{RLM}Inès مرحبا"
