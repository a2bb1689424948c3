"""The public self-report page, reached by the QR code printed per county and per village.

No login. `/r/<code>/` (the county's or a village's code) shows the form; a submission is
counted against the client's rate limit, then goes to `services.self_report_submit`, which
validates every field and stores it for the loop worker to register (or, for the same trip
sent again, writes nothing). The
answer is the receipt code, the same page whether the person or the trip was known before:
the page never says who is registered and never shows a name back.

Works without JavaScript, except the origin cascader (province -> city -> county, fed by
`/r/regions.json`): without it the form shows a region-code box instead.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.core.exceptions import NotFound, ValidationFailed
from fangkong.core.middleware import client_ip
from fangkong.geo.models import Division
from fangkong.geo.regions import regions_tree_json

from . import selectors, services
from .forms import SelfReportForm, apply_domain_error
from .ratelimit import RateLimited, rate_limit_hit


def _grid_choices(division: Division) -> list[Any]:
    """A village's grids; for the county's QR, every village with its grids (optgroups)."""
    grids = selectors.grids_under(code=division.code)
    if division.level == Division.Level.VILLAGE:
        return [(g.code, g.name) for g in grids]
    villages = selectors.villages_under(code=division.code)
    groups: dict[str, list[tuple[str, str]]] = {}
    for grid in grids:
        groups.setdefault(grid.code[:12], []).append((grid.code, grid.name))
    choices: list[Any] = []
    for village_code, options in groups.items():
        village = villages.get(village_code)
        label = (village.full_name or village.name) if village else village_code
        choices.append((label.removeprefix(f"{division.name}/"), options))
    return choices


def _division(code: str) -> Division:
    try:
        return selectors.public_division(code=code)
    except NotFound:
        raise Http404(_("二维码无效或已停用。")) from None


_RECEIPT_SLOT = "@@receipt@@"
_RECEIPT_PAGES: dict[tuple[str, str], str] = {}


def _receipt(request: HttpRequest, division: Division, receipt: str) -> HttpResponse:
    """The receipt page. It is the same for every submission to this QR code in this language
    apart from the code (it shows nothing of what was typed, and no token), so it is rendered
    once per process and the code put into its slot."""
    key = (division.code, get_language() or "")
    page = _RECEIPT_PAGES.get(key)
    if page is None or settings.DEBUG:
        page = render_to_string(
            "travel/public_receipt.html",
            {"division": division, "receipt": _RECEIPT_SLOT},
            request=request,
        )
        if len(_RECEIPT_PAGES) > 5_000:
            _RECEIPT_PAGES.clear()
        _RECEIPT_PAGES[key] = page
    return HttpResponse(page.replace(_RECEIPT_SLOT, receipt))


def _rate_limited(request: HttpRequest, division: Division, exc: RateLimited) -> HttpResponse:
    response = render(
        request,
        "travel/public_429.html",
        {"division": division, "message": exc.message, "retry_after": exc.retry_after},
        status=429,
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def self_report(request: HttpRequest, code: str) -> HttpResponse:
    division = _division(code)
    if request.method == "POST":
        try:
            # Counted first, on its own: refused and invalid submissions count too.
            rate_limit_hit(scope="selfreport", key=client_ip(request) or "")
        except RateLimited as exc:
            return _rate_limited(request, division, exc)
        try:
            receipt = services.self_report_submit(
                data=SelfReportForm.data_from(request.POST), within=division.code
            )
        except ValidationFailed as exc:
            # Only now is the form built: shown again with what was typed and the errors.
            form = SelfReportForm(request.POST, grid_choices=_grid_choices(division))
            form.is_valid()
            apply_domain_error(form, exc)
        else:
            return _receipt(request, division, receipt)
    else:
        grids = _grid_choices(division)
        form = SelfReportForm(grid_choices=grids)
        if len(grids) == 1 and not isinstance(grids[0][1], list):
            form.initial["destination_code"] = grids[0][0]
    return render(request, "travel/public_form.html", {"division": division, "form": form})


@require_GET
@cache_control(public=True, max_age=86400)
def regions(request: HttpRequest) -> JsonResponse:
    """The GB/T 2260 tree for the origin cascader (static data: cached a day)."""
    return JsonResponse(regions_tree_json(), json_dumps_params={"ensure_ascii": False})
