from django.urls import path

from anwang.welfare import views

app_name = "welfare"

urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.watch_new, name="watch_new"),
    path("watches/<int:watch_id>/", views.watch, name="watch"),
    path("watches/<int:watch_id>/edit/", views.watch_edit, name="watch_edit"),
    path("watches/<int:watch_id>/pause/", views.watch_pause, name="watch_pause"),
    path("watches/<int:watch_id>/end/", views.watch_end, name="watch_end"),
    path("checks/<int:check_id>/", views.check, name="check"),
    path("checks/<int:check_id>/close/", views.check_close, name="check_close"),
    path("checks/<int:check_id>/reassign/", views.check_reassign, name="check_reassign"),
    path("mine/", views.my_checks, name="my_checks"),
    path("report/", views.report, name="report"),
]
