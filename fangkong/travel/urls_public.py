"""The public self-report pages (no login): /r/<county or village code>/ and the cascader data."""

from django.urls import path, re_path

from . import public

app_name = "selfreport"
urlpatterns = [
    path("regions.json", public.regions, name="regions"),
    re_path(r"^(?P<code>[0-9]{6,15})/$", public.self_report, name="form"),
]
