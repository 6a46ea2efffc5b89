"""Photo-like test pictures drawn from a seed, and the copies people make of them."""

from __future__ import annotations

import functools
import io
import random

from PIL import Image, ImageDraw, ImageFilter, PngImagePlugin

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
