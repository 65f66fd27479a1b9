"""Workspace URLs."""
from django.urls import path

from . import invitations, views

urlpatterns = [
    path("switch/", views.switch_workspace, name="workspace-switch"),
    path("members/", views.members, name="workspace-members"),
    path("members/<int:membership_id>/", views.member_update, name="workspace-member-update"),
    path("invitations/<int:invitation_id>/cancel/", views.invitation_cancel, name="workspace-invitation-cancel"),
    path("invitations/<str:token>/", invitations.invitation, name="workspace-invitation"),
]
