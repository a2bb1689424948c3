"""Staff pages of arrivals (/arrivals/): list, entry, detail, HQ view, QR posters, assist requests."""

from django.urls import path, re_path

from . import views

app_name = "travel"
urlpatterns = [
    path("", views.arrival_list, name="list"),
    path("new/", views.arrival_create, name="create"),
    path("hq/", views.arrival_hq, name="hq"),
    path("<int:arrival_id>/", views.arrival_detail, name="detail"),
    path("qr/", views.qr_list, name="qr_list"),
    re_path(r"^qr/(?P<code>[0-9]{6,15})\.png$", views.qr_png, name="qr_png"),
    re_path(r"^qr/(?P<code>[0-9]{6,15})/$", views.qr_poster, name="qr_poster"),
    path("assist/", views.assist_list, name="assist_list"),
    path("assist/new/", views.assist_create, name="assist_create"),
    path("assist/import/", views.assist_import, name="assist_import"),
    path("assist/<int:request_id>/", views.assist_detail, name="assist_detail"),
    path("assist/<int:request_id>/letter.docx", views.assist_letter, name="assist_letter"),
    path("assist/<int:request_id>/send/", views.assist_send, name="assist_send"),
    path("assist/<int:request_id>/close/", views.assist_close, name="assist_close"),
    path(
        "assist/<int:request_id>/entries/<int:entry_id>/feedback/",
        views.assist_feedback,
        name="assist_feedback",
    ),
]
