"""Pages of the rules domain."""

from django.urls import path

from anwang.rules import views

app_name = "rules"
urlpatterns = [
    path("", views.rule_list, name="rule_list"),
    path("create/", views.rule_create, name="rule_create"),
    path("import/", views.rule_import, name="rule_import"),
    path("export/", views.rule_export, name="rule_export"),
    path("preview/", views.rule_preview, name="rule_preview"),
    path("<int:pk>/", views.rule_edit, name="rule_edit"),
    path("<int:pk>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("<int:pk>/delete/", views.rule_delete, name="rule_delete"),
]
