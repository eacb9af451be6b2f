"""Pages of the devices domain."""

from django.urls import path

from anwang.devices import views

app_name = "devices"
urlpatterns = [
    path("", views.device_list, name="device_list"),
    path("create/", views.device_create, name="device_create"),
    path("import/", views.device_import, name="device_import"),
    path("import-template.xlsx", views.import_template, name="device_import_template"),
    path("export/", views.device_export, name="device_export"),
    path("map.geojson", views.map_geojson, name="map_geojson"),
    path("<int:pk>/", views.device_detail, name="device_detail"),
    path("<int:pk>/edit/", views.device_edit, name="device_edit"),
    path("<int:pk>/retire/", views.device_retire, name="device_retire"),
    path("<int:pk>/credentials/", views.credential_issue, name="credential_issue"),
    path(
        "<int:pk>/credentials/<int:credential_pk>/revoke/",
        views.credential_revoke,
        name="credential_revoke",
    ),
]
