"""/risk-areas/: the risk-area list, its forms, what a sweep found, list imports."""

from django.urls import path

from . import risk_views as views

app_name = "risk"
urlpatterns = [
    path("", views.risk_area_list_view, name="list"),
    path("new/", views.risk_area_create_view, name="create"),
    path("import/", views.risk_import_view, name="import"),
    path("<int:area_id>/", views.risk_area_detail, name="detail"),
    path("<int:area_id>/edit/", views.risk_area_edit_view, name="edit"),
    path("<int:area_id>/end/", views.risk_area_end_view, name="end"),
    path("<int:area_id>/downgrade/", views.risk_area_downgrade_view, name="downgrade"),
    path("sweeps/<int:sweep_id>/", views.sweep_detail, name="sweep"),
]
