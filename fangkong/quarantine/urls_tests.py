from django.urls import path

from . import views_tests

app_name = "quarantine_tests"
urlpatterns = [
    path("", views_tests.task_list, name="list"),
    path("<int:task_id>/sampled/", views_tests.task_sampled, name="sampled"),
    path("<int:task_id>/result/", views_tests.task_result, name="result"),
    path("orders/<int:order_id>/release/", views_tests.order_release, name="release"),
    path("orders/<int:order_id>/notice.pdf", views_tests.notice_pdf, name="notice_pdf"),
    path(
        "certificates/<int:certificate_id>.pdf",
        views_tests.certificate_pdf,
        name="certificate_pdf",
    ),
]
