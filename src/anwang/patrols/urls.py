"""Pages of the patrols domain."""

from django.urls import path

from anwang.patrols import views

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
]
