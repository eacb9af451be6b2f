"""Pages of the facilities domain."""

from django.urls import URLPattern, path

from anwang.facilities import views

app_name = "facilities"
urlpatterns: list[URLPattern] = [
    path("", views.asset_list, name="list"),
    path("new/", views.asset_create, name="create"),
    path("labels.pdf", views.label_sheet, name="labels"),
    path("map.geojson", views.map_geojson, name="map_geojson"),
    path("a/<slug:community_slug>/<str:code>/", views.scan, name="scan"),
    path("<int:asset_id>/", views.asset_detail, name="detail"),
    path("<int:asset_id>/edit/", views.asset_edit, name="edit"),
    path("<int:asset_id>/stock/", views.asset_stock, name="stock"),
    path("<int:asset_id>/retire/", views.asset_retire, name="retire"),
    path("<int:asset_id>/label.pdf", views.asset_label, name="label"),
    path("<int:asset_id>/photo/<str:kind>/", views.asset_photo, name="photo"),
]
