"""Camera pictures that come with device messages: checked before anything stores them.

A picture is kept only when it is a JPEG or PNG that Pillow can open, of bounded size in bytes
and in pixels, so a malformed or hostile upload cannot fill the disk or exhaust memory later
when it is shown.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

from PIL import Image

from anwang.events.adapters.base import AdapterError

PICTURE_MAX_BYTES = 2 * 1024 * 1024
"""Larger pictures are refused (a camera's event picture is typically 50-500 KB)."""
PICTURE_MAX_PIXELS = 40_000_000
_IMAGE_MAGIC = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}


def picture_facts(payload: bytes, *, what: str) -> dict[str, Any]:
    """Format, width and height of a picture, or an :class:`AdapterError` that starts with
    ``what`` (e.g. "Frigate snapshot") and says what is wrong."""
    if len(payload) > PICTURE_MAX_BYTES:
        raise AdapterError(
            f"{what} is {len(payload)} bytes, more than {PICTURE_MAX_BYTES} allowed."
        )
    claimed = next((fmt for magic, fmt in _IMAGE_MAGIC.items() if payload.startswith(magic)), None)
    if claimed is None:
        raise AdapterError(f"{what} is not a JPEG or PNG image.")
    try:
        with warnings.catch_warnings():
            # Pillow warns (or raises) on huge headers; the size check below decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(payload), formats=[claimed]) as image:
                width, height = image.size
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise AdapterError(f"{what} is not a readable {claimed} image: {error}") from error
    if width < 1 or height < 1 or width * height > PICTURE_MAX_PIXELS:
        raise AdapterError(f"{what} has an unusable size {width}x{height}.")
    return {"format": claimed, "width": width, "height": height}
