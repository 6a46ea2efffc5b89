"""What an image is to moderation: its perceptual hash, its content hash, and its stored records.

The records live here rather than in `bot.moderation` because storage returns them and the
service imports storage (a cycle otherwise).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from types import ModuleType
from typing import TYPE_CHECKING

from bot.errors import ImageTooLarge, UnreadableImage

if TYPE_CHECKING:
    from PIL import Image as PILImage

# Telegram photos are at most 10 MB and article images are fetched with a cap; anything bigger
# is refused before Pillow sees it.
MAX_IMAGE_BYTES = 20 * 1024 * 1024
# 40 megapixels covers any camera photo; a small file claiming more is a decompression bomb.
MAX_IMAGE_PIXELS = 40_000_000
# Measured in tests/test_image_identity.py: resized, recompressed and re-uploaded copies differ
# by at most 4 bits, 4-pixel crops by at most 8; unrelated images (mirrored, same colours, same
# layout with other content) by at least 12, usually 20 or more. 8 sits midway between the
# copies the issue names and the closest stranger; two random 64-bit hashes land within 8 bits
# with odds of about 1 in 4 billion.
DEFAULT_MAX_DISTANCE = 8
# JPEGs are decoded at a reduced scale (DCT scaling, 7x faster on a 12 MP photo): the hash only
# looks at a 32x32 thumbnail, and every copy goes through the same reduction.
_DRAFT_SIZE = (256, 256)

_WORD = 1 << 64


def _pillow() -> ModuleType:
    """PIL.Image, imported at the first image (like imagehash below), with our pixel cap."""
    from PIL import Image

    # Pillow refuses (DecompressionBombError) images over twice this, and warns over it; the
    # warning is turned into an error below. Set for the whole process: no part of Akhbar has a
    # reason to decode bigger images.
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    return Image


def perceptual_hash(data: bytes, *, max_bytes: int = MAX_IMAGE_BYTES) -> int:
    """The image's 64-bit DCT perceptual hash (unsigned); raise UnreadableImage or ImageTooLarge."""
    if len(data) > max_bytes:
        raise ImageTooLarge(f"{len(data)} bytes")
    # Imported at the first image, not at start-up: with numpy and Pillow it is ~17 MB that a
    # bot nobody reports images to never needs.
    import imagehash

    pillow = _pillow()
    with warnings.catch_warnings():
        warnings.simplefilter("error", pillow.DecompressionBombWarning)
        try:
            with pillow.open(io.BytesIO(data)) as image:
                _check_pixels(image)
                image.draft("L", _DRAFT_SIZE)
                return int(str(imagehash.phash(image)), 16)
        except (pillow.DecompressionBombError, pillow.DecompressionBombWarning) as error:
            raise ImageTooLarge(str(error)) from error
        except (OSError, SyntaxError, ValueError, EOFError) as error:
            raise UnreadableImage(str(error)) from error


def _check_pixels(image: PILImage.Image) -> None:
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageTooLarge(f"{width}x{height} pixels")


def hamming(a: int, b: int) -> int:
    """How many of the 64 bits differ between two hashes (signed or unsigned)."""
    return ((a ^ b) % _WORD).bit_count()


def is_copy(a: int, b: int, *, max_distance: int = DEFAULT_MAX_DISTANCE) -> bool:
    """Whether two perceptual hashes are close enough to be the same picture."""
    return hamming(a, b) <= max_distance


def content_hash(data: bytes) -> str:
    """The SHA-256 of the bytes, in hex: the same file, whatever its URL."""
    return hashlib.sha256(data).hexdigest()
