"""The webhook service's URLs, mounted under /services/webhook/."""
from django.urls import path

from . import views

urlpatterns = [
    path("<uuid:pk>/test/", views.send_test_event, name="webhook-send-test"),
    path("<uuid:pk>/rotate/", views.rotate_secret, name="webhook-rotate-secret"),
    path("<uuid:pk>/deliveries/", views.delivery_list, name="webhook-deliveries"),
    path("<uuid:pk>/deliveries/recover/", views.recover, name="webhook-recover"),
    path("<uuid:pk>/deliveries/<int:delivery_id>/", views.delivery_detail, name="webhook-delivery"),
    path("<uuid:pk>/deliveries/<int:delivery_id>/resend/", views.resend, name="webhook-resend"),
]
