"""Perceptual hashing: copies of a picture match at the default distance, other pictures do not.

Images are drawn with Pillow at test time (fixed seeds), so no binary fixture is committed.
Distances measured with these builders over 40 seeds (640x480): resized to 50% 0-2 bits,
JPEG quality 40 0-4, same pixels re-encoded 0, Telegram-style resize+JPEG 0-2, 4 px crop 0-8
(one in 40 at 8), 8 px crop 0-12 (not asserted: one in 40 over the default); mirrored 28-36,
upside down 26-36, another photo 20-38, same shapes in other colours 14-50, same colours 16-40,
same news-card template with another photo 12-34 (one in 40 at 12, then 16).
"""

from __future__ import annotations

import pytest
from PIL import Image, ImageOps

from bot.errors import ImageTooLarge, UnreadableImage
from bot.moderation.image_identity import (
    DEFAULT_MAX_DISTANCE,
    content_hash,
    hamming,
    is_copy,
    perceptual_hash,
)
from storage.images import from_signed64, to_signed64
from tests.support.pictures import WARM, cropped, encode, news_card, photo, resized, reuploaded

SEEDS = range(5)
COPIES = {
    "resized to 50%": lambda img: encode(resized(img)),
    "JPEG at quality 40": lambda img: encode(img, "JPEG", quality=40),
    "cropped by 4 px": lambda img: encode(cropped(img, 4)),
    "re-uploaded, same pixels": reuploaded,
    "Telegram-style re-upload": lambda img: encode(resized(img, 0.4), "JPEG", quality=60),
}

STRANGERS = {
    "mirrored": lambda seed: ImageOps.mirror(photo(seed)),
    "upside down": lambda seed: ImageOps.flip(photo(seed)),
    "another photo": lambda seed: photo(seed + 100),
    "same shapes, other colours": lambda seed: photo(seed, colours=seed + 1000),
}


def _distance(a: bytes, b: bytes) -> int:
    return hamming(perceptual_hash(a), perceptual_hash(b))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("copy", COPIES.values(), ids=COPIES.keys())
def test_copies_of_a_photo_match_at_the_default_distance(copy, seed):
    original = photo(seed)
    assert _distance(encode(original), copy(original)) <= DEFAULT_MAX_DISTANCE


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("stranger", STRANGERS.values(), ids=STRANGERS.keys())
def test_other_pictures_do_not_match(stranger, seed):
    assert _distance(encode(photo(seed)), encode(stranger(seed))) > DEFAULT_MAX_DISTANCE


@pytest.mark.parametrize("seed", SEEDS)
def test_a_photo_with_the_same_colours_does_not_match(seed):
    one, other = photo(seed, palette=WARM), photo(seed + 50, palette=WARM)
    assert _distance(encode(one), encode(other)) > DEFAULT_MAX_DISTANCE


@pytest.mark.parametrize("seed", SEEDS)
def test_the_same_template_with_another_photo_does_not_match(seed):
    assert _distance(encode(news_card(seed)), encode(news_card(seed + 10))) > DEFAULT_MAX_DISTANCE


def test_a_large_jpeg_hashes_like_its_small_copy():
    big = photo(3, size=(2400, 1800))
    small_copy = encode(resized(big, 0.25), "JPEG", quality=50)
    assert is_copy(perceptual_hash(encode(big, "JPEG", quality=90)), perceptual_hash(small_copy))


def test_hashes_survive_sqlite_signed_integers():
    value = perceptual_hash(encode(photo(1)))
    signed = to_signed64(value)
    assert -(2**63) <= signed < 2**63
    assert from_signed64(signed) == value
    assert hamming(signed, value) == 0
    assert hamming(to_signed64(2**64 - 1), 0) == 64


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\0" * 40],
    ids=["empty", "text", "broken PNG header"],
)
def test_bytes_that_are_not_an_image_are_refused(data):
    with pytest.raises(UnreadableImage):
        perceptual_hash(data)


def test_a_truncated_jpeg_is_refused():
    data = encode(photo(2), "JPEG", quality=90)
    with pytest.raises(UnreadableImage):
        perceptual_hash(data[: len(data) // 2])


def test_a_decompression_bomb_is_refused_before_decoding():
    bomb = encode(Image.new("1", (8000, 6000)))  # 48 megapixels in a few kilobytes
    assert len(bomb) < 100_000
    with pytest.raises(ImageTooLarge):
        perceptual_hash(bomb)


def test_too_many_bytes_are_refused_unread():
    with pytest.raises(ImageTooLarge):
        perceptual_hash(b"\xff" * 1001, max_bytes=1000)


def test_the_content_hash_tells_identical_bytes_only():
    data = encode(photo(4))
    assert content_hash(data) == content_hash(bytes(data))
    assert content_hash(data) != content_hash(reuploaded(photo(4)))
