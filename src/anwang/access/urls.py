from django.urls import path

from anwang.access import finding_views, pass_views, views

app_name = "access"

urlpatterns = [
    # Management (views.py)
    path("", views.home, name="home"),
    path("points/", views.point_list, name="points"),
    path("points/new/", views.point_create, name="point_create"),
    path("points/<int:point_id>/", views.point_edit, name="point_edit"),
    path("credentials/", views.credential_list, name="credentials"),
    path("credentials/new/", views.credential_create, name="credential_create"),
    path("credentials/<int:credential_id>/", views.credential_detail, name="credential_detail"),
    path("residents/<int:resident_id>/", views.resident_access, name="resident"),
    path("residents/<int:resident_id>/consent/", views.consent_record, name="consent"),
    path("residents/<int:resident_id>/export/", views.resident_export, name="resident_export"),
    path("residents/<int:resident_id>/erase/", views.resident_erase, name="resident_erase"),
    path("events/", views.event_list, name="events"),
    path("watch-list/", views.watch_list, name="watch_list"),
    path("watch-list/new/", views.watch_create, name="watch_create"),
    path("watch-list/<int:entry_id>/end/", views.watch_end, name="watch_end"),
    # Anomaly findings (finding_views.py)
    path("findings/", finding_views.finding_list, name="findings"),
    path("findings/scan/", finding_views.findings_scan, name="findings_scan"),
    path("findings/badge/", finding_views.findings_badge, name="findings_badge"),
    path("findings/<int:finding_id>/", finding_views.finding_detail, name="finding"),
    path("findings/<int:finding_id>/review/", finding_views.finding_review, name="finding_review"),
    # Visitors and the gate (pass_views.py)
    path("visitors/", pass_views.my_visitors, name="my_visitors"),
    path("visitors/new/", pass_views.visitor_create, name="visitor_create"),
    path("visitors/<int:pass_id>/", pass_views.visitor_pass, name="visitor_pass"),
    path("visitors/<int:pass_id>/qr.svg", pass_views.visitor_qr, name="visitor_qr"),
    path("visitors/<int:pass_id>/revoke/", pass_views.visitor_revoke, name="visitor_revoke"),
    path("gate/", pass_views.gate, name="gate"),
    path("gate/check/", pass_views.gate_check, name="gate_check"),
    path("gate/log/", pass_views.gate_log, name="gate_log"),
]
