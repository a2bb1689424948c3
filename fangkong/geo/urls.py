from django.urls import path

from . import views

app_name = "geo"
urlpatterns = [
    path("divisions/<str:code>/new/", views.division_create, name="division_create"),
    path("divisions/<str:code>/edit/", views.division_edit, name="division_edit"),
    path("import/", views.division_import, name="division_import"),
    path("import/template.csv", views.division_import_template, name="division_import_template"),
]
