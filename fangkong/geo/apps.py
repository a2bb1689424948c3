from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GeoConfig(AppConfig):
    name = "fangkong.geo"
    label = "geo"
    verbose_name = _("区划与网格")
    default_auto_field = "django.db.models.BigAutoField"
