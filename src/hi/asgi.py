"""ASGI entry point of the production web command: `gunicorn -k asgi hi.asgi:application` (see README)."""
# The event loop reads each request (headers and body) and `RequestBodyGuard` holds it until the
# whole body has arrived, within HI_WEB_READ_TIMEOUT_S; only then does Django, unchanged as a WSGI
# application, run in one of HI_WEB_THREADS threads (a2wsgi). Slow or stalled clients therefore
# cost a connection, never a thread, and each thread keeps its database connection between requests
# as under any threaded WSGI server (Django's own ASGI handler would start a thread, and a database
# connection, per request).
import os

from a2wsgi import WSGIMiddleware
from django.conf import settings
from django.core.wsgi import get_wsgi_application

from hi.readguard import RequestBodyGuard

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hi.settings")
django_application = get_wsgi_application()
application = RequestBodyGuard(
    WSGIMiddleware(django_application, workers=settings.HI_WEB_THREADS),
    read_timeout_s=settings.HI_WEB_READ_TIMEOUT_S,
    max_body_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
)
