"""QR codes of the public self-report page (segno): inline SVG for pages, PNG for download."""

from __future__ import annotations

import io

import segno

# Level M: a poster survives some dirt and glare and the code stays small enough to scan.
ERROR_LEVEL = "m"


def qr_svg(url: str, *, scale: int = 3, fluid: bool = False) -> str:
    """`fluid`: no width/height, only a viewBox, so that CSS sizes it (the A4 poster)."""
    return segno.make(url, error=ERROR_LEVEL).svg_inline(
        scale=scale, dark="#000", light="#fff", omitsize=fluid
    )


def qr_png(url: str, *, scale: int = 12) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error=ERROR_LEVEL).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
