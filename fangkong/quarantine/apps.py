from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuarantineConfig(AppConfig):
    name = "fangkong.quarantine"
    label = "quarantine"
    verbose_name = _("集中隔离与健康监测")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Plug-ins, not signals: the release conditions control.order_release asks, and the
        # periodic jobs `fangkong loop_worker` runs (alerts, escalation, test schedules).
        from . import hooks

        hooks.register()
