from django.urls import path

from . import views

app_name = "control"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("steps/<int:step_id>/complete/", views.step_complete, name="step_complete"),
    path("overview/", views.overview, name="overview"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/<int:order_id>/", views.order_detail, name="order_detail"),
    path("orders/<int:order_id>/confirm/", views.order_confirm, name="order_confirm"),
    path("orders/<int:order_id>/change/", views.order_change, name="order_change"),
    path("orders/<int:order_id>/cancel/", views.order_cancel, name="order_cancel"),
    path("orders/<int:order_id>/transfer-out/", views.order_transfer, name="order_transfer"),
    path("orders/<int:order_id>/advance-phase/", views.order_advance, name="order_advance"),
    path("orders/<int:order_id>/release/", views.order_release, name="order_release"),
    path("settings/", views.loop_settings, name="settings"),
]
