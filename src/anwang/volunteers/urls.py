"""Pages of the volunteers domain."""

from django.urls import path
from django.views.generic import RedirectView

from anwang.volunteers import views

app_name = "volunteers"
urlpatterns = [
    # The app's root is the person's own page; it has its own path so that the menu does not
    # mark it as current on every admin page under /volunteers/.
    path("", RedirectView.as_view(pattern_name="volunteers:my_volunteering"), name="home"),
    path("me/", views.my_volunteering, name="my_volunteering"),
    path("me/shifts.ics", views.my_shifts_ics, name="my_shifts_ics"),
    path("apply/", views.apply, name="apply"),
    path("applications/", views.application_list, name="application_list"),
    path("applications/<int:pk>/", views.application_detail, name="application_detail"),
    path("applications/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("applications/<int:pk>/certificate.pdf", views.certificate, name="certificate"),
    path(
        "applications/<int:pk>/<str:action>/",
        views.application_decide,
        name="application_decide",
    ),
    path("teams/", views.team_list, name="team_list"),
    path("teams/create/", views.team_create, name="team_create"),
    path("teams/<int:pk>/edit/", views.team_edit, name="team_edit"),
    path("teams/<int:pk>/delete/", views.team_delete, name="team_delete"),
    path("shifts/", views.shift_list, name="shift_list"),
    path("shifts/create/", views.shift_create, name="shift_create"),
    path("shifts/<int:pk>/", views.shift_detail, name="shift_detail"),
    path("shifts/<int:pk>/edit/", views.shift_edit, name="shift_edit"),
    path("shifts/<int:pk>/cancel/", views.shift_cancel, name="shift_cancel"),
    path("shifts/<int:pk>/signup/", views.shift_signup, name="shift_signup"),
    path("shifts/<int:pk>/check-<str:action>/", views.shift_attendance, name="shift_attendance"),
    path("shifts/<int:pk>/hours/<int:volunteer_pk>/", views.shift_hours, name="shift_hours"),
    path("hours/", views.hours_ledger, name="hours_ledger"),
]
