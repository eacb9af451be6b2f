"""Pages of the hazards domain."""

from django.urls import URLPattern, path

from anwang.hazards import views

app_name = "hazards"
urlpatterns: list[URLPattern] = [
    path("", views.hazard_list, name="list"),
    path("report/", views.report, name="report"),
    path("report/nearby/", views.nearby, name="nearby"),
    path("mine/", views.mine, name="mine"),
    path("statistics/", views.statistics, name="statistics"),
    path("export.csv", views.export, name="export"),
    path("<int:hazard_id>/", views.detail, name="detail"),
    path("<int:hazard_id>/follow/", views.follow, name="follow"),
    path("<int:hazard_id>/photo/<str:kind>/", views.photo, name="photo"),
    path("<int:hazard_id>/<str:action>/", views.action, name="action"),
    path("steps/<int:step_id>/photo/", views.step_photo, name="step_photo"),
]
