"""Workspace URLs."""
from django.urls import path

from . import views

urlpatterns = [
    path("switch/", views.switch_workspace, name="workspace-switch"),
    path("members/", views.members, name="workspace-members"),
    path("members/<int:membership_id>/", views.member_update, name="workspace-member-update"),
]
