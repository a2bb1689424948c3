"""Staff pages of checkpoints (/checkpoints/): list, coverage gaps, entry, detail with roster."""

from django.urls import path

from . import views_checkpoints as views

app_name = "checkpoints"
urlpatterns = [
    path("", views.checkpoint_list, name="list"),
    path("new/", views.checkpoint_create, name="create"),
    path("coverage/", views.coverage, name="coverage"),
    path("<int:checkpoint_id>/", views.checkpoint_detail, name="detail"),
    path("<int:checkpoint_id>/edit/", views.checkpoint_edit, name="edit"),
    path("<int:checkpoint_id>/deactivate/", views.checkpoint_deactivate, name="deactivate"),
    path("<int:checkpoint_id>/shifts/", views.shift_create, name="shift_create"),
    path("<int:checkpoint_id>/roster/", views.roster_create, name="roster_create"),
    path(
        "<int:checkpoint_id>/shifts/<int:shift_id>/delete/",
        views.shift_delete,
        name="shift_delete",
    ),
]
