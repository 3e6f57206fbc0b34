from django.urls import path

from buyers import views

app_name = "buyers"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
