from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.home, name="home"),
    path("divisions/", views.divisions, name="divisions"),
    path("divisions/<str:code>/", views.division, name="division"),
    path("divisions/<str:code>/children/", views.division_children, name="division_children"),
    path("divisions/<str:code>/geojson/", views.division_geojson, name="division_geojson"),
    path("audit/", views.audit, name="audit"),
]
