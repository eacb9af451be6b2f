"""Pages of the rosters domain."""

from django.urls import URLPattern, path

from anwang.rosters import views

app_name = "rosters"
urlpatterns: list[URLPattern] = [
    path("", views.now, name="now"),
    path("week/", views.week, name="week"),
    path("patterns/", views.pattern_list, name="pattern_list"),
    path("patterns/new/", views.pattern_create, name="pattern_create"),
    path("patterns/<int:pattern_id>/", views.pattern_edit, name="pattern_edit"),
    path(
        "patterns/<int:pattern_id>/deactivate/",
        views.pattern_deactivate,
        name="pattern_deactivate",
    ),
    path("exceptions/", views.exception_list, name="exception_list"),
    path("exceptions/new/", views.exception_add, name="exception_add"),
    path(
        "exceptions/<int:duty_exception_id>/remove/",
        views.exception_remove,
        name="exception_remove",
    ),
    path("swaps/new/", views.shifts_swap, name="shifts_swap"),
    path("mine/", views.my_duties, name="my_duties"),
    path("mine.ics", views.my_duties_ics, name="my_duties_ics"),
]
