from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TravelConfig(AppConfig):
    name = "fangkong.travel"
    label = "travel"
    verbose_name = _("来返人员报备")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The import engine discovers each app's `importers` module; the risk-area list
        # importer lives in its own module and registers itself when imported.
        from . import importers_risk  # noqa: F401
