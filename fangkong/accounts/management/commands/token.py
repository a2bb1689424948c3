"""`fangkong token create|list|revoke`: API tokens for scripts and other systems.

The token is printed once, alone on stdout (so `TOKEN=$(fangkong token create alice)` works);
only its SHA-256 is stored. The command line acts as the system (actor=None) in the audit log.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import ApiToken, User
from fangkong.accounts.services import token_create, token_revoke
from fangkong.core.exceptions import DomainError

PREFIX_LENGTH = 10  # accounts.services.token_create stores raw[:10] as the prefix


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"


class Command(BaseCommand):
    help = "管理 API 令牌：create 生成（只显示一次）、list 列出、revoke 吊销。"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="{create,list,revoke}"
        )
        create = actions.add_parser(
            "create", help="为账号生成一个新令牌，打印到标准输出（只显示一次）"
        )
        create.add_argument("username", help="账号用户名")
        create.add_argument("--name", default="", help="令牌用途，例如 “区大数据局对接”")
        listing = actions.add_parser("list", help="列出账号的令牌：前缀、用途、创建时间、最近使用")
        listing.add_argument("username", help="账号用户名")
        revoke = actions.add_parser("revoke", help="按前缀吊销令牌")
        revoke.add_argument("prefix", help="令牌前缀（token list 显示的前 10 个字符）或完整令牌")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "create":
                self._create(options["username"], options["name"])
            elif action == "list":
                self._list(options["username"])
            else:
                self._revoke(options["prefix"])
        except DomainError as exc:
            details = "; ".join(
                f"{field}: {' '.join(messages)}"
                for field, messages in exc.as_dict()["errors"].items()
            )
            raise CommandError(f"{exc.message} {details}".strip()) from None

    def _user(self, username: str) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("账号“%(username)s”不存在。") % {"username": username})
        if not user.is_active:
            raise CommandError(_("账号“%(username)s”已停用。") % {"username": username})
        return user

    def _create(self, username: str, name: str) -> None:
        user = self._user(username)
        token, raw = token_create(actor=None, user=user, name=name.strip())
        self.stdout.write(raw)
        self.stderr.write(
            _("已为 %(username)s 生成令牌（前缀 %(prefix)s）。令牌只显示这一次，请妥善保存。")
            % {"username": user.username, "prefix": token.prefix}
        )

    def _list(self, username: str) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("账号“%(username)s”不存在。") % {"username": username})
        tokens = ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")
        if not tokens:
            self.stdout.write(_("%(username)s 没有 API 令牌。") % {"username": username})
            return
        header = (_("前缀"), _("用途"), _("创建时间"), _("最近使用"), _("状态"))
        self.stdout.write("\t".join(header))
        for token in tokens:
            status = (
                _("已吊销 %(at)s") % {"at": _when(token.revoked_at)}
                if token.revoked_at
                else _("有效")
            )
            row = (
                token.prefix,
                token.name or "-",
                _when(token.created_at),
                _when(token.last_used_at) if token.last_used_at else _("从未使用"),
                status,
            )
            self.stdout.write("\t".join(row))

    def _revoke(self, prefix: str) -> None:
        prefix = prefix.strip()
        if len(prefix) > PREFIX_LENGTH:
            candidates = ApiToken.objects.filter(digest=ApiToken.digest_for(prefix))
        else:
            candidates = ApiToken.objects.filter(prefix=prefix)
        active = list(candidates.filter(revoked_at__isnull=True).select_related("user"))
        if not active:
            if candidates.exists():
                raise CommandError(_("前缀为 %(prefix)s 的令牌已吊销。") % {"prefix": prefix})
            raise CommandError(_("没有前缀为 %(prefix)s 的令牌。") % {"prefix": prefix})
        if len(active) > 1:
            raise CommandError(
                _("前缀 %(prefix)s 对应多个有效令牌，请给出完整令牌。") % {"prefix": prefix}
            )
        token = token_revoke(actor=None, token=active[0])
        self.stdout.write(
            _("已吊销 %(username)s 的令牌 %(prefix)s。")
            % {"username": token.user.username, "prefix": token.prefix}
        )
