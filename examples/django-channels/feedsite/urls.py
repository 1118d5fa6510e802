from django.urls import path

from . import views

urlpatterns = [
    path("login", views.login),
    path("token", views.token),
    path("publish/<str:stream>", views.publish),
    path("stats", views.stats),
]
