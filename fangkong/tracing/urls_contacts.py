"""Staff pages of a case's contacts (/tracing/contacts/): the section of the case page and its
actions (views_contacts)."""

from django.urls import path

from . import views_contacts as views

app_name = "contacts"
urlpatterns = [
    path("case/<int:case_id>/", views.case_contacts, name="case"),
    path("case/<int:case_id>/refresh/", views.refresh, name="refresh"),
    path("case/<int:case_id>/add/", views.add, name="add"),
    path("<int:contact_id>/decide/", views.decide, name="decide"),
    path("<int:contact_id>/coworkers/", views.coworkers, name="coworkers"),
    path("<int:contact_id>/secondaries/", views.secondaries, name="secondaries"),
]
