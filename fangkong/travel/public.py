"""The public self-report page, reached by the QR code printed per county and per village.

No login. `/r/<code>/` (the county's or a village's code) shows the form; a submission goes
to `services.self_report_submit`, which counts it against the client's rate limit, validates
every field and registers the arrival (or, for the same trip sent again, writes nothing). The
answer is the receipt code, the same page whether the person or the trip was known before:
the page never says who is registered and never shows a name back.

Works without JavaScript, except the origin cascader (province -> city -> county, fed by
`/r/regions.json`): without it the form shows a region-code box instead.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
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
from .ratelimit import RateLimited


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
        # The grid choices matter only when the form is shown again: read them then.
        form = SelfReportForm(request.POST, grid_choices=[])
        form.is_valid()  # collects the text; the service decides what is wrong
        try:
            receipt = services.self_report_submit(
                data=form.arrival_data(),
                client_key=client_ip(request) or "",
                within=division.code,
            )
        except RateLimited as exc:
            return _rate_limited(request, division, exc)
        except ValidationFailed as exc:
            form.set_grid_choices(_grid_choices(division))
            apply_domain_error(form, exc)
        else:
            return render(
                request, "travel/public_receipt.html", {"division": division, "receipt": receipt}
            )
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
