"""Pages of the patrols domain."""

from django.urls import path

from anwang.patrols import monitor_views, runs, schedule_views, views

app_name = "patrols"
urlpatterns = [
    path("", views.checkpoint_list, name="checkpoint_list"),
    path("checkpoints/create/", views.checkpoint_create, name="checkpoint_create"),
    path("checkpoints/sheet.pdf", views.checkpoint_sheet, name="checkpoint_sheet"),
    path("checkpoints/<int:pk>/", views.checkpoint_detail, name="checkpoint_detail"),
    path("checkpoints/<int:pk>/edit/", views.checkpoint_edit, name="checkpoint_edit"),
    path("checkpoints/<int:pk>/retire/", views.checkpoint_retire, name="checkpoint_retire"),
    path("checkpoints/<int:pk>/reissue/", views.checkpoint_reissue, name="checkpoint_reissue"),
    path("map.geojson", views.map_geojson, name="map_geojson"),
    path("routes/", views.route_list, name="route_list"),
    path("routes/create/", views.route_create, name="route_create"),
    path("routes/<int:pk>/", views.route_detail, name="route_detail"),
    path("routes/<int:pk>/edit/", views.route_edit, name="route_edit"),
    path("routes/<int:pk>/delete/", views.route_delete, name="route_delete"),
    path("routes/<int:pk>/stops/", views.route_stops_change, name="route_stops_change"),
    path("runs/", runs.run_list, name="run_list"),
    path("runs/start/", runs.run_start, name="run_start"),
    path("runs/<int:pk>/", runs.run_detail, name="run_detail"),
    path("runs/<int:pk>/go/", runs.run_go, name="run_go"),
    path("runs/<int:pk>/check-in/", runs.run_check_in, name="run_check_in"),
    path("runs/<int:pk>/finish/", runs.run_finish, name="run_finish"),
    path("runs/<int:pk>/abandon/", runs.run_abandon, name="run_abandon"),
    path("runs/<int:pk>/map.geojson", runs.run_geojson, name="run_geojson"),
    path("check-ins/<int:pk>/photo", runs.check_in_photo, name="check_in_photo"),
    path("sw.js", runs.service_worker, name="service_worker"),
    path("board/", monitor_views.board, name="monitor_board"),
    path("reports/", monitor_views.report, name="monitor_report"),
    path("schedules/", schedule_views.schedule_list, name="schedule_list"),
    path("schedules/create/", schedule_views.schedule_create, name="schedule_create"),
    path("schedules/<int:pk>/edit/", schedule_views.schedule_edit, name="schedule_edit"),
    path("schedules/<int:pk>/delete/", schedule_views.schedule_delete, name="schedule_delete"),
    path("schedules/<int:pk>/start/", schedule_views.shift_start, name="shift_start"),
    path("schedules.ics", schedule_views.schedules_ics, name="schedules_ics"),
    path("my-shifts/", schedule_views.my_shifts, name="my_shifts"),
    path("my-shifts.ics", schedule_views.my_shifts_ics, name="my_shifts_ics"),
    path("my-shifts/calendar-link/", schedule_views.calendar_link, name="calendar_link"),
    path("calendar/<str:token>.ics", schedule_views.calendar_feed, name="calendar_feed"),
]
