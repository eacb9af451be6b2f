"""Pages of the events domain."""

from django.urls import path

from anwang.events import views

app_name = "events"
urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("pipeline/", views.pipeline, name="pipeline"),
    path("dead-letters/", views.dead_letter_list, name="dead_letter_list"),
    path(
        "dead-letters/<int:pk>/reprocess/",
        views.dead_letter_reprocess,
        name="dead_letter_reprocess",
    ),
]
