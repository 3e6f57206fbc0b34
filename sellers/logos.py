"""Check carrier logos: PNG by its signature, SVG parsed and rebuilt from an allow-list.

An SVG is refused, with the reason, when it holds scripts, event handlers, links to anything outside
the file, embedded HTML (foreignObject) or a DTD; what is kept is re-serialised from the parsed tree,
so comments and processing instructions never reach a browser. Logos are still served only by a view
that sends a strict Content-Type and a sandboxing Content-Security-Policy.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405  (DTDs are refused before parsing, see below)
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from marketplace.uploads import validate_upload

LOGO_MAX_BYTES = 512 * 1024
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"

ALLOWED_ELEMENTS = {
    "svg", "g", "defs", "title", "desc", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon",
    "text", "tspan", "linearGradient", "radialGradient", "stop", "clipPath", "mask", "symbol", "use", "style",
}  # fmt: skip
FORBIDDEN_ELEMENTS = {"script", "foreignObject", "iframe", "embed", "object", "image", "animate", "set",
                      "animateTransform", "animateMotion", "handler", "listener", "a", "feImage"}  # fmt: skip
EXTERNAL_URL = re.compile(r"url\(\s*['\"]?\s*(?!#)", re.IGNORECASE)


@dataclass(frozen=True)
class Logo:
    kind: str  # "png" or "svg"
    content: bytes


def _local(name: str) -> tuple[str, str]:
    if name.startswith("{"):
        ns, _, local = name[1:].partition("}")
        return ns, local
    return "", name


def sanitise_svg(raw: bytes) -> bytes:
    """Return a clean copy of an SVG document, or raise ValidationError saying what is not allowed."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError("Save the SVG as UTF-8 text.") from exc
    lowered = text.lower()
    # Entities and DTDs are how XML bombs and external entities get in; logos never need them.
    if "<!doctype" in lowered or "<!entity" in lowered:
        raise ValidationError("The SVG declares a DTD or entities; save it as plain SVG.")
    try:
        root = ET.fromstring(text)  # noqa: S314  (no DTD can be present here)
    except ET.ParseError as exc:
        raise ValidationError("This is not a well-formed SVG file.") from exc
    ns, local = _local(root.tag)
    if local != "svg" or ns not in ("", SVG_NS):
        raise ValidationError("This is not an SVG image.")
    problems: list[str] = []
    for parent in list(root.iter()):
        for child in list(parent):
            cns, clocal = _local(child.tag) if isinstance(child.tag, str) else ("", "")
            if cns not in ("", SVG_NS):
                parent.remove(child)  # editor metadata (Inkscape, RDF): dropped, harmless
            elif clocal in FORBIDDEN_ELEMENTS:
                problems.append(f"<{clocal}> elements are not allowed.")
            elif clocal not in ALLOWED_ELEMENTS:
                parent.remove(child)
    for element in root.iter():
        if _local(element.tag)[1] == "style" and element.text:
            css = element.text.lower()
            if "@import" in css or EXTERNAL_URL.search(css) or "javascript:" in css:
                problems.append("The <style> element refers to something outside the image.")
        for name in list(element.attrib):
            value = element.attrib[name]
            ans, alocal = _local(name)
            if alocal.lower().startswith("on"):
                problems.append(f"Event handler attributes such as {alocal} are not allowed.")
            elif alocal == "href" and ans in ("", XLINK_NS) and not value.strip().startswith("#"):
                problems.append("Links to anything outside the image are not allowed.")
            elif "javascript:" in value.lower().replace(" ", "") or EXTERNAL_URL.search(value):
                problems.append(f"The {alocal} attribute refers to something outside the image.")
            elif ans not in ("", XLINK_NS, "http://www.w3.org/XML/1998/namespace"):
                del element.attrib[name]
    if problems:
        raise ValidationError(sorted(set(problems)))
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def logo_from_upload(file: UploadedFile) -> Logo:
    """Check an uploaded logo by its content and return it ready to store."""
    if file.size is not None and file.size > LOGO_MAX_BYTES:
        raise ValidationError("The logo is larger than 512 KB.")
    file.seek(0)
    head = file.read(512)
    file.seek(0)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<"):
        content = file.read()
        file.seek(0)
        return Logo("svg", sanitise_svg(content))
    try:
        validate_upload(file, allowed=("png",), max_bytes=LOGO_MAX_BYTES)
    except ValidationError as exc:
        raise ValidationError("Upload the logo as a PNG or SVG image.") from exc
    content = file.read()
    file.seek(0)
    return Logo("png", content)
