"""What every staff page shares: login required, never cached (the pages show personal data),
and the domain's NotFound / Forbidden shown as the 404 / 403 pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache

from .exceptions import Forbidden, NotFound


def staff_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(str(exc.message)) from None
        except Forbidden as exc:
            raise PermissionDenied(str(exc.message)) from None

    return login_required(never_cache(wrapper))
