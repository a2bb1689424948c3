from django.urls import path  # noqa: F401

app_name = "quarantine_self"
urlpatterns: list = []
