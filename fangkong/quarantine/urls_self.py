"""The public personal link of health checks (/h/<token>/): no login."""

from django.urls import path

from . import views_self

app_name = "quarantine_self"
urlpatterns = [path("<str:token>/", views_self.self_page, name="page")]
