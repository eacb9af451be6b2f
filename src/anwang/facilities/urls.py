"""Pages of the facilities domain."""

from django.urls import URLPattern

app_name = "facilities"
urlpatterns: list[URLPattern] = []
