from django.urls import path  # noqa: F401  (requests arrive with the RFQ issue)

app_name = "rfq"
urlpatterns: list = []
