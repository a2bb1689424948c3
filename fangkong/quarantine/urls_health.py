"""Staff pages of home measures and health checks (/quarantine/home/)."""

from django.urls import path

from . import views_health as views

app_name = "quarantine_health"
urlpatterns = [
    path("", views.home_list, name="home"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:alert_id>/resolve/", views.alert_resolve, name="alert_resolve"),
    path("orders/<int:order_id>/check/", views.check_record, name="check"),
    path("orders/<int:order_id>/visit/", views.visit_record, name="visit"),
    path("orders/<int:order_id>/link/", views.link_page, name="link"),
    path("visits/<int:visit_id>/photo", views.visit_photo, name="visit_photo"),
    path("site/<int:site_id>/checks/", views.site_checks, name="site_checks"),
]
