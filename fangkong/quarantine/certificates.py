"""PDF documents of the test schedules (WeasyPrint, Noto Sans CJK): the release certificate
(解除隔离证明, with a QR code of its public verification page) and the quarantine notice
(告知书) of an active order. The person is shown as the viewer's role allows (presenters)."""

from __future__ import annotations

from typing import Any

import segno
from django.template.loader import render_to_string

from fangkong.policy.models import Category

from .models import Certificate

CATEGORY_LABELS = dict(Category.choices)
PHASE_LABELS = {
    "centralized": "集中隔离医学观察",
    "home_isolation": "居家隔离医学观察",
    "home_monitoring": "居家健康监测",
    "tests_only": "核酸检测",
    "hospital": "定点医院隔离治疗",
}


def _pdf(html: str) -> bytes:
    from weasyprint import HTML  # loads Pango: only when a PDF is asked for

    return HTML(string=html).write_pdf()


def certificate_html(*, certificate: Certificate, person: dict[str, Any], url: str) -> str:
    qr_uri = segno.make(url, error="m").svg_data_uri(scale=6, border=4)
    return render_to_string(
        "quarantine/certificate_pdf.html",
        {"certificate": certificate, "person": person, "url": url, "qr_uri": qr_uri},
    )


def certificate_pdf(*, certificate: Certificate, person: dict[str, Any], url: str) -> bytes:
    return _pdf(certificate_html(certificate=certificate, person=person, url=url))


def notice_phases(*, order: Any) -> list[dict[str, Any]]:
    return [
        {
            "kind": PHASE_LABELS.get(p.get("kind", ""), p.get("kind", "")),
            "start": p.get("start") or "",
            "end": p.get("end") or "",
            "days": p.get("days"),
            "test_days": list(p.get("test_days") or []),
        }
        for p in order.phases or []
    ]


def notice_pdf(*, order: Any, person: dict[str, Any], stay: Any = None) -> bytes:
    html = render_to_string(
        "quarantine/notice_pdf.html",
        {
            "order": order,
            "person": person,
            "category": CATEGORY_LABELS.get(order.category, order.category),
            "phases": notice_phases(order=order),
            "stay": stay,
        },
    )
    return _pdf(html)
