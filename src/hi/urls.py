"""Root URL configuration: the console, workspaces and (later) the provider endpoints."""
from importlib import import_module
from importlib.util import find_spec

from django.contrib.auth import views as auth_views
from django.urls import include, path

from hi.integrations.console import catalog_views, system_views
from hi.integrations.console import views as integration_views
from hi.integrations.engine import inbound_views
from hi.integrations.types import IntegrationType

urlpatterns = [
    path("", integration_views.dashboard, name="dashboard"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("integrations/", include("hi.integrations.console.urls")),
    path("orders/", include("hi.orders.urls")),
    path("messages/", include("hi.messaging.urls")),
    path("workspaces/", include("hi.workspaces.urls")),
    path("events/", catalog_views.event_catalog, name="event-catalog"),
    path("system/", system_views.system, name="system"),
    # For load balancers and Prometheus: no console login (metrics may require HI_METRICS_TOKEN).
    path("healthz", system_views.healthz, name="healthz"),
    path("metrics", system_views.metrics, name="metrics"),
    # Providers post webhooks here (no login, no CSRF token: the receiver verifies the signature). The
    # key is each integration's own secret (hookkeys.py), not its id.
    path("hooks/<str:key>/", inbound_views.receive, name="inbound-receive"),
]
# Each service's own pages (its pane's actions) live under /services/<type id>/.
for _member in IntegrationType:
    if find_spec(f"{_member.app}.urls") is not None:
        urlpatterns.append(path(f"services/{_member.type_id}/", include(import_module(f"{_member.app}.urls"))))

handler404 = "hi.views.page_not_found"
handler500 = "hi.views.server_error"
handler403 = "hi.views.permission_denied"
