from django.urls import path

from marketplace import console_metrics
from marketplace import console_views as views

app_name = "console"
urlpatterns = [
    path("", views.console_home, name="home"),
    path("metrics/", console_metrics.metrics, name="metrics"),
    path("verification/", views.verification_queue, name="verification_queue"),
    path("organizations/<int:pk>/", views.organization_review, name="organization_review"),
    path("organizations/<int:pk>/verify/", views.organization_verify, name="organization_verify"),
    path("organizations/<int:pk>/reject/", views.organization_reject, name="organization_reject"),
]
