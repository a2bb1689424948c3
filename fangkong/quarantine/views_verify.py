"""The public verification page of a release certificate (/q/<code>/, no login): that it is
genuine, its number and dates; never the name or the ID number."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import selectors_tests


@require_GET
def verify(request: HttpRequest, code: str) -> HttpResponse:
    certificate = selectors_tests.certificate_by_code(code=code)
    return render(
        request,
        "quarantine/verify.html",
        {"certificate": certificate},
        status=200 if certificate else 404,
    )
