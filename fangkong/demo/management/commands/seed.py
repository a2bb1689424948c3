"""`fangkong seed --county 610326 --people 33000 --seed 2020 [--reset]`: the demo county.

Same county, people and seed => the same people, ID numbers and phones. Then the closed loop
of the demo (demo_seed_loop): the 9th edition in force, risk areas, arrivals for 0.5% of the
people with their proposed measures and inbox tasks, and a sweep; and a small outbreak
(demo_seed_outbreak): a confirmed case in a market cluster with its check-ins, the candidates
the engine finds and the household decided close contacts. Progress goes to stderr;
the shared password and a table of the logins go to stdout at the end.
"""

from __future__ import annotations

import time
import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from fangkong.core.exceptions import DomainError
from fangkong.demo.services import (
    MAX_PEOPLE,
    LoopSeedResult,
    OutbreakSeedResult,
    demo_seed,
    demo_seed_loop,
    demo_seed_outbreak,
)


class ProgressBar:
    """A one-line progress bar on stderr (redrawn in place on a terminal)."""

    WIDTH = 30

    def __init__(self, stream: Any) -> None:
        self.stream = stream  # the command's OutputWrapper for stderr
        self.tty = stream.isatty()
        self.stage = ""
        self.last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        finished = done >= total
        if not self.tty and not finished:
            return  # logs get one line per stage
        if self.tty and not finished and stage == self.stage and now - self.last < 0.1:
            return
        self.stage, self.last = stage, now
        share = done / total if total else 1.0
        filled = int(self.WIDTH * share)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        line = f"{_pad(stage, 12)} [{bar}] {done:>9,}/{total:,} {share:6.1%}"
        if self.tty:
            line = "\r" + line + ("\n" if finished else "")
        else:
            line += "\n"
        self.stream.write(line, style_func=str, ending="")
        self.stream.flush()


def _bbox(value: str) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(v) for v in value.split(","))
    except ValueError as exc:
        raise CommandError(
            _("--bbox 应为 西经度,南纬度,东经度,北纬度，例如 107.6,34.05,108.1,34.35")
        ) from exc
    return west, south, east, north


class Command(BaseCommand):
    help = (
        "在真实县级区划上生成确定性的演示数据：小网格、住户、人员、网格员、四包抓责任人、"
        "各角色登录账号和地图边界。相同的 --seed 与 --people 生成完全相同的数据。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--county", default="610326", help="县级区划代码（默认眉县 610326）")
        parser.add_argument(
            "--people", type=int, default=33000, help=f"人数（1 到 {MAX_PEOPLE:,}，默认 33000）"
        )
        parser.add_argument("--seed", type=int, default=2020, help="随机种子（默认 2020）")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="库中已有人员、住户、网格员、包抓责任人、小网格或演示账号时，先清除再生成",
        )
        parser.add_argument(
            "--password", default=None, help="演示账号的共用密码（默认随机生成并打印）"
        )
        parser.add_argument(
            "--bbox",
            default=None,
            help="县域范围 西经度,南纬度,东经度,北纬度（眉县已内置，其他县用于绘制地图）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        progress = ProgressBar(self.stderr) if verbosity >= 1 else None
        bbox = _bbox(options["bbox"]) if options["bbox"] else None
        try:
            result = demo_seed(
                actor=None,
                county_code=options["county"],
                people=options["people"],
                seed=options["seed"],
                reset=options["reset"],
                password=options["password"],
                bbox=bbox,
                progress=progress,
            )
            loop = demo_seed_loop(actor=None, county_code=result.county_code, seed=options["seed"])
            outbreak = demo_seed_outbreak(
                actor=None, county_code=result.county_code, seed=options["seed"]
            )
        except DomainError as exc:
            details = "; ".join(f"{f}: {'，'.join(map(str, m))}" for f, m in exc.errors.items())
            raise CommandError(f"{exc.message}{' ' + details if details else ''}") from exc
        if verbosity == 0:
            return
        out = self.stdout
        if result.reused:
            out.write(
                _(
                    "库中已是同一县、同样人数和种子的演示数据（%(people)s 人），未重建；"
                    "已为演示账号设置新的共用密码。要重建请加 --reset。"
                )
                % {"people": f"{result.people:,}"}
            )
        if result.imported:
            out.write(_("已从全国区划表导入县 %(code)s 的镇村。") % {"code": result.county_code})
        if result.reset:
            out.write(
                _("已清除旧的演示数据：%(counts)s")
                % {"counts": "，".join(f"{k} {v:,}" for k, v in result.reset.items())}
            )
        if not result.reused:
            self._summary(result)
        self._loop_summary(loop)
        self._outbreak_summary(outbreak)
        out.write("")
        out.write(_("演示账号（共用密码）：%(password)s") % {"password": result.password})
        width = max(_width(lg.username) for lg in result.logins)
        role_width = max(_width(lg.role_label) for lg in result.logins)
        out.write(f"{_pad(_('用户名'), width)}  {_pad(_('角色'), role_width)}  {_('管辖范围')}")
        for login in result.logins:
            out.write(
                f"{_pad(login.username, width)}  {_pad(login.role_label, role_width)}  "
                f"{login.jurisdiction}"
            )
        if verbosity >= 2:
            out.write(
                "  ".join(f"{k}={v:.2f}" for k, v in result.timings.items()),
            )

    def _summary(self, result: Any) -> None:
        out = self.stdout
        out.write(
            _(
                "已生成：%(people)s 人，%(households)s 户，%(grids)s 个小网格，"
                "%(workers)s 名网格员，%(resp)s 条四包抓责任，用时 %(seconds).1f 秒。"
            )
            % {
                "people": f"{result.people:,}",
                "households": f"{result.households:,}",
                "grids": f"{result.small_grids:,}",
                "workers": f"{result.grid_workers:,}",
                "resp": f"{result.responsibilities:,}",
                "seconds": result.timings.get("total_s", 0.0),
            }
        )
        out.write(
            _("覆盖盲区（演示用）：%(blind)s 个小网格无网格员，%(over)s 名网格员超负荷。")
            % {"blind": len(result.blind_grids), "over": len(result.overloaded_workers)}
        )

    def _outbreak_summary(self, outbreak: OutbreakSeedResult) -> None:
        if outbreak.skipped:
            return
        self.stdout.write(
            _(
                "流调演示：病例 %(case)s（聚集性疫情 %(cluster)s），%(checkins)s 条场所码登记，"
                "找到 %(candidates)s 名候选接触者，%(close)s 名同住人员已判定为密接。"
            )
            % {
                "case": outbreak.case_code,
                "cluster": outbreak.cluster_code,
                "checkins": outbreak.checkins,
                "candidates": outbreak.candidates,
                "close": outbreak.close_contacts,
            }
        )

    def _loop_summary(self, loop: LoopSeedResult) -> None:
        if loop.skipped:
            return
        self.stdout.write(
            _(
                "闭环演示：%(edition)s 自 %(since)s 起执行；%(areas)s 个风险地区；"
                "%(arrivals)s 名来返人员报备，%(orders)s 条待确认管控措施，"
                "%(tasks)s 项网格员待办；回溯排查找到 %(found)s 人。"
            )
            % {
                "edition": loop.edition_name,
                "since": loop.effective_from.isoformat(),
                "areas": loop.risk_areas,
                "arrivals": f"{loop.arrivals:,}",
                "orders": f"{loop.orders:,}",
                "tasks": f"{loop.tasks:,}",
                "found": loop.sweep_found,
            }
        )


def _width(text: str) -> int:
    """Columns on a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
