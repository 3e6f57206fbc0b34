from django.urls import path

from rfq import views_console as views

# Included from rfq/urls.py at "console/" inside the "rfq" namespace: moderators only.
urlpatterns = [
    path("", views.console_list, name="console_list"),
    path("<int:pk>/", views.console_detail, name="console_detail"),
    path("<int:pk>/suspend/", views.console_suspend, name="console_suspend"),
]
