"""Console URLs of the orders hub, mounted under /orders/."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.order_list, name="order-list"),
    path("new/", views.order_new, name="order-new"),
    path("<str:ref>/", views.order_detail, name="order-detail"),
    path("<str:ref>/actions/<slug:key>/", views.order_action, name="order-action"),
]
