"""Root URL configuration: the console, workspaces and (later) the provider endpoints."""
from django.contrib.auth import views as auth_views
from django.urls import include, path

from hi.integrations import views as integration_views

urlpatterns = [
    path("", integration_views.dashboard, name="dashboard"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("integrations/", include("hi.integrations.urls")),
    path("workspaces/", include("hi.workspaces.urls")),
]

handler404 = "hi.views.page_not_found"
handler500 = "hi.views.server_error"
handler403 = "hi.views.permission_denied"
