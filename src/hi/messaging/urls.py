"""Console URLs of the messaging hub, mounted under /messages/."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.inbox, name="messaging-inbox"),
    path("<int:pk>/", views.thread, name="messaging-thread"),
    path("<int:pk>/reply/", views.reply, name="messaging-reply"),
    path("m/<int:pk>/retry/", views.retry, name="messaging-retry"),
    path("m/<int:pk>/mark-sent/", views.mark_sent, name="messaging-mark-sent"),
    path("m/<int:pk>/media/", views.media, name="messaging-media"),
    path("orders/<str:ref>/", views.order_messages, name="messaging-order-panel"),
]
