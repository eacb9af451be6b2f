"""Pages of the people domain."""

from django.urls import path

from anwang.people import views

app_name = "people"
urlpatterns = [
    path("residents/", views.resident_list, name="resident_list"),
    path("residents/new/", views.resident_create, name="resident_create"),
    path("residents/import/", views.resident_import, name="resident_import"),
    path("residents/export/", views.resident_export, name="resident_export"),
    path("residents/import-template.xlsx", views.import_template, name="resident_import_template"),
    path("residents/<int:pk>/", views.resident_detail, name="resident_detail"),
    path("residents/<int:pk>/edit/", views.resident_update, name="resident_update"),
    path(
        "residents/<int:pk>/reveal/<str:field>/",
        views.resident_reveal,
        name="resident_reveal",
    ),
    path("residents/<int:pk>/move-out/", views.resident_move_out, name="resident_move_out"),
    path("residents/<int:pk>/consent/", views.resident_consent, name="resident_consent"),
    path("residents/<int:pk>/erase/", views.resident_erase, name="resident_erase"),
    path(
        "residents/<int:pk>/households/add/",
        views.household_member_add,
        name="household_member_add",
    ),
    path("residents/<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("members/<int:pk>/end/", views.household_member_end, name="household_member_end"),
    path("contacts/<int:pk>/edit/", views.contact_update, name="contact_update"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
    path("contacts/<int:pk>/reveal/", views.contact_reveal, name="contact_reveal"),
    path("bindings/", views.binding_list, name="binding_list"),
    path("bindings/request/", views.binding_request, name="binding_request"),
    path("bindings/<int:pk>/approve/", views.binding_approve, name="binding_approve"),
    path("bindings/<int:pk>/refuse/", views.binding_refuse, name="binding_refuse"),
    path("bindings/<int:pk>/end/", views.binding_end, name="binding_end"),
    path("my-household/", views.my_household, name="my_household"),
]
