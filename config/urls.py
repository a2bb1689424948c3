from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from fangkong.api.urls import api

# The API and the public scan pages come first: they take the most requests, and Django tries
# the patterns in order (the pages' patterns below never match under api/v1/, v/ or r/).
urlpatterns = [
    path("healthz", include("fangkong.core.urls")),
    path("api/v1/", api.urls),
    path("v/", include("fangkong.travel.urls_checkin")),
    path("r/", include("fangkong.travel.urls_public")),
    path("h/", include("fangkong.quarantine.urls_self")),
    path("q/", include("fangkong.quarantine.urls_verify")),
    path("", include("fangkong.reports.urls")),
    path("accounts/", include("fangkong.accounts.urls")),
    path("people/", include("fangkong.people.urls")),
    path("geo/", include("fangkong.geo.urls")),
    path("imports/", include("fangkong.imports.urls")),
    path("policy/", include("fangkong.policy.urls")),
    path("loop/", include("fangkong.control.urls")),
    path("arrivals/", include("fangkong.travel.urls")),
    path("risk-areas/", include("fangkong.travel.urls_risk")),
    path("checkpoints/", include("fangkong.travel.urls_checkpoints")),
    path("passages/", include("fangkong.travel.urls_passages")),
    path("places/", include("fangkong.places.urls")),
    path("tracing/", include("fangkong.tracing.urls_cases")),
    path("tracing/contacts/", include("fangkong.tracing.urls_contacts")),
    path("tracing/chains/", include("fangkong.tracing.urls_graph")),
    path("quarantine/", include("fangkong.quarantine.urls_sites")),
    path("quarantine/home/", include("fangkong.quarantine.urls_health")),
    path("quarantine/tests/", include("fangkong.quarantine.urls_tests")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:  # pragma: no cover
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
