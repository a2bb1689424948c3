"""`fangkong policy_presets`: create or refresh the six national editions from policy/presets.py.

Migration 0002_national_presets loads them once; run this after changing presets.py. Measures
already issued keep their own copies of the phases, so a refresh never rewrites one. The
command line acts as the system (actor=None) in the audit log.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from fangkong.policy.services import edition_presets_refresh


class Command(BaseCommand):
    help = "创建或刷新六个国家防控方案版本（第七版至新十条），数据见 fangkong/policy/presets.py。"

    def handle(self, *args: Any, **options: Any) -> None:
        created, updated = edition_presets_refresh(actor=None)
        self.stdout.write(
            _("国家方案：新建 %(created)s 个，更新 %(updated)s 个。")
            % {"created": created, "updated": updated}
        )
