"""Pages under /tracing/chains/: the chains (graph + list) and the graph's data."""

from django.urls import path

from . import views_graph

app_name = "chains"
urlpatterns = [
    path("", views_graph.index, name="index"),
    path("data.json", views_graph.data, name="data"),
]
