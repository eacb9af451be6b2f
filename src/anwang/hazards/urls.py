"""Pages of the hazards domain."""

from django.urls import URLPattern

app_name = "hazards"
urlpatterns: list[URLPattern] = []
