from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "fangkong.imports"
    label = "imports"
    verbose_name = _("导入与导出")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Each app's importers.py registers its importers (@register) with the engine; the
        # engine sits below those apps, so it finds them here instead of importing them.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("importers")
