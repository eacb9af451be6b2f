"""Account pages: log in and out, profile."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class LoginView(auth_views.LoginView):
    """Log in."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The person's own account page."""
    return render(request, "accounts/profile.html")
