from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PolicyConfig(AppConfig):
    name = "fangkong.policy"
    label = "policy"
    verbose_name = _("防控方案与风险地区")
    default_auto_field = "django.db.models.BigAutoField"
