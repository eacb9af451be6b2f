"""Pages of the participation domain."""

from django.urls import path
from django.views.generic import RedirectView

from anwang.participation import views

app_name = "participation"
urlpatterns = [
    # The app's root is the person's own page; it has its own path so that the menu does not
    # mark it as current on the ledger and rules pages.
    path("", RedirectView.as_view(pattern_name="participation:my_points"), name="home"),
    path("me/", views.my_points, name="my_points"),
    path("ledger/", views.ledger, name="ledger"),
    path("ledger/<int:pk>/reverse/", views.entry_reverse, name="entry_reverse"),
    path("adjust/", views.adjust, name="adjust"),
    path("rules/", views.rules, name="rules"),
]
