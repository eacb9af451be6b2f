"""Pages of the rosters domain."""

from django.urls import URLPattern

app_name = "rosters"
urlpatterns: list[URLPattern] = []
