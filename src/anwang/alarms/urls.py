"""Pages of the alarms domain."""

from django.urls import path

from anwang.alarms import views

app_name = "alarms"
urlpatterns = [
    path("", views.alarm_list, name="alarm_list"),
    path("export/", views.alarm_export, name="alarm_export"),
    path("stats/", views.alarm_stats, name="alarm_stats"),
    path("response-times/", views.response_times, name="response_times"),
    path("<int:pk>/", views.alarm_detail, name="alarm_detail"),
    path("<int:pk>/<slug:action>/", views.alarm_action, name="alarm_action"),
]
