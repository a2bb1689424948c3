"""Staff pages of cases (/tracing/): list, new, the case page and its forms, the Word report,
clusters and investigation teams."""

from django.urls import path

from . import views_cases as views

app_name = "tracing"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("cases/new/", views.case_create, name="create"),
    path("cases/<int:case_id>/", views.case_detail, name="detail"),
    path("cases/<int:case_id>/reclassify/", views.case_reclassify, name="reclassify"),
    path("cases/<int:case_id>/cluster/", views.case_set_cluster, name="set_cluster"),
    path("cases/<int:case_id>/assign/", views.investigation_assign, name="assign"),
    path("cases/<int:case_id>/conclude/", views.investigation_conclude, name="conclude"),
    path("cases/<int:case_id>/timeline/", views.timeline_add, name="timeline_add"),
    path("cases/<int:case_id>/timeline/import/", views.timeline_import, name="timeline_import"),
    path(
        "cases/<int:case_id>/timeline/<int:entry_id>/remove/",
        views.timeline_remove,
        name="timeline_remove",
    ),
    path("cases/<int:case_id>/report.docx", views.case_report, name="report"),
    path("clusters/", views.cluster_list, name="clusters"),
    path("clusters/<int:cluster_id>/", views.cluster_detail, name="cluster_detail"),
    path("teams/", views.team_list, name="teams"),
]
