from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    name = "fangkong.places"
    label = "places"
    verbose_name = _("重点场所与场所码")
    default_auto_field = "django.db.models.BigAutoField"
