"""Check uploaded files by their content, not their name."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpeg": (b"\xff\xd8\xff",),
}
CONTENT_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg", "svg": "image/svg+xml"}
LABELS = {"pdf": "PDF", "png": "PNG", "jpeg": "JPEG", "svg": "SVG"}


def _human(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"


def detect_type(head: bytes) -> str | None:
    """Name the file type the first bytes show, or None."""
    for kind, magics in SIGNATURES.items():
        if any(head.startswith(m) for m in magics):
            return kind
    return None


def validate_upload(
    file: UploadedFile, *, allowed: tuple[str, ...] = ("pdf", "png", "jpeg"), max_bytes: int | None = None
) -> str:
    """Return the MIME type of an allowed upload, or raise ValidationError saying what is wrong."""
    limit = max_bytes if max_bytes is not None else settings.UPLOAD_MAX_BYTES
    names = ", ".join(LABELS[a] for a in allowed)
    if file.size is None or file.size == 0:
        raise ValidationError("The file is empty.")
    if file.size > limit:
        raise ValidationError(f"The file is {_human(file.size)}; the limit is {_human(limit)}.")
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    kind = detect_type(head)
    if kind is None or kind not in allowed:
        raise ValidationError(f"This file is not a {names} file (its content was checked, not just its name).")
    return CONTENT_TYPES[kind]


def file_sha256(file: UploadedFile) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def safe_filename(name: str, *, default: str = "document") -> str:
    """Keep a display name free of paths, control characters and anything a header could trip over."""
    name = unicodedata.normalize("NFKC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^\w.\- ()]+", "_", name, flags=re.UNICODE).strip(" ._")
    name = re.sub(r"\.{2,}", ".", name)
    return name[:120] or default
