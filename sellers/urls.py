from django.urls import path

from sellers import views

app_name = "sellers"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("register/", views.registration_wizard, name="register"),
    path("profile/", views.profile, name="profile"),
    path("logos/<int:org_pk>/", views.logo, name="logo"),
    path("criteria/", views.criteria_list, name="criteria_list"),
    path("criteria/new/", views.criteria_create, name="criteria_create"),
    path("criteria/<int:pk>/edit/", views.criteria_edit, name="criteria_edit"),
    path("criteria/<int:pk>/pause/", views.criteria_pause, name="criteria_pause"),
    path("criteria/<int:pk>/resume/", views.criteria_resume, name="criteria_resume"),
    path("criteria/<int:pk>/delete/", views.criteria_delete, name="criteria_delete"),
    path("coverage/", views.coverage, name="coverage"),
    path("coverage/<int:pk>/delete/", views.coverage_delete, name="coverage_delete"),
    path("offers/", views.offer_list, name="offer_list"),
    path("offers/new/", views.offer_create, name="offer_create"),
    path("offers/import/", views.offer_import, name="offer_import"),
    path("offers/import/template.csv", views.offer_import_template, name="offer_import_template"),
    path("offers/<int:pk>/", views.offer_detail, name="offer_detail"),
    path("offers/<int:pk>/edit/", views.offer_edit, name="offer_edit"),
    path("offers/<int:pk>/retire/", views.offer_retire, name="offer_retire"),
]
