from django.urls import path

from . import views

app_name = "policy"
urlpatterns = [
    path("", views.edition_list, name="list"),
    path("activate/", views.edition_activate, name="activate"),
    path("adjust/", views.edition_adjust, name="adjust"),
    path("editions/<slug:code>/", views.edition_detail, name="detail"),
]
