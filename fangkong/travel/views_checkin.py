"""The public check-in page a venue QR code opens: /v/<place code>/ (no login).

First visit: a form (name, document, phone). The browser remembers it (localStorage, on this
device only, sent nowhere but with the check-in itself; "不是我/清除" forgets it), so each later
scan is one tap on 登记进入. Without JavaScript the form is shown every time.

Each tap carries a uuid rendered into the page (`key`), the check-in's idempotency key: a
retry or a reload of the answer never records twice. Every POST is counted against the
client's rate limit first (travel.ratelimit, scope "checkin"), then goes to
places.services_checkins.checkin_record (one INSERT). The answer shows the time in and a
离开 button that posts the check-in's signed token (never its id). A cookie holding only that
token (no personal data) makes the page opened again within the stay show 已登记.

The answer page is the same for every check-in at a place apart from the time, the token and
the CSRF token: rendered once per process and filled in. Nothing of other people is shown.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from fangkong.core import timeutils
from fangkong.core.exceptions import Conflict, ValidationFailed
from fangkong.core.middleware import client_ip
from fangkong.people.models import IdType
from fangkong.places.models import CheckIn, Place
from fangkong.places.selectors_checkins import checkin_from_token, checkin_place, checkin_token
from fangkong.places.services_checkins import checkin_checkout, checkin_record

from .ratelimit import RateLimited, rate_limit_hit

DEFAULT_RATE = "120/600"  # a restaurant's guests share one Wi-Fi address
FIELDS = ("name", "id_type", "id_number", "phone")
ID_TYPE_CHOICES = [(v, label) for v, label in IdType.choices if v != IdType.NONE]
_SLOTS = {"in": "@@in@@", "token": "@@token@@", "csrf": "@@csrf@@", "until": "@@until@@"}
_DONE_PAGES: dict[tuple[str, str, bool], str] = {}


def _cookie_name(place: Place) -> str:
    return f"fk_ci_{place.code}"


def _local(when: object) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M")  # type: ignore[arg-type]


def _message(
    request: HttpRequest, *, place: Place | None, title: str, message: str, status: int
) -> HttpResponse:
    return render(
        request,
        "places/checkin_message.html",
        {"place": place, "title": title, "message": message},
        status=status,
    )


def _place_or_page(request: HttpRequest, code: str) -> Place | HttpResponse:
    place = checkin_place(code=code)
    if place is None:
        return _message(
            request,
            place=None,
            title=_("场所码无效"),
            message=_("没有找到这个场所码，请核对海报上的二维码，或向场所工作人员询问。"),
            status=404,
        )
    if not place.active:
        return _message(
            request,
            place=place,
            title=_("场所已停用"),
            message=_("该场所的场所码已停用，不再接受扫码登记。请向场所工作人员询问。"),
            status=410,
        )
    return place


def _rate_limited(request: HttpRequest, place: Place, exc: RateLimited) -> HttpResponse:
    response = _message(
        request, place=place, title=_("提交过于频繁"), message=str(exc.message), status=429
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


def _done(request: HttpRequest, place: Place, checkin: CheckIn, *, again: bool) -> HttpResponse:
    """The answer (time in, 离开 button), from the page rendered once per place and language."""
    key = (place.code, get_language() or "", again)
    page = _DONE_PAGES.get(key)
    if page is None or settings.DEBUG:
        page = render_to_string(
            "places/checkin_done.html", {"place": place, "again": again, "slots": _SLOTS}
        )
        if len(_DONE_PAGES) > 5_000:
            _DONE_PAGES.clear()
        _DONE_PAGES[key] = page
    token = checkin_token(checkin=checkin)
    for name, value in (
        ("in", _local(checkin.checked_in_at)),
        ("until", _local(checkin.checked_out_at)),
        ("token", token),
        ("csrf", get_token(request)),
    ):
        page = page.replace(_SLOTS[name], value)
    response = HttpResponse(page)
    remaining = int((checkin.checked_out_at - timeutils.now()).total_seconds())
    if remaining > 0:
        response.set_cookie(
            _cookie_name(place),
            token,
            max_age=remaining,
            path=reverse("checkin:page", args=[place.code]),
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


def _form(
    request: HttpRequest, place: Place, *, values: dict | None = None, errors: dict | None = None
) -> HttpResponse:
    return render(
        request,
        "places/checkin_form.html",
        {
            "place": place,
            "values": values or {"id_type": IdType.RESIDENT_ID},
            "errors": errors or {},
            "id_types": ID_TYPE_CHOICES,
            "key": (values or {}).get("idempotency_key") or uuid.uuid4().hex,
        },
        status=400 if errors else 200,
    )


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def checkin_page(request: HttpRequest, code: str) -> HttpResponse:
    found = _place_or_page(request, code)
    if isinstance(found, HttpResponse):
        return found
    place = found
    if request.method == "GET":
        token = request.COOKIES.get(_cookie_name(place))
        checkin = checkin_from_token(token=token, place=place) if token else None
        if checkin and checkin.out_imputed and checkin.checked_out_at > timeutils.now():
            return _done(request, place, checkin, again=True)
        return _form(request, place)
    try:
        # Counted first, on its own: refused and invalid taps count too.
        rate_limit_hit(
            scope="checkin",
            key=client_ip(request) or "",
            rate=settings.FANGKONG.get("CHECKIN_RATE") or DEFAULT_RATE,
        )
    except RateLimited as exc:
        return _rate_limited(request, place, exc)
    values = {name: request.POST.get(name, "").strip() for name in FIELDS}
    values["idempotency_key"] = request.POST.get("key", "").strip()[:64]
    try:
        checkin, _created = checkin_record(actor=None, place=place, data=values)
    except ValidationFailed as exc:
        return _form(request, place, values=values, errors=exc.errors)
    except Conflict as exc:
        values["idempotency_key"] = ""
        return _form(request, place, values=values, errors={"general": [str(exc.message)]})
    return _done(request, place, checkin, again=False)


@never_cache
@csrf_protect
@require_POST
def checkout(request: HttpRequest, code: str) -> HttpResponse:
    found = _place_or_page(request, code)
    if isinstance(found, HttpResponse):
        return found
    place = found
    try:
        rate_limit_hit(
            scope="checkin",
            key=client_ip(request) or "",
            rate=settings.FANGKONG.get("CHECKIN_RATE") or DEFAULT_RATE,
        )
    except RateLimited as exc:
        return _rate_limited(request, place, exc)
    checkin = checkin_from_token(token=request.POST.get("token", ""), place=place)
    if checkin is None:
        return _message(
            request,
            place=place,
            title=_("无法登记离开"),
            message=_("登记凭证无效。请重新扫码登记。"),
            status=400,
        )
    try:
        checkin = checkin_checkout(actor=None, checkin=checkin)
    except ValidationFailed as exc:
        text = "；".join(str(m) for msgs in exc.errors.values() for m in msgs)
        return _message(request, place=place, title=_("无法登记离开"), message=text, status=400)
    response = _message(
        request,
        place=place,
        title=_("已登记离开"),
        message=_("离开时间：%(t)s。感谢配合！") % {"t": _local(checkin.checked_out_at)},
        status=200,
    )
    response.delete_cookie(_cookie_name(place), path=reverse("checkin:page", args=[place.code]))
    return response
