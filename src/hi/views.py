"""Project-wide error pages: friendly, and never a stack trace."""
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: the object does not exist or belongs to another workspace."""
    return render(request, "errors/404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403, including CSRF failures."""
    return render(request, "errors/403.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: rendered without context processors, so it cannot fail itself."""
    return HttpResponse(render_to_string("errors/500.html"), status=500)
