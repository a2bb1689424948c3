"""`fangkong loop_worker`: the background side of the arrival loop, in one process.

Every second (--every) it registers the self-reports the public page stored (in batches:
person, rule lookup, measure, the grid worker's task) and hands the flagged occupants of
checkpoint passages to the loop the same way; every 10 seconds (--follow-up-every) it sweeps
risk areas declared a minute ago once more, after the checkpoints' lookup caches have expired
(travel.sweep.sweeps_follow_up); every minute (--escalate-every) it
escalates late loop steps up the chain (control's loop_escalate, as `fangkong loop_tick`
does) and purges expired rate-limit counters. `--once` runs one pass of each and stops (for
cron or a test). `make demo` and `make serve` start it next to the web server. Acts as the
system (actor None); prints a line whenever it did something.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from fangkong.control.services import loop_escalate
from fangkong.core import periodic, timeutils
from fangkong.travel.ratelimit import rate_counters_purge
from fangkong.travel.services import self_reports_process
from fangkong.travel.services_passages import passages_process
from fangkong.travel.sweep import sweeps_follow_up


class Command(BaseCommand):
    help = "闭环后台：登记扫码报备、卡口需处置人员转入闭环（每秒），逾期环节逐级上报（每分钟）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every", type=float, default=1.0, metavar="SECONDS", help="登记扫码报备的间隔（秒）"
        )
        parser.add_argument(
            "--escalate-every",
            type=float,
            default=60.0,
            metavar="SECONDS",
            help="逾期上报的间隔（秒）",
        )
        parser.add_argument(
            "--follow-up-every",
            type=float,
            default=10.0,
            metavar="SECONDS",
            help="新发布风险地区的补充回溯排查的检查间隔（秒）",
        )
        parser.add_argument("--once", action="store_true", help="各执行一次后退出")

    def _say(self, message: str) -> None:
        stamp = timeutils.local_now().strftime("%Y-%m-%d %H:%M:%S")
        self.stdout.write(f"{stamp} {message}")

    def _drain(self, process: Any, message: str) -> None:
        """Call `process` until it finds nothing left; say how much it did."""
        done = failed = 0
        while True:
            counts = process(actor=None)
            if not counts["done"] + counts["failed"]:
                break
            done += counts["done"]
            failed += counts["failed"]
        if done or failed:
            self._say(message % {"done": done, "failed": failed})

    def _register(self) -> None:
        self._drain(self_reports_process, _("登记扫码报备 %(done)s 条，失败 %(failed)s 条"))
        self._drain(
            passages_process, _("卡口需处置人员转入闭环 %(done)s 车次，失败 %(failed)s 车次")
        )

    def _follow_up(self) -> None:
        for sweep in sweeps_follow_up(actor=None):
            self._say(
                _("风险地区补充回溯排查：找到 %(found)s 人，新提出管控措施 %(proposed)s 条")
                % {"found": sweep.found, "proposed": sweep.orders_proposed}
            )

    def _escalate(self) -> None:
        count = loop_escalate(actor=None)
        rate_counters_purge()
        if count:
            self._say(_("新上报 %(n)s 条逾期环节") % {"n": count})

    def handle(self, *args: Any, **options: Any) -> None:
        every, escalate_every = options["every"], options["escalate_every"]
        follow_up_every = options["follow_up_every"]
        if every <= 0 or escalate_every <= 0 or follow_up_every <= 0:
            raise CommandError(_("间隔须为正数（秒）"))
        last_escalation = last_follow_up = float("-inf")
        last_run: dict[str, float] = {}
        while True:
            self._register()
            if time.monotonic() - last_follow_up >= follow_up_every:
                self._follow_up()
                last_follow_up = time.monotonic()
            if time.monotonic() - last_escalation >= escalate_every:
                self._escalate()
                last_escalation = time.monotonic()
            for job in periodic.jobs():  # contributed by other apps (core.periodic)
                if time.monotonic() - last_run.get(job.name, float("-inf")) >= job.every_seconds:
                    count = job.run(timeutils.now())
                    if count:
                        self._say(f"{job.label or job.name}: {count}")
                    last_run[job.name] = time.monotonic()
            if options["once"]:
                return
            try:
                time.sleep(every)
            except KeyboardInterrupt:  # pragma: no cover - interactive stop
                return
