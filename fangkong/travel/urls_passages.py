"""过卡登记 pages (/passages/): list and counts, the form at the barrier, the result page."""

from django.urls import path

from . import views_passages

app_name = "passages"
urlpatterns = [
    path("", views_passages.passage_list, name="list"),
    path("new/", views_passages.passage_create, name="create"),
    path("<int:passage_id>/", views_passages.passage_detail, name="detail"),
]
