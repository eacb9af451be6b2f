from django.urls import path

from anwang.alerts import cap_views, views

app_name = "alerts"

urlpatterns = [
    # Safety alerts (views.py)
    path("", views.alert_list, name="list"),
    path("new/", views.alert_create, name="create"),
    path("preview/", views.reach_preview, name="preview"),
    path("mine/", views.my_alerts, name="mine"),
    path("<int:alert_id>/", views.alert_detail, name="detail"),
    path("<int:alert_id>/edit/", views.alert_edit, name="edit"),
    path("<int:alert_id>/publish/", views.alert_publish, name="publish"),
    path("<int:alert_id>/cancel/", views.alert_cancel, name="cancel"),
    path("<int:alert_id>/confirm/", views.alert_confirm, name="confirm"),
    path("<int:alert_id>/follow-up/", views.follow_up, name="follow_up"),
    path("<int:alert_id>/door-knocks/", views.door_knocks_create, name="knocks_create"),
    path("door-knocks/", views.my_door_knocks, name="knocks"),
    path("door-knocks/<int:task_id>/", views.door_knock, name="knock"),
    # CAP 1.2 out and in (cap_views.py)
    path("<int:alert_id>/cap.xml", cap_views.alert_cap, name="cap"),
    path("feed/<slug:community_slug>.atom", cap_views.atom_feed, name="feed"),
    path("incoming/", cap_views.incoming_list, name="incoming_list"),
    path("incoming/<int:incoming_id>/", cap_views.incoming_detail, name="incoming_detail"),
    path("incoming/<int:incoming_id>/relay/", cap_views.incoming_relay, name="incoming_relay"),
    path(
        "incoming/<int:incoming_id>/dismiss/", cap_views.incoming_dismiss, name="incoming_dismiss"
    ),
    path("cap-feeds/", cap_views.feed_list, name="feeds"),
    path("cap-feeds/new/", cap_views.feed_create, name="feed_create"),
    path("cap-feeds/<int:feed_id>/", cap_views.feed_edit, name="feed_edit"),
    path("cap-feeds/<int:feed_id>/delete/", cap_views.feed_delete, name="feed_delete"),
    path("cap-feeds/<int:feed_id>/fetch/", cap_views.feed_fetch, name="feed_fetch"),
]
