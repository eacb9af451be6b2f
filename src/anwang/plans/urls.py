"""Pages of the plans domain."""

from django.urls import URLPattern, path

from anwang.plans import views

app_name = "plans"
urlpatterns: list[URLPattern] = [
    path("", views.plan_list, name="list"),
    path("new/", views.plan_create, name="create"),
    path("<int:emergency_plan_id>/", views.plan_detail, name="detail"),
    path("versions/<int:plan_version_id>/edit/", views.version_edit, name="version_edit"),
    path("versions/<int:plan_version_id>/approve/", views.version_approve, name="version_approve"),
    path("versions/<int:plan_version_id>/discard/", views.version_discard, name="version_discard"),
    path("versions/<int:plan_version_id>/revise/", views.version_revise, name="version_revise"),
    path("versions/<int:plan_version_id>/compare/", views.version_compare, name="version_compare"),
    path("versions/<int:plan_version_id>/pdf/", views.version_pdf, name="version_pdf"),
    path("versions/<int:plan_version_id>/zones.geojson", views.version_zones, name="version_zones"),
    path(
        "versions/<int:plan_version_id>/assembly.geojson",
        views.version_assembly,
        name="version_assembly",
    ),
]
