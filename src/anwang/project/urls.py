"""URL map: pages of every app, the API, the admin, health."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from anwang.project.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("anwang.core.urls")),
    path("accounts/", include("anwang.accounts.urls")),
    path("places/", include("anwang.places.urls")),
    path("people/", include("anwang.people.urls")),
    path("devices/", include("anwang.devices.urls")),
    path("events/", include("anwang.events.urls")),
    path("rules/", include("anwang.rules.urls")),
    path("alarms/", include("anwang.alarms.urls")),
    path("patrols/", include("anwang.patrols.urls")),
    path("participation/", include("anwang.participation.urls")),
    path("volunteers/", include("anwang.volunteers.urls")),
    path("training/", include("anwang.training.urls")),
    path("hazards/", include("anwang.hazards.urls")),
    path("open311/v2/", include("anwang.hazards.open311_urls")),
    path("facilities/", include("anwang.facilities.urls")),
    path("inspections/", include("anwang.inspections.urls")),
    path("rosters/", include("anwang.rosters.urls")),
    path("responsibilities/", include("anwang.responsibilities.urls")),
    path("plans/", include("anwang.plans.urls")),
    path("incidents/", include("anwang.incidents.urls")),
    path("notifications/", include("anwang.notifications.urls")),
    path("push/", include("anwang.notifications.push_urls")),
    path("alerts/", include("anwang.alerts.urls")),
    path("access/", include("anwang.access.urls")),
    path("welfare/", include("anwang.welfare.urls")),
    path("audit/", include("anwang.audit.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
