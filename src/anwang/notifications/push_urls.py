"""Browser push endpoints, included at ``push/``."""

from django.urls import URLPattern, path

from anwang.notifications import push_views

app_name = "push"
urlpatterns: list[URLPattern] = [
    path("key/", push_views.public_key, name="public_key"),
    path("subscribe/", push_views.subscribe, name="subscribe"),
    path("unsubscribe/", push_views.unsubscribe, name="unsubscribe"),
    path("sw.js", push_views.service_worker, name="service_worker"),
]
