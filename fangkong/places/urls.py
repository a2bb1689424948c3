"""Staff pages of the place registry, mounted at /places/ (namespace "places")."""

from django.urls import path

from . import views

app_name = "places"
urlpatterns = [
    path("", views.place_list_view, name="list"),
    path("new/", views.place_new, name="new"),
    path("stay-rules/", views.stay_rules, name="stay_rules"),
    path("<int:place_id>/", views.place_detail, name="detail"),
    path("<int:place_id>/edit/", views.place_edit, name="edit"),
    path("<int:place_id>/close/", views.place_close_view, name="close"),
    path("<int:place_id>/reopen/", views.place_reopen_view, name="reopen"),
    path("<int:place_id>/poster.png", views.place_poster_png, name="poster_png"),
    path("<int:place_id>/poster.pdf", views.place_poster_pdf, name="poster_pdf"),
]
