"""Log in, lock-out, log out and the user's own API tokens: end to end."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import PASSWORD
from fangkong.accounts.models import ApiToken
from fangkong.accounts.selectors import user_for_token
from fangkong.accounts.services import token_create
from fangkong.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _post_login(client, username: str, password: str):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_login_page_is_in_chinese(client, db):
    response = client.get(reverse("accounts:login"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "用户名" in html
    assert "密码" in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_login_with_the_right_password_opens_the_home_page(client, users):
    response = _post_login(client, "town_a", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("reports:home")
    assert client.get(reverse("reports:home")).status_code == 200


def test_login_follows_next_inside_the_site_only(client, users):
    inside = _post_login_next(client, reverse("reports:divisions"))
    assert inside["Location"] == reverse("reports:divisions")

    client.post(reverse("accounts:logout"))
    outside = _post_login_next(client, "https://evil.example/")
    assert outside["Location"] == reverse("reports:home")


def _post_login_next(client, next_url: str):
    return client.post(
        reverse("accounts:login"),
        {"username": "town_a", "password": PASSWORD, "next": next_url},
    )


def test_wrong_password_says_so_in_chinese_and_does_not_log_in(client, users):
    response = _post_login(client, "town_a", "wrong-password")

    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logged_in_user_visiting_login_goes_home(login, users):
    response = login(users.town_officer).get(reverse("accounts:login"))

    assert response.status_code == 302
    assert response["Location"] == reverse("reports:home")


def test_five_failures_lock_the_account_on_this_address(client, users):
    for _ in range(4):
        assert _post_login(client, "town_a", "wrong-password").status_code == 200

    fifth = _post_login(client, "town_a", "wrong-password")
    then_right = _post_login(client, "town_a", PASSWORD)

    assert fifth.status_code == 429
    assert then_right.status_code == 429
    assert "账号已锁定" in then_right.content.decode()
    assert "连续 5 次登录失败" in then_right.content.decode()
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_account(client, users):
    for _ in range(5):
        _post_login(client, "town_a", "wrong-password")

    response = _post_login(client, "village_a", PASSWORD)

    assert response.status_code == 302


def test_four_failures_then_success_does_not_lock(client, users):
    for _ in range(4):
        _post_login(client, "town_a", "wrong-password")

    assert _post_login(client, "town_a", PASSWORD).status_code == 302


def test_logout_needs_a_post(login, users):
    client = login(users.town_officer)

    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert client.get(reverse("reports:home")).status_code == 302


# --- API tokens ------------------------------------------------------------------------------


def test_tokens_page_needs_login(client, db):
    response = client.get(reverse("accounts:tokens"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_creating_a_token_shows_it_once_and_it_works(login, users):
    client = login(users.town_officer)

    response = client.post(reverse("accounts:tokens"), {"name": "统计脚本"})

    raw = response.context["new_token"]
    assert raw in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert user_for_token(token=raw) == users.town_officer
    token = ApiToken.objects.get(user=users.town_officer)
    assert token.name == "统计脚本"
    assert (
        AuditEvent.objects.filter(
            verb="accounts.token.create", actor=users.town_officer, target_id=str(token.pk)
        ).count()
        == 1
    )
    again = client.get(reverse("accounts:tokens"))
    assert raw not in again.content.decode()
    assert token.prefix in again.content.decode()


def test_token_list_shows_only_my_tokens(login, users):
    token_create(actor=None, user=users.commander, name="指挥部对接")
    token_create(actor=None, user=users.town_officer, name="镇统计")

    response = login(users.town_officer).get(reverse("accounts:tokens"))

    html = response.content.decode()
    assert "镇统计" in html
    assert "指挥部对接" not in html


def test_revoking_my_token_stops_it(login, users):
    token, raw = token_create(actor=None, user=users.town_officer, name="旧脚本")
    client = login(users.town_officer)

    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))

    assert response.status_code == 302
    assert user_for_token(token=raw) is None
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert (
        AuditEvent.objects.filter(verb="accounts.token.revoke", target_id=str(token.pk)).count()
        == 1
    )


def test_revoking_someone_elses_token_is_404_and_changes_nothing(login, users):
    token, raw = token_create(actor=None, user=users.commander, name="指挥部对接")
    events = AuditEvent.objects.count()

    response = login(users.town_officer).post(reverse("accounts:token_revoke", args=[token.pk]))

    assert response.status_code == 404
    assert user_for_token(token=raw) == users.commander
    assert AuditEvent.objects.count() == events


def test_revoke_needs_a_post(login, users):
    token, raw = token_create(actor=None, user=users.town_officer)

    response = login(users.town_officer).get(reverse("accounts:token_revoke", args=[token.pk]))

    assert response.status_code == 405
    assert user_for_token(token=raw) == users.town_officer
