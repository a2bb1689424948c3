from django.urls import path

from . import views_verify

app_name = "quarantine_verify"
urlpatterns = [
    path("<str:code>/", views_verify.verify, name="verify"),
]
