from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from marketplace import org_views, views, views_availability

# The admin login goes through allauth, so it is rate-limited and honours 2FA.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "Switchboard administration"
admin.site.site_title = "Switchboard admin"

handler403 = "marketplace.errors.permission_denied"
handler404 = "marketplace.errors.page_not_found"
handler500 = "marketplace.errors.server_error"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("home/", views.home, name="home"),
    path("welcome/", views.onboarding, name="onboarding"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("inbox/read-all/", views.notification_read_all, name="notification_read_all"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("availability/", views_availability.availability, name="availability"),
    path("terms/", views.terms, name="terms"),
    path("healthz", views.healthz, name="healthz"),
    path("organization/", include("marketplace.org_urls")),
    path("invitation/<str:token>/", org_views.invitation_accept, name="invitation_accept"),
    path("account/choose-password/", org_views.choose_password, name="choose_password"),
    path("accounts/", include("allauth.urls")),
    path("console/", include("marketplace.console_urls")),
    path("buyer/", include("buyers.urls")),
    path("seller/", include("sellers.urls")),
    path("rfq/", include("rfq.urls")),
    path("billing/", include("billing.urls")),
    path("admin/", admin.site.urls),
]
