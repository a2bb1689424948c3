"""`fangkong loop_tick [--every SECONDS]`: escalate the loop's late steps.

Without --every it runs once (for cron); with it, it runs until interrupted, one pass every
SECONDS. Each pass prints how many escalations it wrote. Acts as the system (actor None).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from fangkong.control.services import loop_escalate
from fangkong.core import timeutils


class Command(BaseCommand):
    help = "逾期环节逐级上报（村 → 镇 → 县）。--every 秒数：循环执行。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every", type=int, default=0, metavar="SECONDS", help="每隔多少秒执行一次（循环）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        every = options["every"]
        if every < 0:
            raise CommandError(_("--every 须为正整数（秒）"))
        while True:
            count = loop_escalate(actor=None)
            stamp = timeutils.local_now().strftime("%Y-%m-%d %H:%M:%S")
            self.stdout.write(_("%(at)s 新上报 %(n)s 条逾期环节") % {"at": stamp, "n": count})
            if not every:
                return
            try:
                time.sleep(every)
            except KeyboardInterrupt:  # pragma: no cover - interactive stop
                return
