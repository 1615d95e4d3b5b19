"""Attachment bytes, pure: the type read from the bytes, the content hash, and the smaller copy
of a photo for pages. Where the bytes are kept is `stores.py`."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import filetype
from PIL import Image, ImageOps, UnidentifiedImageError

# Types people attach to project work: photos, scans, office documents, archives, text.
# Anything else (programs, web pages, scripts) is refused whatever its name says.
ALLOWED_TYPES = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/heic": "heic",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
    "application/vnd.ms-powerpoint": "ppt",
    "application/zip": "zip",
    "application/x-7z-compressed": "7z",
    "text/plain": "txt",
}
# Shown in the page itself; every other type is only offered as a download.
SHOWN_INLINE = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"})
PREVIEWED = frozenset({"image/jpeg", "image/png", "image/webp"})
PREVIEW_EDGE = 1280
# A photo larger than this many pixels is refused rather than decoded (a decompression bomb).
MAX_PIXELS = 80_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    extension: str


def sniff(data: bytes) -> Sniffed | None:
    """The file's type from its first bytes; None when it is not one we accept."""
    kind = filetype.guess(data[:8192])
    if kind is not None:
        mime = kind.mime
        if mime in ALLOWED_TYPES:
            return Sniffed(mime, ALLOWED_TYPES[mime])
        return None
    if _is_text(data):
        return Sniffed("text/plain", "txt")
    return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data[:8192]:
        return False
    head = data[:4096].lstrip().lower()
    if head.startswith((b"<!doctype", b"<html", b"<svg", b"<?xml", b"<script")):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class NotAnImage(Exception):
    """The bytes claim an image type but cannot be decoded as one (or are far too large)."""


def preview_of(data: bytes) -> bytes:
    """A JPEG at most PREVIEW_EDGE on its longer side, turned upright by its EXIF orientation
    and without its EXIF (no location leaks from the page). Pure."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((PREVIEW_EDGE, PREVIEW_EDGE))
            out = io.BytesIO()
            upright.convert("RGB").save(out, "JPEG", quality=82, optimize=True)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as error:
        raise NotAnImage(str(error)) from error
    return out.getvalue()
