"""The emulator's answerInlineQuery refuses what Telegram refuses."""

from __future__ import annotations

import json

import pytest

from emulator import ApiError, BotApiEmulator
from emulator.params import Params


def article(result_id: str, text: str = "<b>خبر</b>", **extra) -> dict:
    return {
        "type": "article",
        "id": result_id,
        "title": "خبر",
        "input_message_content": {"message_text": text, "parse_mode": "HTML"},
        **extra,
    }


async def answer(emulator: BotApiEmulator, results, **params):
    query_id = emulator.send_inline_query(7, "خبر")
    raw = {"inline_query_id": query_id, "results": json.dumps(results), **params}
    return query_id, await emulator.api.call("answerInlineQuery", Params(raw))


async def test_a_valid_answer_is_kept_with_its_offset_and_cache_time(emulator):
    query_id, ok = await answer(emulator, [article("a1"), article("a2")], next_offset="2",
                                cache_time="30")  # fmt: skip
    assert ok is True
    kept = await emulator.wait_for_inline_answer(query_id)
    assert kept.result_ids == ("a1", "a2") and kept.next_offset == "2" and kept.cache_time == 30


@pytest.mark.parametrize(
    ("results", "params", "reason"),
    [
        ([article(f"a{n}") for n in range(51)], {}, "RESULTS_TOO_MUCH"),
        ([article("x" * 65)], {}, "RESULT_ID_INVALID"),
        ([article("ع" * 33)], {}, "RESULT_ID_INVALID"),  # 66 bytes in UTF-8
        ([article("")], {}, "RESULT_ID_INVALID"),
        ([article("a1"), article("a1")], {}, "RESULT_ID_DUPLICATE"),
        ([article("a1")], {"next_offset": "9" * 65}, "NEXT_OFFSET_INVALID"),
        ([article("a1", "<b>unclosed")], {}, "can't parse entities"),
        ([article("a1", "x" * 4097)], {}, "message is too long"),
        ([{**article("a1"), "title": ""}], {}, "ARTICLE_TITLE_EMPTY"),
        ([article("a1", thumbnail_url="file:///etc/passwd")], {}, "THUMBNAIL_URL_INVALID"),
        ([{"type": "nonsense", "id": "a1"}], {}, "RESULT_TYPE_INVALID"),
    ],
)
async def test_answers_over_telegram_limits_are_refused(emulator, results, params, reason):
    with pytest.raises(ApiError) as refused:
        await answer(emulator, results, **params)
    assert refused.value.status == 400 and reason in refused.value.description


async def test_a_query_is_answered_once_and_unknown_ids_are_refused(emulator):
    query_id, _ = await answer(emulator, [])
    again = {"inline_query_id": query_id, "results": "[]"}
    with pytest.raises(ApiError, match="query ID is invalid"):
        await emulator.api.call("answerInlineQuery", Params(again))
    with pytest.raises(ApiError, match="query ID is invalid"):
        await emulator.api.call(
            "answerInlineQuery", Params({"inline_query_id": "404", "results": "[]"})
        )


async def test_only_an_offered_result_can_be_chosen(emulator):
    await answer(emulator, [article("a1")])
    emulator.choose_inline_result(7, "a1")
    with pytest.raises(LookupError):
        emulator.choose_inline_result(7, "a2")
    with pytest.raises(LookupError):
        emulator.choose_inline_result(8, "a1")
