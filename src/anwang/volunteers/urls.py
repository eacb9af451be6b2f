"""Pages of the volunteers domain."""

from django.urls import URLPattern

app_name = "volunteers"
urlpatterns: list[URLPattern] = []
