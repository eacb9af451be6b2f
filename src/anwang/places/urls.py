"""Pages of the places domain."""

from django.urls import path  # noqa: F401

app_name = "places"
urlpatterns: list = []  # type: ignore[type-arg]
