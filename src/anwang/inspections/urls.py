"""Pages of the inspections domain."""

from django.urls import URLPattern, path

from anwang.inspections import views

app_name = "inspections"
urlpatterns: list[URLPattern] = [
    path("", views.due, name="due"),
    path("scan/", views.scan, name="scan"),
    path("start/", views.start, name="start"),
    path("records/", views.records, name="records"),
    path("statistics/", views.statistics, name="statistics"),
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:plan_id>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:plan_id>/delete/", views.plan_delete, name="plan_delete"),
    path("checklists/", views.checklist_list, name="checklist_list"),
    path("checklists/<int:checklist_id>/", views.checklist_detail, name="checklist"),
    path("assets/<int:asset_id>/", views.asset_history, name="asset_history"),
    path("checkpoints/<int:checkpoint_id>/", views.at_checkpoint, name="at_checkpoint"),
    path("results/<int:result_id>/photo/<str:kind>/", views.result_photo, name="result_photo"),
    path("<int:inspection_id>/", views.inspection, name="inspection"),
    path("<int:inspection_id>/abandon/", views.abandon, name="abandon"),
]
