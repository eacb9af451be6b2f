"""Pages of the audit domain."""

from django.urls import URLPattern, path

from anwang.audit import views

app_name = "audit"
urlpatterns: list[URLPattern] = [
    path("", views.event_list, name="event_list"),
    path("<int:event_id>/", views.event_detail, name="event_detail"),
    path("verify/", views.verify, name="verify"),
]
