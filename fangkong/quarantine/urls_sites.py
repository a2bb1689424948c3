"""Pages of quarantine sites (/quarantine/): overview and forecast, a site's page, settings."""

from django.urls import path

from . import views_sites as views

app_name = "quarantine_sites"
urlpatterns = [
    path("", views.site_list, name="list"),
    path("settings/", views.settings_page, name="settings"),
    path("sites/<int:site_id>/", views.site_detail, name="detail"),
    path("sites/<int:site_id>/assign/", views.assign, name="assign"),
    path("stays/<int:stay_id>/checkout/", views.checkout, name="checkout"),
    path("rooms/<int:room_id>/disinfected/", views.disinfected, name="disinfected"),
]
