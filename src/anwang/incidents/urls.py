"""Pages of the incidents domain."""

from django.urls import URLPattern, path

from anwang.incidents import views

app_name = "incidents"
urlpatterns: list[URLPattern] = [
    path("", views.incident_list, name="list"),
    path("declare/", views.declare, name="declare"),
    path("from-alarm/<int:alarm_id>/", views.declare_from_alarm, name="declare_from_alarm"),
    path("<int:incident_id>/", views.detail, name="detail"),
    path("<int:incident_id>/tasks/", views.tasks_fragment, name="tasks"),
    path("<int:incident_id>/tasks/add/", views.task_add, name="task_add"),
    path("<int:incident_id>/timeline/", views.timeline_fragment, name="timeline"),
    path("<int:incident_id>/zones.geojson", views.map_zones, name="map_zones"),
    path("<int:incident_id>/points.geojson", views.map_points, name="map_points"),
    path("<int:incident_id>/note/", views.note_add, name="note_add"),
    path("<int:incident_id>/alarms/", views.alarm_link, name="alarm_link"),
    path("<int:incident_id>/participants/", views.participant_add, name="participant_add"),
    path("<int:incident_id>/close/", views.close, name="close"),
    path("<int:incident_id>/review/", views.review_edit, name="review_edit"),
    path("<int:incident_id>/action-items/", views.action_item_add, name="action_item_add"),
    path("tasks/<int:task_id>/<slug:action>/", views.task_action, name="task_action"),
    path("action-items/<int:item_id>/done/", views.action_item_done, name="action_item_done"),
    path(
        "action-items/<int:item_id>/revise-plan/",
        views.action_item_revise_plan,
        name="action_item_revise_plan",
    ),
]
