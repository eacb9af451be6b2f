"""Pages of the training domain."""

from django.urls import URLPattern, path

from anwang.training import views

app_name = "training"
urlpatterns: list[URLPattern] = [
    path("", views.course_list, name="course_list"),
    path("courses/create/", views.course_create, name="course_create"),
    path("courses/<int:pk>/", views.course_detail, name="course_detail"),
    path("courses/<int:pk>/edit/", views.course_edit, name="course_edit"),
    path("sessions/", views.session_list, name="session_list"),
    path("sessions/create/", views.session_create, name="session_create"),
    path("sessions/<int:pk>/", views.session_detail, name="session_detail"),
    path("sessions/<int:pk>/edit/", views.session_edit, name="session_edit"),
    path("sessions/<int:pk>/qr/", views.session_qr, name="session_qr"),
    path("sessions/<int:pk>/complete/", views.session_complete, name="session_complete"),
    path("sessions/<int:pk>/cancel/", views.session_cancel, name="session_cancel"),
    path("attendance/<int:pk>/result/", views.attendance_result, name="attendance_result"),
    path("attendance/<int:pk>/remove/", views.attendance_remove, name="attendance_remove"),
    path("check-in/", views.check_in, name="check_in"),
    path("certificates/", views.certificate_list, name="certificate_list"),
    path("certificates/issue/", views.certificate_issue, name="certificate_issue"),
    path("certificates/<int:pk>/", views.certificate_detail, name="certificate_detail"),
    path("certificates/<int:pk>/pdf/", views.certificate_print, name="certificate_pdf"),
    path("people/", views.people, name="people"),
    path("people/<int:user_id>/", views.person_detail, name="person_detail"),
    path("me/", views.my_training, name="my_training"),
    path("drills/", views.drill_list, name="drill_list"),
    path("drills/create/", views.drill_create, name="drill_create"),
    path("drills/<int:pk>/", views.drill_detail, name="drill_detail"),
    path("drills/<int:pk>/edit/", views.drill_edit, name="drill_edit"),
    path("findings/<int:pk>/edit/", views.finding_edit, name="finding_edit"),
]
