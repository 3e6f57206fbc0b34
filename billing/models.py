"""Contracts, usage, bill runs, invoices, payments and carrier settlements."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from marketplace.models import Organization, ServiceType


def pdf_path(instance: models.Model, filename: str) -> str:
    return f"private/billing/{secrets.token_hex(16)}.pdf"


class CommissionRate(models.Model):
    """The moderator's default commission on a carrier's lines, editable by moderators."""

    carrier = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="commission_rate")
    percent = models.DecimalField(max_digits=5, decimal_places=2, default=5)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(percent__gte=0, percent__lte=100), name="commission_percent_range")
        ]

    def __str__(self) -> str:
        return f"{self.carrier}: {self.percent}%"


class Contract(models.Model):
    """What one buyer (or reseller's end customer) bought from one carrier, and how it is billed."""

    number = models.CharField(max_length=12, unique=True)
    award = models.ForeignKey("rfq.Award", null=True, blank=True, on_delete=models.PROTECT, related_name="contracts")
    rfq = models.ForeignKey("rfq.Rfq", null=True, blank=True, on_delete=models.PROTECT, related_name="contracts")
    buyer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="buyer_contracts")
    end_customer = models.ForeignKey(
        "buyers.EndCustomer", null=True, blank=True, on_delete=models.PROTECT, related_name="contracts"
    )
    carrier = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="carrier_contracts")
    currency = models.CharField(max_length=3)
    start_date = models.DateField()
    end_date = models.DateField()
    invoice_grouping = models.CharField(max_length=16, default="consolidated")
    carrier_grouping = models.CharField(max_length=16, default="combined")
    payment_terms_days = models.PositiveSmallIntegerField(default=30)
    invoice_delivery = models.CharField(max_length=10, default="email")
    po_number = models.CharField(max_length=40, blank=True)
    commission_percent = models.DecimalField(max_digits=5, decimal_places=2)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["buyer_id", "number"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="contract_ends_after_start"),
            # An award gives one contract to the buyer, or one per end customer when a reseller bought.
            models.UniqueConstraint(
                fields=["award"], condition=Q(end_customer__isnull=True), name="contract_once_per_award"
            ),
            models.UniqueConstraint(fields=["award", "end_customer"], name="contract_once_per_award_end_customer"),
            models.CheckConstraint(
                condition=Q(commission_percent__gte=0, commission_percent__lte=100), name="contract_commission_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.buyer} / {self.carrier}"


class RateLine(models.Model):
    """One priced service of a contract: recurring and one-time charges, usage rate with tiers."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="rate_lines")
    site = models.ForeignKey("buyers.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField(default=1)
    monthly_charge = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    one_time_charge = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    usage_unit = models.CharField(max_length=20, blank=True)
    usage_rate = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    increment = models.DecimalField(
        max_digits=12, decimal_places=4, default=0, help_text="Each record is rounded up to a multiple; 0 for none."
    )
    minimum_commitment = models.DecimalField(
        max_digits=14, decimal_places=2, default=0, help_text="Minimum usage charge per month."
    )

    class Meta:
        ordering = ["contract_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(monthly_charge__gte=0, one_time_charge__gte=0, minimum_commitment__gte=0, increment__gte=0),
                name="rateline_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.description


class RateTier(models.Model):
    """Usage above `threshold` units in a month is charged at `rate` (graduated tiers)."""

    rate_line = models.ForeignKey(RateLine, on_delete=models.CASCADE, related_name="tiers")
    threshold = models.DecimalField(max_digits=18, decimal_places=6)
    rate = models.DecimalField(max_digits=14, decimal_places=6)

    class Meta:
        ordering = ["rate_line_id", "threshold"]
        constraints = [
            models.UniqueConstraint(fields=["rate_line", "threshold"], name="ratetier_unique_threshold"),
            models.CheckConstraint(condition=Q(threshold__gt=0, rate__gte=0), name="ratetier_values_valid"),
        ]

    def __str__(self) -> str:
        return f"above {self.threshold}: {self.rate}"


class UsageImport(models.Model):
    """One uploaded usage file: imported whole or not at all."""

    class Source(models.TextChoices):
        CARRIER = "carrier", "The carrier"
        LEC = "lec", "The buyer's local exchange carrier"
        BUYER = "buyer", "The buyer"
        METER = "meter", "Measuring equipment"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Refused"

    carrier = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="usage_imports")
    source = models.CharField(max_length=10, choices=Source.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    filename = models.CharField(max_length=200)
    file = models.FileField(upload_to="private/usage/", max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    inserted = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    adjustments = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "sha256"], condition=Q(status="done"), name="usageimport_file_once_per_carrier"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"


class UsageRecord(models.Model):
    """One measured amount of service; resolved to its contract and rate line when imported.

    References are plain integer columns without database constraints or indexes of their own: the import
    only writes ids it resolved from contracts, and this table is the hot path of both the import and the bill
    run. Its key is (carrier, record_id), the rule that a record is imported once, so a row costs one index
    entry; on PostgreSQL record_id compares bytewise (collation "C") and a BRIN on bill_period serves the run.
    """

    pk = models.CompositePrimaryKey("carrier_id", "record_id")
    carrier = models.ForeignKey(
        Organization, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    record_id = models.CharField(max_length=64)
    contract = models.ForeignKey(
        Contract, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    rate_line = models.ForeignKey(
        RateLine, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    buyer = models.ForeignKey(
        Organization, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    end_customer = models.ForeignKey(
        "buyers.EndCustomer",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    usage_import = models.ForeignKey(
        UsageImport, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    source = models.CharField(max_length=10)
    interval_start = models.DateTimeField()
    interval_end = models.DateTimeField()
    quantity = models.DecimalField(max_digits=18, decimal_places=6)
    unit = models.CharField(max_length=20)
    service_type_code = models.CharField(max_length=60, blank=True)
    min_bandwidth_mbps = models.DecimalField(max_digits=12, decimal_places=3, null=True)
    max_bandwidth_mbps = models.DecimalField(max_digits=12, decimal_places=3, null=True)
    volume_bytes = models.BigIntegerField(null=True)
    latency_ms = models.DecimalField(max_digits=10, decimal_places=3, null=True)
    jitter_ms = models.DecimalField(max_digits=10, decimal_places=3, null=True)
    packet_loss_pct = models.DecimalField(max_digits=7, decimal_places=4, null=True)
    asr_pct = models.DecimalField(max_digits=7, decimal_places=4, null=True)
    equipment_id = models.CharField(max_length=64, blank=True)
    bill_period = models.DateField(help_text="First day of the month whose bill carries this record.")
    is_adjustment = models.BooleanField(default=False, help_text="Arrived after its own month was finalised.")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(interval_end__gt=F("interval_start")), name="usage_interval_valid"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="usage_quantity_not_negative"),
            models.CheckConstraint(condition=~Q(record_id="") & ~Q(unit=""), name="usage_ids_not_blank"),
        ]
        # On PostgreSQL a BRIN index on bill_period (migrations 0003, 0004) serves the bill run: records arrive
        # roughly in period order, and a BRIN costs almost nothing per inserted row, unlike a btree.

    def __str__(self) -> str:
        return f"{self.record_id}: {self.quantity} {self.unit}"


class BillRun(models.Model):
    """The monthly run for one period: drafts can be recomputed until it is finalised."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DRAFT = "draft", "Draft invoices ready"
        FINALIZED = "finalized", "Finalised"
        FAILED = "failed", "Failed"

    period = models.DateField(unique=True, help_text="First day of the month.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    finalized_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    records_rated = models.PositiveIntegerField(default=0)
    invoice_count = models.PositiveIntegerField(default=0)
    fingerprint = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the draft lines.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-period"]

    def __str__(self) -> str:
        return f"Bill run {self.period:%Y-%m} ({self.get_status_display()})"


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        FINAL = "final", "Issued"
        PAID = "paid", "Paid"

    bill_run = models.ForeignKey(BillRun, on_delete=models.PROTECT, related_name="invoices")
    period = models.DateField()
    buyer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="invoices")
    # The optional references are indexed only where set (see Meta): a draft has no number and nobody who
    # posted it, and most invoices name no end customer and no carrier.
    end_customer = models.ForeignKey(
        "buyers.EndCustomer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="invoices",
    )
    carrier = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="carrier_invoices",
        help_text="Set when the buyer asked for one invoice per carrier.",
    )
    group_key = models.CharField(max_length=80, help_text="Which of the buyer's invoices this is.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    number = models.CharField(max_length=20, null=True, blank=True)
    currency = models.CharField(max_length=3)
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    subtotal = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    amount_paid = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    pdf = models.FileField(upload_to=pdf_path, max_length=255, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    posted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the paper copy went in the post, for buyers who asked for one."
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, db_index=False, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["buyer__name", "group_key", "id"]
        indexes = [
            models.Index(fields=["end_customer"], condition=Q(end_customer__isnull=False), name="invoice_end_customer"),
            models.Index(fields=["carrier"], condition=Q(carrier__isnull=False), name="invoice_carrier"),
            models.Index(fields=["posted_by"], condition=Q(posted_by__isnull=False), name="invoice_posted_by"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["period", "buyer", "group_key"], name="invoice_once_per_group"),
            models.UniqueConstraint(fields=["number"], condition=Q(number__isnull=False), name="invoice_number_once"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(number__isnull=False), name="invoice_issued_has_number"
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft {self.period:%Y-%m} {self.buyer}"

    @property
    def balance(self):  # type: ignore[no-untyped-def]
        return self.total - self.amount_paid


class InvoiceLine(models.Model):
    class Kind(models.TextChoices):
        RECURRING = "recurring", "Monthly charge"
        ONE_TIME = "one_time", "One-time charge"
        USAGE = "usage", "Usage"
        TRUE_UP = "true_up", "Minimum commitment true-up"
        ADJUSTMENT = "adjustment", "Late usage adjustment"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    rate_line = models.ForeignKey(RateLine, on_delete=models.PROTECT, related_name="+")
    # Copies of rate_line.contract and its carrier, for the carrier's and the contract's pages. The database
    # checks rate_line; it does not check these copies again (4,000 lookups at the commit of a 2,000-buyer run).
    # Deleting the contract or the carrier is still refused: the rate line protects the contract, the contract
    # the carrier.
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, db_constraint=False, related_name="+")
    carrier = models.ForeignKey(Organization, on_delete=models.PROTECT, db_constraint=False, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    description = models.CharField(max_length=250)
    # A month's sum of records that may each reach 10^12 units (a usage record's own limit).
    quantity = models.DecimalField(max_digits=24, decimal_places=6)
    unit = models.CharField(max_length=20, blank=True)
    unit_price = models.DecimalField(max_digits=14, decimal_places=6)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    commission = models.DecimalField(max_digits=14, decimal_places=2)
    record_count = models.PositiveIntegerField(default=0)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["invoice_id", "position"]

    def __str__(self) -> str:
        return self.description


class InvoiceSequence(models.Model):
    """The last number issued in a series and year; locked while numbering so numbers have no gaps."""

    series = models.CharField(max_length=4)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["series", "year"], name="sequence_once_per_series_year")]

    def __str__(self) -> str:
        return f"{self.series}-{self.year}: {self.last}"


class Note(models.Model):
    """A credit or debit note: the only way a finalised invoice changes."""

    class Kind(models.TextChoices):
        CREDIT = "credit", "Credit note"
        DEBIT = "debit", "Debit note"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="notes")
    kind = models.CharField(max_length=6, choices=Kind.choices)
    number = models.CharField(max_length=20, unique=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    reason = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="note_amount_positive")]

    def __str__(self) -> str:
        return self.number


class Payment(models.Model):
    """Money received from a buyer; allocated to its invoices."""

    buyer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    received_on = models.DateField()
    reference = models.CharField(max_length=80)
    method = models.CharField(max_length=20, default="bank transfer")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # The amount minus its allocations, kept by the services under the payment's row lock: the database itself then
    # refuses an allocation beyond the payment, and finding a buyer's credit at finalisation is one indexed read.
    unallocated = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_on", "-id"]
        indexes = [
            models.Index(
                fields=["buyer", "currency", "received_on"],
                condition=Q(unallocated__gt=0),
                name="payment_with_credit",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(fields=["buyer", "reference"], name="payment_reference_once_per_buyer"),
            models.CheckConstraint(
                condition=Q(unallocated__gte=0, unallocated__lte=F("amount")), name="payment_unallocated_within_amount"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.amount} {self.currency}"


class PaymentAllocation(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive")]

    def __str__(self) -> str:
        return f"{self.amount} to {self.invoice}"


class Settlement(models.Model):
    """What the moderator owes a carrier for a period: its finalised lines less commission."""

    class Status(models.TextChoices):
        DUE = "due", "Due"
        PAID = "paid", "Paid out"

    carrier = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="settlements")
    period = models.DateField()
    currency = models.CharField(max_length=3)
    gross = models.DecimalField(max_digits=14, decimal_places=2, help_text="The period's issued lines.")
    commission = models.DecimalField(max_digits=14, decimal_places=2, help_text="Commission on those lines.")
    adjustments = models.DecimalField(
        max_digits=14, decimal_places=2, default=0, help_text="The carrier's share of notes: debit +, credit −."
    )
    adjustment_commission = models.DecimalField(
        max_digits=14, decimal_places=2, default=0, help_text="Commission on those shares, same sign."
    )
    net = models.DecimalField(
        max_digits=14, decimal_places=2, help_text="gross − commission + adjustments − adjustment commission."
    )
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.DUE)
    statement_pdf = models.FileField(upload_to=pdf_path, max_length=255, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_reference = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-period", "carrier__name"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "period", "currency"], name="settlement_once_per_period"),
            # net = gross - commission + adjustments - adjustment_commission exactly is computed in Decimal by the
            # services and checked by the ledger (SQLite compares floats); a credit note can take net below zero.
            models.CheckConstraint(
                condition=Q(commission__gte=0, commission__lte=F("gross")), name="settlement_commission_within_gross"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.period:%Y-%m}: {self.net} {self.currency}"


class SettlementAdjustment(models.Model):
    """A carrier's share of a credit or debit note, and the commission on it; it lands on one settlement.

    Amounts are signed (a credit note's share is negative). Until a due settlement takes it, `settlement` is empty
    and the ledger counts it as owed to (or by) the carrier.
    """

    note = models.ForeignKey(Note, on_delete=models.PROTECT, related_name="adjustments")
    carrier = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="settlement_adjustments")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    commission = models.DecimalField(max_digits=14, decimal_places=2)
    settlement = models.ForeignKey(
        Settlement, null=True, blank=True, on_delete=models.PROTECT, related_name="adjustment_rows"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["carrier", "currency"], condition=Q(settlement__isnull=True), name="adjustment_waiting"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["note", "carrier"], name="adjustment_once_per_note_and_carrier"),
        ]

    def __str__(self) -> str:
        return f"{self.note} {self.carrier}: {self.amount} {self.currency}"

    @property
    def net(self):  # type: ignore[no-untyped-def]
        return self.amount - self.commission


class Meter(models.Model):
    """A measuring device's HTTP endpoint, polled for usage of one contract line."""

    rate_line = models.ForeignKey(RateLine, on_delete=models.CASCADE, related_name="meters")
    url = models.URLField()
    equipment_id = models.CharField(max_length=64)
    enabled = models.BooleanField(default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["rate_line_id", "id"]

    def __str__(self) -> str:
        return f"{self.equipment_id} at {self.url}"
