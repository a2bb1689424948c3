"""The venue-code poster of a place (场所码): a QR code of the public check-in page with the
place's name, its code and what to do, as a PNG (Pillow, for phones and chat groups) and an A4
PDF (WeasyPrint, for printing). Both are drawn here from the same text.

The QR encodes the absolute URL of the public check-in page, `/v/<code>/`, on
settings.FANGKONG["PUBLIC_BASE_URL"] when it is set (the address visitors reach, behind the
proxy), else on the address of the request that asked for the poster.
"""

from __future__ import annotations

import io
import pathlib
from typing import Any

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont

from .models import Place

# Level M: a poster survives some dirt and glare and the code stays small enough to scan.
ERROR_LEVEL = "m"
CHECKIN_PATH = "/v/{code}/"

# Noto Sans CJK (Debian fonts-noto-cjk); the first that exists is used.
FONT_DIRS = (
    pathlib.Path("/usr/share/fonts/opentype/noto"),
    pathlib.Path("/usr/share/fonts/noto-cjk"),
    pathlib.Path("/usr/share/fonts/google-noto-cjk"),
)
# Index of Simplified Chinese in NotoSansCJK-*.ttc (JP, KR, SC, TC, HK).
SC_INDEX = 2

PNG_SIZE = (1240, 1754)  # A4 at 150 dpi
RED = (155, 28, 28)


def checkin_url(*, code: str, request: Any = None) -> str:
    """The absolute URL the poster's QR opens."""
    path = CHECKIN_PATH.format(code=code)
    base = str(settings.FANGKONG.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if base:
        return f"{base}{path}"
    if request is not None:
        return request.build_absolute_uri(path)
    return path


def poster_text(place: Place) -> dict[str, Any]:
    """What every poster says, in one place."""
    return {
        "title": _("场所码"),
        "name": place.name,
        "code": place.code,
        "kind": place.get_kind_display(),
        "address": place.address,
        "steps": [
            _("进入时用手机微信或浏览器扫描二维码，登记姓名、证件号码和手机号；"),
            _("同一手机再次扫码只需点一下确认；"),
            _("离开时再扫一次，登记离开时间。"),
        ],
        "short": _("扫码登记，离开时再扫一次"),
        "foot": _("请配合疫情防控，如实登记。"),
    }


def qr_svg(url: str, *, scale: int = 4) -> str:
    """Inline SVG of the QR (the preview on the detail page), sized by CSS."""
    return segno.make(url, error=ERROR_LEVEL).svg_inline(
        scale=scale, dark="#000", light="#fff", omitsize=True
    )


def _qr_png_bytes(url: str, *, scale: int) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error=ERROR_LEVEL).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def _font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "NotoSansCJK-Bold.ttc" if bold else "NotoSansCJK-Regular.ttc"
    for folder in FONT_DIRS:
        path = folder / name
        if path.exists():
            return ImageFont.truetype(str(path), size=size, index=SC_INDEX)
    return ImageFont.load_default(size=size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Any, width: int) -> list[str]:
    """Break Chinese text by characters to fit `width` pixels."""
    lines: list[str] = []
    line = ""
    for char in text:
        if line and draw.textlength(line + char, font=font) > width:
            lines.append(line)
            line = char
        else:
            line += char
    if line:
        lines.append(line)
    return lines or [""]


def _centered(draw: ImageDraw.ImageDraw, y: int, text: str, font: Any, fill: Any) -> int:
    """Draw one centred line at y; return the y below it."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = (PNG_SIZE[0] - (right - left)) // 2 - left
    draw.text((x, y - top), text, font=font, fill=fill)
    return y + (bottom - top)


def poster_png(place: Place, *, url: str) -> bytes:
    """The poster as an A4 PNG at 150 dpi."""
    text = poster_text(place)
    width, height = PNG_SIZE
    image = Image.new("RGB", PNG_SIZE, "white")
    draw = ImageDraw.Draw(image)
    margin = 80

    # The red band: title and the place's name.
    title_font, name_font = _font(120, bold=True), _font(64, bold=True)
    name_lines = _wrap(draw, text["name"], name_font, width - 2 * margin)[:3]
    band_bottom = 90 + 150 + len(name_lines) * 90 + 40
    draw.rectangle((0, 0, width, band_bottom), fill=RED)
    y = _centered(draw, 90, text["title"], title_font, "white") + 50
    for line in name_lines:
        y = _centered(draw, y, line, name_font, "white") + 26

    # The QR code, as large as the page allows.
    qr = Image.open(io.BytesIO(_qr_png_bytes(url, scale=20))).convert("RGB")
    side = min(760, height - band_bottom - 620)
    qr = qr.resize((side, side), Image.Resampling.NEAREST)
    qr_top = band_bottom + 50
    image.paste(qr, ((width - side) // 2, qr_top))

    y = qr_top + side + 30
    y = _centered(
        draw, y, _("场所码：%(code)s") % {"code": text["code"]}, _font(56, bold=True), "black"
    )
    y = _centered(draw, y + 30, text["short"], _font(52, bold=True), RED) + 40
    step_font = _font(36)
    for number, step in enumerate(text["steps"], start=1):
        for line in _wrap(draw, f"{number}. {step}", step_font, width - 2 * margin - 80):
            y = _centered(draw, y, line, step_font, (40, 40, 40)) + 18
    _centered(draw, height - 110, text["foot"], _font(34), (80, 80, 80))

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True, dpi=(150, 150))
    return out.getvalue()


def poster_html(place: Place, *, url: str) -> str:
    qr_uri = segno.make(url, error=ERROR_LEVEL).svg_data_uri(scale=10, border=4)
    return render_to_string(
        "places/place_poster_pdf.html",
        {"place": place, "url": url, "qr_uri": qr_uri, **poster_text(place)},
    )


def poster_pdf(place: Place, *, url: str) -> bytes:
    """The poster as one A4 page of PDF, fonts embedded (Noto Sans CJK SC)."""
    from weasyprint import HTML  # loads Pango: only when a PDF is asked for

    return HTML(string=poster_html(place, url=url)).write_pdf()


def poster_filename(place: Place, ext: str) -> str:
    return f"场所码_{place.name}_{place.code}.{ext}"
