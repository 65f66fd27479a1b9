"""The webhook service's URLs, mounted under /services/webhook/."""
from django.urls import path

from . import views

urlpatterns = [path("<uuid:pk>/test/", views.send_test_event, name="webhook-send-test")]
