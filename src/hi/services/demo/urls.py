"""The demo service's URLs, mounted under /services/demo/."""
from django.urls import path

from . import views

urlpatterns = [path("<uuid:pk>/notes/", views.send_note, name="demo-send-note")]
