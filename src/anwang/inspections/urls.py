"""Pages of the inspections domain."""

from django.urls import URLPattern

app_name = "inspections"
urlpatterns: list[URLPattern] = []
