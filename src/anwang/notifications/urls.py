"""Pages of the notifications domain."""

from django.urls import URLPattern, path

from anwang.notifications import views

app_name = "notifications"
urlpatterns: list[URLPattern] = [
    path("", views.inbox, name="inbox"),
    path("read/", views.read, name="read"),
    path("<int:notification_id>/confirm/", views.confirm, name="confirm"),
    path("preferences/", views.preferences, name="preferences"),
    path("channels/", views.channel_list, name="channels"),
    path("channels/new/", views.channel_create, name="channel_create"),
    path("channels/<int:config_id>/", views.channel_edit, name="channel_edit"),
    path("channels/<int:config_id>/delete/", views.channel_delete, name="channel_delete"),
    path("channels/<int:config_id>/test/", views.channel_test, name="channel_test"),
    path("deliveries/", views.delivery_report, name="deliveries"),
]
