"""Pages of the responsibilities domain."""

from django.urls import URLPattern, path

from anwang.responsibilities import views

app_name = "responsibilities"
urlpatterns: list[URLPattern] = [
    path("", views.matrix, name="matrix"),
    path("gaps/", views.gaps, name="gaps"),
    path("new/", views.responsibility_create, name="create"),
    path("<int:responsibility_id>/", views.responsibility_edit, name="edit"),
    path("<int:responsibility_id>/delete/", views.responsibility_delete, name="delete"),
]
