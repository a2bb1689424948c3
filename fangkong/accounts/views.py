"""Log in and out, and the user's own API tokens. Thin: forms, selectors, one service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from fangkong.core.exceptions import NotFound

from .forms import LoginForm, TokenCreateForm
from .selectors import access_api_token_by_id, api_token_list
from .services import token_create, token_revoke


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's rule): a link cannot log anyone out."""


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """List the user's tokens; POST creates one and shows it exactly once."""
    new_token = None
    if request.method == "POST":
        form = TokenCreateForm(request.POST)
        if form.is_valid():
            _token, new_token = token_create(
                actor=request.user, user=request.user, name=form.cleaned_data["name"]
            )
            form = TokenCreateForm()
    else:
        form = TokenCreateForm()
    # never_cache: the page that shows a new token must not be kept by any cache.
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "tokens": api_token_list(viewer=request.user), "new_token": new_token},
    )


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token = access_api_token_by_id(viewer=request.user, token_id=token_id)
    except NotFound as exc:
        raise Http404(str(exc.message)) from None
    if token.revoked_at is None:
        token_revoke(actor=request.user, token=token)
        messages.success(request, _("令牌 %(prefix)s… 已吊销。") % {"prefix": token.prefix})
    return redirect("accounts:tokens")
