"""Cross-cutting pages."""

from django.urls import path

from anwang.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("my-work/", views.my_work_page, name="my_work"),
    path("switch-community/", views.switch_community, name="switch_community"),
    path("text-size/", views.toggle_large_text, name="toggle_large_text"),
    path("healthz", views.healthz, name="healthz"),
    path("live/stream", views.live_stream_page, name="live_stream"),
]
