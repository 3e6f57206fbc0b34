from django.urls import path

from rfq import views_buyer as views

# Paths used in notifications: /rfq/<pk>/ and /rfq/<pk>/compare/ (keep them).
urlpatterns = [
    path("", views.rfq_list, name="list"),
    path("new/", views.rfq_create, name="create"),
    path("<int:pk>/", views.rfq_detail, name="detail"),
    path("<int:pk>/edit/services/row/", views.service_row, name="service_row"),
    path("<int:pk>/edit/<slug:step>/", views.rfq_step, name="step"),
    path("<int:pk>/publish/", views.rfq_publish, name="publish"),
    path("<int:pk>/bills/<int:bill_pk>/", views.prior_bill_download, name="prior_bill_download"),
    path("<int:pk>/questions/<int:question_pk>/answer/", views.question_answer, name="question_answer"),
    path("<int:pk>/addendum/", views.addendum_create, name="addendum_create"),
    path("<int:pk>/cancel/", views.rfq_cancel, name="cancel"),
    path("<int:pk>/confirm-sites/", views.confirm_sites, name="confirm_sites"),
    path("<int:pk>/compare/", views.compare, name="compare"),
    path("<int:pk>/compare.csv", views.compare_csv, name="compare_csv"),
    path("<int:pk>/award/", views.award_select, name="award_select"),
    path("<int:pk>/terms/", views.award_terms, name="award_terms"),
]
