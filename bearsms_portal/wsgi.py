"""WSGI entry point (gunicorn bearsms_portal.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bearsms_portal.settings")

application = get_wsgi_application()
