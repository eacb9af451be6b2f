"""Pages of the places domain."""

from django.urls import path

from anwang.places import views

app_name = "places"
urlpatterns = [
    path("map/", views.community_map, name="map"),
    path("map.geojson", views.map_geojson, name="map_geojson"),
    path("regions/", views.region_list, name="region_list"),
    path("regions/create/", views.region_create, name="region_create"),
    path("regions/<int:pk>/edit/", views.region_edit, name="region_edit"),
    path("regions/<int:pk>/delete/", views.region_delete, name="region_delete"),
    path("communities/", views.community_list, name="community_list"),
    path("communities/create/", views.community_create, name="community_create"),
    path("communities/<int:pk>/", views.community_detail, name="community_detail"),
    path("communities/<int:pk>/edit/", views.community_edit, name="community_edit"),
    path("communities/<int:pk>/delete/", views.community_delete, name="community_delete"),
    path("grids/", views.grid_list, name="grid_list"),
    path("grids/create/", views.grid_create, name="grid_create"),
    path("grids/<int:pk>/", views.grid_detail, name="grid_detail"),
    path("grids/<int:pk>/edit/", views.grid_edit, name="grid_edit"),
    path("grids/<int:pk>/delete/", views.grid_delete, name="grid_delete"),
    path("buildings/", views.building_list, name="building_list"),
    path("buildings/create/", views.building_create, name="building_create"),
    path("buildings/<int:pk>/", views.building_detail, name="building_detail"),
    path("buildings/<int:pk>/edit/", views.building_edit, name="building_edit"),
    path("buildings/<int:pk>/delete/", views.building_delete, name="building_delete"),
    path("buildings/<int:building_pk>/units/create/", views.unit_create, name="unit_create"),
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("units/<int:pk>/edit/", views.unit_edit, name="unit_edit"),
    path("units/<int:pk>/delete/", views.unit_delete, name="unit_delete"),
    path("households/", views.household_list, name="household_list"),
    path("households/create/", views.household_create, name="household_create"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("households/<int:pk>/edit/", views.household_edit, name="household_edit"),
    path("households/<int:pk>/delete/", views.household_delete, name="household_delete"),
    path("zones/", views.zone_list, name="zone_list"),
    path("zones/create/", views.zone_create, name="zone_create"),
    path("zones/<int:pk>/", views.zone_detail, name="zone_detail"),
    path("zones/<int:pk>/edit/", views.zone_edit, name="zone_edit"),
    path("zones/<int:pk>/delete/", views.zone_delete, name="zone_delete"),
]
