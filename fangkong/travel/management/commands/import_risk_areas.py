"""`fangkong import_risk_areas FILE --start YYYY-MM-DD --notice TEXT`: a published list.

    fangkong import_risk_areas 2022050800.json --start 2022-05-08 --notice "国务院客户端 5月8日"
    fangkong import_risk_areas guizhou-1026.txt --start 2021-10-25 [--end 2021-11-10] [--as hq]

FILE is the State Council query page's JSON (highlist / middlelist / lowlist) or a province's
text bulletin (高风险地区（2个） / 内蒙古（1个）： / one area a line). Every area it names is
declared from --start (areas already in force are left alone), then each new area is swept.
Tabular lists (xlsx/csv) go through the import engine: `fangkong import risk_areas FILE`.

The command acts as --as USERNAME (a commander or administrator), by default as the system.
Unresolved names are printed and do not make it fail; a refused file or bad dates do.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from fangkong.core.exceptions import DomainError
from fangkong.travel.importers_risk import risk_list_import


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(_("日期格式应为 YYYY-MM-DD：%(value)s") % {"value": value}) from None


class Command(BaseCommand):
    help = _(
        "导入国务院客户端风险地区 JSON 或各省通报文本：import_risk_areas 文件 --start 起始日期 "
        "[--end 截止日期] [--notice 依据通告] [--as 用户名]；导入后对每个新地区回溯排查。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=_("JSON 或 .txt 文件"))
        parser.add_argument("--start", required=True, metavar="YYYY-MM-DD", help=_("起始日期"))
        parser.add_argument("--end", metavar="YYYY-MM-DD", help=_("截止日期（可选）"))
        parser.add_argument("--notice", default="", help=_("依据通告"))
        parser.add_argument(
            "--as",
            dest="username",
            metavar="USERNAME",
            help=_("以该用户身份导入（县指挥部或系统管理员；默认为系统）"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("找不到文件 %(path)s") % {"path": path})
        actor = None
        if options["username"]:
            actor = (
                get_user_model()
                ._default_manager.filter(username=options["username"], is_active=True)
                .first()
            )
            if actor is None:
                raise CommandError(
                    _("没有用户名为 %(name)s 的有效用户") % {"name": options["username"]}
                )
        try:
            result = risk_list_import(
                actor=actor,
                content=path.read_bytes(),
                start_date=_date(options["start"]),
                end_date=_date(options["end"]) if options["end"] else None,
                notice=options["notice"],
            )
        except DomainError as exc:
            details = "；".join(
                f"{field}: {'，'.join(str(m) for m in messages)}"
                for field, messages in exc.errors.items()
            )
            raise CommandError(details or str(exc.message)) from exc
        for note in result.notes:
            self.stderr.write(_("注意：%(note)s") % {"note": note})
        for where, text, message in result.errors:
            self.stdout.write(
                _("无法识别 %(where)s「%(text)s」：%(message)s")
                % {"where": where, "text": text[:80], "message": message}
            )
        self.stdout.write(
            _(
                "新登记 %(created)s 个风险地区，已在生效 %(unchanged)s 个，无法识别 %(errors)s 条；"
                "回溯排查 %(sweeps)s 次：找到 %(found)s 人，新提出管控措施 %(proposed)s 人，"
                "已有同等或更严措施 %(covered)s 人，转县外协查 %(outside)s 人。"
            )
            % {
                "created": len(result.created),
                "unchanged": result.unchanged,
                "errors": len(result.errors),
                "sweeps": len(result.sweeps),
                "found": result.found,
                "proposed": result.proposed,
                "covered": result.covered,
                "outside": result.outside,
            }
        )
