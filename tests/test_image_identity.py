"""Perceptual hashing: copies of a picture match at the default distance, other pictures do not.

Images are drawn with Pillow at test time (fixed seeds), so no binary fixture is committed.
Distances measured with these builders over 40 seeds (640x480): resized to 50% 0-2 bits,
JPEG quality 40 0-4, same pixels re-encoded 0, Telegram-style resize+JPEG 0-2, 4 px crop 0-8
(one in 40 at 8), 8 px crop 0-12 (not asserted: one in 40 over the default); mirrored 28-36,
upside down 26-36, another photo 20-38, same shapes in other colours 14-50, same colours 16-40,
same news-card template with another photo 12-34 (one in 40 at 12, then 16).
"""

from __future__ import annotations

import functools
import io
import random

import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageOps, PngImagePlugin

from bot.errors import ImageTooLarge, UnreadableImage
from bot.moderation.image_identity import (
    DEFAULT_MAX_DISTANCE,
    content_hash,
    hamming,
    is_copy,
    perceptual_hash,
)
from storage.images import from_signed64, to_signed64

SEEDS = range(5)
WARM = ((200, 120, 40), (30, 60, 150), (220, 200, 180))


def _colour(rnd: random.Random, palette: tuple[tuple[int, int, int], ...] | None):
    if palette is None:
        return tuple(rnd.randrange(256) for _ in range(3))
    return tuple(min(255, max(0, c + rnd.randrange(-60, 60))) for c in rnd.choice(palette))


@functools.cache  # callers do not modify the image; drawing one takes a while
def photo(seed: int, *, size=(640, 480), palette=None, colours: int | None = None) -> Image.Image:
    """A photo-like picture: a gradient, a dozen blurred shapes and a little noise.

    `seed` places the shapes; `colours` (default: `seed`) paints them.
    """
    rnd, paint = random.Random(seed), random.Random(seed if colours is None else colours)
    width, height = size
    ends = palette[:2] if palette else [_colour(paint, None), _colour(paint, None)]
    mask = Image.linear_gradient("L").resize(size).rotate(rnd.choice([0, 45, 90, 135]))
    image = Image.composite(Image.new("RGB", size, ends[1]), Image.new("RGB", size, ends[0]), mask)
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = rnd.randrange(width), rnd.randrange(height)
        box = (x0, y0, x0 + rnd.randrange(30, width // 2), y0 + rnd.randrange(30, height // 2))
        shape = draw.ellipse if rnd.random() < 0.5 else draw.rectangle
        shape(box, fill=_colour(paint, palette))
    image = image.filter(ImageFilter.GaussianBlur(2))
    noise = Image.frombytes("L", size, rnd.randbytes(width * height)).convert("RGB")
    return Image.blend(image, noise, 0.08)


def news_card(seed: int) -> Image.Image:
    """A news site's template: red header with a logo, black footer, a photo in between."""
    card = Image.new("RGB", (640, 480), (250, 250, 250))
    card.paste(photo(seed, size=(600, 340)), (20, 70))
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, 640, 55), fill=(180, 20, 20))
    draw.ellipse((10, 5, 55, 50), fill=(255, 255, 255))
    draw.rectangle((0, 420, 640, 480), fill=(20, 20, 20))
    return card


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    if fmt == "PNG":
        options.setdefault("compress_level", 1)  # noise does not compress: save the time
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def resized(image: Image.Image, factor: float = 0.5) -> Image.Image:
    width, height = image.size
    return image.resize((int(width * factor), int(height * factor)), Image.Resampling.LANCZOS)


def cropped(image: Image.Image, pixels: int) -> Image.Image:
    width, height = image.size
    return image.crop((pixels, pixels, width - pixels, height - pixels))


def reuploaded(image: Image.Image) -> bytes:
    """The same pixels in different bytes: another PNG encoder setting and a text chunk."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "re-upload")
    return encode(image, compress_level=9, pnginfo=info)


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
