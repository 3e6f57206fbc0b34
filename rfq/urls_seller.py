from django.urls import path

from rfq import views_seller as views

# Included from rfq/urls.py at "seller/" inside the "rfq" namespace; /rfq/seller/<pk>/ is used in notifications.
urlpatterns = [
    path("", views.inbox, name="seller_inbox"),
    path("<int:pk>/", views.request_detail, name="seller_detail"),
    path("<int:pk>/respond/", views.respond, name="seller_respond"),
    path("<int:pk>/questions/", views.ask, name="seller_ask"),
    path("<int:pk>/summary.pdf", views.summary_pdf, name="seller_summary_pdf"),
    path("<int:pk>/prior-bills/<int:bill_pk>/", views.prior_bill_download, name="seller_prior_bill"),
    path("<int:pk>/bid/", views.bid_edit, name="seller_bid"),
    path("<int:pk>/bid/receipts/<int:number>/", views.bid_receipt, name="seller_bid_receipt"),
    path("<int:pk>/bid/withdraw/", views.bid_withdraw, name="seller_bid_withdraw"),
    path("<int:pk>/bid/reconfirm/", views.bid_reconfirm, name="seller_bid_reconfirm"),
    path("<int:pk>/bid/attachments/<int:attachment_pk>/", views.attachment_download, name="seller_attachment"),
]
