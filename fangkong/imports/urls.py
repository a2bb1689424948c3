from django.urls import path

from . import views

app_name = "imports"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("new/", views.job_new, name="new"),
    path("templates/<slug:kind>.xlsx", views.kind_template, name="template"),
    path("<int:job_id>/", views.job_detail, name="detail"),
    path("<int:job_id>/progress/", views.job_progress, name="progress"),
    path("<int:job_id>/errors.xlsx", views.job_errors, name="errors"),
    path("<int:job_id>/resume/", views.job_resume, name="resume"),
    path("<int:job_id>/rollback/", views.job_rollback, name="rollback"),
]
