"""Who is calling: a bearer token (scripts, other systems) or the Django session (our pages' htmx).

The resolved user is `request.auth`; every route passes it to selectors and services as the
viewer/actor. Session requests must carry a CSRF token on unsafe methods; token requests need
none (a token is not sent by the browser on its own).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from fangkong.accounts.selectors import user_for_token

from .errors import CsrfFailed


class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`. A token that is present but wrong is a 401 at once:
    it never falls back to the session."""

    def __call__(self, request: HttpRequest) -> Any:
        value = request.headers.get(self.header, "")
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() != self.openapi_scheme:
            return None  # not ours (and never logged: it may be a credential)
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token=token)
        if user is None:
            raise AuthenticationError()
        request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The logged-in Django session, with Django's CSRF check on unsafe methods."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=True)  # also tells the Swagger page to send the CSRF header

    def _get_key(self, request: HttpRequest) -> str | None:
        # The CSRF check waits until we know there is a session: an anonymous request is a
        # 401, not a CSRF failure.
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise CsrfFailed()
        return user


api_auth = [BearerTokenAuth(), SessionAuth()]
