from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TravelConfig(AppConfig):
    name = "fangkong.travel"
    label = "travel"
    verbose_name = _("来返人员报备")
    default_auto_field = "django.db.models.BigAutoField"
