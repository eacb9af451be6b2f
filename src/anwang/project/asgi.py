"""ASGI entry point for ``anwang serve``."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anwang.project.settings")
application = get_asgi_application()
