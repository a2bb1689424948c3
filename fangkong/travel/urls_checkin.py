"""The public check-in page a venue QR code opens (no login): /v/<place code>/."""

from django.urls import re_path

from . import views_checkin

app_name = "checkin"
urlpatterns = [
    re_path(r"^(?P<code>[0-9A-Za-z]{4,16})/$", views_checkin.checkin_page, name="page"),
    re_path(r"^(?P<code>[0-9A-Za-z]{4,16})/out/$", views_checkin.checkout, name="checkout"),
]
