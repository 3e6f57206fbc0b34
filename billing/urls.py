from django.urls import path

from billing import views

app_name = "billing"
urlpatterns = [
    # Billing staff (moderators and billing agents).
    path("", views.home, name="home"),
    path("runs/", views.bill_run_choose, name="bill_run_choose"),
    path("runs/<str:period>/", views.bill_run, name="bill_run"),
    path("runs/<str:period>/progress/", views.bill_run_progress, name="bill_run_progress"),
    path("runs/<str:period>/preview/", views.bill_run_preview, name="bill_run_preview"),
    path("runs/<str:period>/run/", views.bill_run_execute, name="bill_run_execute"),
    path("runs/<str:period>/finalize/", views.bill_run_finalize, name="bill_run_finalize"),
    path("commission/", views.commission_list, name="commission_list"),
    path("commission/<int:pk>/", views.commission_set, name="commission_set"),
    path("payments/", views.payment_list, name="payment_list"),
    path("payments/record/", views.payment_create, name="payment_create"),
    path("payments/import/", views.payment_import, name="payment_import"),
    path("payments/<int:pk>/", views.payment_detail, name="payment_detail"),
    path("payments/<int:pk>/allocate/", views.payment_allocate, name="payment_allocate"),
    path("ledger/", views.ledger, name="ledger"),
    # Buyers, carriers and billing staff, each seeing their own.
    path("contracts/", views.contract_list, name="contract_list"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract_detail"),
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:pk>/notes/", views.note_create, name="note_create"),
    path("invoices/<int:pk>/posted/", views.invoice_mark_posted, name="invoice_mark_posted"),
    path("usage/", views.usage_import_list, name="usage_import_list"),
    path("usage/upload/", views.usage_import_create, name="usage_import_create"),
    path("usage/sample.csv", views.usage_format, name="usage_format"),
    path("usage/<int:pk>/", views.usage_import_detail, name="usage_import_detail"),
    path("usage/<int:pk>/progress/", views.usage_import_progress, name="usage_import_progress"),
    path("settlements/", views.settlement_list, name="settlement_list"),
    path("settlements/<int:pk>/", views.settlement_detail, name="settlement_detail"),
    path("settlements/<int:pk>/statement.pdf", views.settlement_statement, name="settlement_statement"),
    path("settlements/<int:pk>/paid/", views.settlement_mark_paid, name="settlement_mark_paid"),
    # Carriers: the invoice lines they supplied.
    path("lines/", views.carrier_lines, name="carrier_lines"),
    # Resellers: usage and charges per end customer.
    path("end-customers/", views.reseller_usage, name="reseller_usage"),
    path("end-customers/export.csv", views.reseller_usage_csv, name="reseller_usage_csv"),
]
