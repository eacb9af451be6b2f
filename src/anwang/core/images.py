"""Photos people upload (a guard's picture of an alarm's scene, a patrol check-in, later hazard
and inspection photos): checked to be an image and re-encoded without its metadata."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from anwang.core.errors import ServiceError

PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_PIXELS = 40_000_000
PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
"""Formats phones' cameras and browsers send, with the extension a stored photo gets."""


def clean_photo(upload: UploadedFile, *, field: str = "photo") -> tuple[bytes, str]:
    """The photo re-encoded without its metadata (EXIF, GPS position: a phone writes where it
    was taken into the file), and its extension; a :class:`ServiceError` on ``field`` when it is
    not a JPEG, PNG or WebP of at most :data:`PHOTO_MAX_BYTES` and :data:`PHOTO_MAX_PIXELS`."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    too_big = _("A photo may be at most 10 MB.")
    if (upload.size or 0) > PHOTO_MAX_BYTES:
        raise ServiceError(too_big, field=field)
    content = upload.read()
    if not content:
        raise ServiceError(_("The file is empty."), field=field)
    if len(content) > PHOTO_MAX_BYTES:
        raise ServiceError(too_big, field=field)
    not_a_photo = _("Upload a photo (JPEG, PNG or WebP).")
    try:
        with Image.open(io.BytesIO(content)) as probe:
            image_format = probe.format or ""
            width, height = probe.size
            probe.verify()
        if image_format not in PHOTO_FORMATS:
            raise ServiceError(not_a_photo, field=field)
        if width * height > PHOTO_MAX_PIXELS:
            raise ServiceError(_("The photo has too many pixels."), field=field)
        with Image.open(io.BytesIO(content)) as image:
            # Turn it upright as the camera meant, since the orientation tag goes with the rest.
            upright = ImageOps.exif_transpose(image)
            if image_format == "JPEG" and upright.mode not in ("RGB", "L"):
                upright = upright.convert("RGB")
            buffer = io.BytesIO()
            options: dict[str, Any] = {"quality": 90} if image_format in ("JPEG", "WEBP") else {}
            # Saving without ``exif`` drops the EXIF block, GPS position included.
            upright.save(buffer, format=image_format, **options)
    except ServiceError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
    ) as error:
        raise ServiceError(not_a_photo, field=field) from error
    return buffer.getvalue(), PHOTO_FORMATS[image_format]


def thumbnail(content: bytes, size: tuple[int, int]) -> bytes:
    """A small copy, within ``size``, of a photo :func:`clean_photo` accepted, in its format
    (for lists and timelines, where the full photo would be slow on a phone)."""
    from PIL import Image

    with Image.open(io.BytesIO(content)) as image:
        image_format = image.format or "JPEG"
        small = image.copy()
    small.thumbnail(size)
    if image_format == "JPEG" and small.mode not in ("RGB", "L"):
        small = small.convert("RGB")
    buffer = io.BytesIO()
    options: dict[str, Any] = {"quality": 80} if image_format in ("JPEG", "WEBP") else {}
    small.save(buffer, format=image_format, **options)
    return buffer.getvalue()
