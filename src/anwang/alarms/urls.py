"""Pages of the alarms domain."""

from django.urls import path

from anwang.alarms import console, guard, handover, views

app_name = "alarms"
urlpatterns = [
    path("", views.alarm_list, name="alarm_list"),
    path("export/", views.alarm_export, name="alarm_export"),
    path("stats/", views.alarm_stats, name="alarm_stats"),
    path("response-times/", views.response_times, name="response_times"),
    path("<int:pk>/", views.alarm_detail, name="alarm_detail"),
    path("<int:pk>/snapshot.jpg", views.alarm_snapshot, name="alarm_snapshot"),
    path("<int:pk>/<slug:action>/", views.alarm_action, name="alarm_action"),
]

# --- the guard's phone page and the shift handover (issue 5, items 4 and 5)
urlpatterns += [
    path("mine/", guard.guard_mine, name="guard_mine"),
    path("mine/<int:pk>/<slug:action>/", guard.guard_action, name="guard_action"),
    path("handover/", handover.handover_page, name="handover"),
    path("handover/log/", handover.handover_log, name="handover_log"),
    path(
        "handover/<int:pk>/acknowledge/",
        handover.handover_acknowledge,
        name="handover_acknowledge",
    ),
]

# The operator console (anwang.alarms.console).
urlpatterns += [
    path("console/", console.console, name="console"),
    path("console/queue/", console.console_queue_fragment, name="console_queue"),
    path("console/<int:pk>/", console.console_panel, name="console_panel"),
    path("console/<int:pk>/row/", console.console_row, name="console_row"),
    path("console/<int:pk>/<slug:action>/", console.console_action, name="console_action"),
]
