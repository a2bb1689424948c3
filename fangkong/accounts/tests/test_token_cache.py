"""A worker process trusts a checked API token for FANGKONG["API_TOKEN_CACHE_SECONDS"]; the
process that revokes it stops at once."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from fangkong.accounts.models import ApiToken
from fangkong.accounts.selectors import user_for_token
from fangkong.accounts.services import token_create, token_revoke

pytestmark = pytest.mark.django_db
CACHED = {**settings.FANGKONG, "API_TOKEN_CACHE_SECONDS": 10}


@override_settings(FANGKONG=CACHED)
def test_a_revoked_token_is_refused_at_once_by_the_revoking_process(users, api_client):
    token, raw = token_create(actor=None, user=users.commander, name="t")
    assert (
        api_client(None).get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code
        == 200
    )
    assert user_for_token(token=raw) == users.commander
    token_revoke(actor=users.commander, token=token)
    assert user_for_token(token=raw) is None
    answer = api_client(None).get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert answer.status_code == 401


@override_settings(FANGKONG=CACHED)
def test_within_the_window_another_process_still_trusts_it(users):
    """What another worker process sees: the row changed under it, its cache did not."""
    token, raw = token_create(actor=None, user=users.commander, name="t")
    assert user_for_token(token=raw) == users.commander
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=token.created_at)  # elsewhere
    assert user_for_token(token=raw) == users.commander  # for up to 10 s
    with override_settings(FANGKONG={**CACHED, "API_TOKEN_CACHE_SECONDS": 0}):
        assert user_for_token(token=raw) is None  # checked again: refused


def test_tokens_are_checked_on_every_call_when_the_cache_is_off(users):
    _token, raw = token_create(actor=None, user=users.commander, name="t")
    assert user_for_token(token=raw) == users.commander
    users.commander.is_active = False
    users.commander.save(update_fields=["is_active"])
    assert user_for_token(token=raw) is None
