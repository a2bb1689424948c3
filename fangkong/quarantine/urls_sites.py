"""Pages of quarantine sites (/quarantine/): overview and forecast, a site's page, its rooms and
staff, transfers and moving home, settings."""

from django.urls import path

from . import views_sites as views

app_name = "quarantine_sites"
urlpatterns = [
    path("", views.site_list, name="list"),
    path("settings/", views.settings_page, name="settings"),
    path("sites/new/", views.site_new, name="new"),
    path("sites/<int:site_id>/", views.site_detail, name="detail"),
    path("sites/<int:site_id>/edit/", views.site_edit, name="edit"),
    path("sites/<int:site_id>/rooms/", views.site_rooms, name="rooms"),
    path("sites/<int:site_id>/rooms/add/", views.rooms_add, name="rooms_add"),
    path("sites/<int:site_id>/staff/", views.site_staff, name="staff"),
    path(
        "sites/<int:site_id>/staff/<int:user_id>/remove/", views.staff_remove, name="staff_remove"
    ),
    path("rooms/<int:room_id>/update/", views.room_update, name="room_update"),
    path("stays/<int:stay_id>/transfer/", views.transfer, name="transfer"),
    path("stays/<int:stay_id>/move-home/", views.move_home, name="move_home"),
    path("sites/<int:site_id>/assign/", views.assign, name="assign"),
    path("stays/<int:stay_id>/checkout/", views.checkout, name="checkout"),
    path("rooms/<int:room_id>/disinfected/", views.disinfected, name="disinfected"),
]
