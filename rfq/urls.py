from django.urls import include, path

app_name = "rfq"
# Buyer pages at /rfq/, carrier pages at /rfq/seller/, moderator pages at /rfq/console/.
urlpatterns = [
    path("seller/", include("rfq.urls_seller")),
    path("console/", include("rfq.urls_console")),
    path("", include("rfq.urls_buyer")),
]
