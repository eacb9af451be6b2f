"""Pages of the training domain."""

from django.urls import URLPattern

app_name = "training"
urlpatterns: list[URLPattern] = []
