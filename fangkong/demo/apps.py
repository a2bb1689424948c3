from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo county: a deterministic population on a real county's division tree."""

    name = "fangkong.demo"
    label = "demo"
    verbose_name = _("演示数据")
    default_auto_field = "django.db.models.BigAutoField"
