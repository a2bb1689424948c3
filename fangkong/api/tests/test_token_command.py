"""`fangkong token create|list|revoke`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from fangkong.accounts.models import ApiToken
from fangkong.core.models import AuditEvent


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_prints_a_working_token_once(world, users):
    out, err = _run("create", "gw_a", "--name", "区大数据局对接")
    raw = out.strip()
    assert raw.startswith("fk_")
    assert "\n" not in raw
    assert "只显示这一次" in err
    assert raw not in err
    token = ApiToken.objects.get(user=users.grid_worker)
    assert token.name == "区大数据局对接"
    assert raw not in (token.digest, token.prefix)
    me = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/me")
    assert me.json()["username"] == "gw_a"
    event = AuditEvent.objects.get(verb="accounts.token.create")
    assert event.actor is None
    assert event.data == {"user_id": users.grid_worker.pk}


def test_list_shows_prefix_name_created_and_last_use(world, users):
    raw = _run("create", "gw_a", "--name", "脚本")[0].strip()
    out, _ = _run("list", "gw_a")
    assert raw[:10] in out
    assert "脚本" in out
    assert "从未使用" in out
    assert raw not in out
    Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/me")
    assert "从未使用" not in _run("list", "gw_a")[0]


def test_list_without_tokens_says_so(world, users):
    assert "没有 API 令牌" in _run("list", "hq")[0]


def test_revoke_by_prefix_stops_the_token(world, users):
    raw = _run("create", "gw_a")[0].strip()
    out, _ = _run("revoke", raw[:10])
    assert "已吊销" in out
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/me").status_code == 401
    assert "已吊销" in _run("list", "gw_a")[0]
    assert AuditEvent.objects.filter(verb="accounts.token.revoke").count() == 1
    with pytest.raises(CommandError, match="已吊销"):
        _run("revoke", raw[:10])


def test_unknown_username_is_a_clear_error(world):
    with pytest.raises(CommandError, match="nobody"):
        _run("create", "nobody")
    with pytest.raises(CommandError, match="不存在"):
        _run("list", "nobody")
    assert not ApiToken.objects.exists()


def test_unknown_prefix_is_a_clear_error(world):
    with pytest.raises(CommandError, match="fk_nothing"):
        _run("revoke", "fk_nothing")
