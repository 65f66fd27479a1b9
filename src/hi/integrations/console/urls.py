"""Console URLs of the integration framework."""
from django.urls import path

from . import actions, directive_views, entity_views, views

urlpatterns = [
    path("add/", views.add_select, name="integration-add"),
    path("add/<str:type_id>/", views.add_configure, name="integration-add-configure"),
    path("<uuid:pk>/", views.manage, name="integration-manage"),
    path("<uuid:pk>/configure/", views.configure, name="integration-configure"),
    path("<uuid:pk>/reauth/", views.reauth, name="integration-reauth"),
    path("<uuid:pk>/remove/", views.remove, name="integration-remove"),
    path("<uuid:pk>/diagnostics.json", views.diagnostics, name="integration-diagnostics"),
    path("<uuid:pk>/receive-url/rotate/", views.rotate_receive_url, name="integration-rotate-receive-url"),
    # Before the catch-all action route below, which would otherwise take "directives".
    path("<uuid:pk>/directives/", directive_views.directive_list, name="integration-directives"),
    path("<uuid:pk>/directives/<int:directive_id>/", directive_views.directive_detail, name="integration-directive"),
    path(
        "<uuid:pk>/directives/<int:directive_id>/<slug:action>/",
        directive_views.directive_action,
        name="integration-directive-action",
    ),
    path("entities/kept/", entity_views.kept_entities, name="kept-entities"),
    path("entities/kept/<int:entity_id>/delete/", entity_views.delete_kept_entity, name="kept-entity-delete"),
    path("<uuid:pk>/entities/<int:entity_id>/rename/", entity_views.rename_entity, name="integration-entity-rename"),
    path("<uuid:pk>/<slug:action>/", actions.act, name="integration-action"),
]
