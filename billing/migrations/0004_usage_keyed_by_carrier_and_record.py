"""Usage records are keyed by (carrier, record_id) instead of a surrogate id.

The surrogate id cost a sequence call and a second index entry per imported row. Django cannot change a
table's primary key in place, so the table is rebuilt: the old one is renamed, the new one created, the rows
copied across, and the old one dropped.
"""

import django.db.models.deletion
from django.db import migrations, models

COLUMNS = (
    "carrier_id, record_id, contract_id, rate_line_id, buyer_id, end_customer_id, usage_import_id, source,"
    " interval_start, interval_end, quantity, unit, service_type_code, min_bandwidth_mbps, max_bandwidth_mbps,"
    " volume_bytes, latency_ms, jitter_ms, packet_loss_pct, asr_pct, equipment_id, bill_period, is_adjustment"
)


def drop_brin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS usage_period_brin")


def copy_rows(apps, schema_editor):
    schema_editor.execute(
        f"INSERT INTO billing_usagerecord ({COLUMNS}) SELECT {COLUMNS} FROM billing_usagerecordbefore"  # noqa: S608
    )


def copy_rows_back(apps, schema_editor):
    schema_editor.execute(
        f"INSERT INTO billing_usagerecordbefore ({COLUMNS}) SELECT {COLUMNS} FROM billing_usagerecord"  # noqa: S608
    )


def postgresql_tuning(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # Bytewise comparison: the key is an opaque identifier, and the locale's collation costs time per row.
        schema_editor.execute('ALTER TABLE billing_usagerecord ALTER COLUMN record_id TYPE varchar(64) COLLATE "C"')
        # The renamed table kept the old key's name while the new one was created beside it.
        schema_editor.execute("ALTER INDEX IF EXISTS billing_usagerecord_pkey1 RENAME TO billing_usagerecord_pkey")
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS usage_period_brin ON billing_usagerecord USING brin (bill_period)"
        )


def noop(apps, schema_editor):
    pass


def fk(to, **extra):
    return models.ForeignKey(
        db_constraint=False,
        db_index=False,
        on_delete=django.db.models.deletion.DO_NOTHING,
        related_name="+",
        to=to,
        **extra,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_usage_brin_period_index"),
        ("buyers", "0001_buyer_profiles_sites_end_customers_groups"),
        ("marketplace", "0004_documents_and_invitations"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="usagerecord", name="usage_record_once_per_carrier"),
        migrations.RunPython(drop_brin, noop),
        migrations.RenameModel("UsageRecord", "UsageRecordBefore"),
        migrations.CreateModel(
            name="UsageRecord",
            fields=[
                ("pk", models.CompositePrimaryKey("carrier_id", "record_id", blank=True, editable=False, primary_key=True, serialize=False)),
                ("carrier", fk("marketplace.organization")),
                ("record_id", models.CharField(max_length=64)),
                ("contract", fk("billing.contract")),
                ("rate_line", fk("billing.rateline")),
                ("buyer", fk("marketplace.organization")),
                ("end_customer", fk("buyers.endcustomer", null=True)),
                ("usage_import", fk("billing.usageimport")),
                ("source", models.CharField(max_length=10)),
                ("interval_start", models.DateTimeField()),
                ("interval_end", models.DateTimeField()),
                ("quantity", models.DecimalField(decimal_places=6, max_digits=18)),
                ("unit", models.CharField(max_length=20)),
                ("service_type_code", models.CharField(blank=True, max_length=60)),
                ("min_bandwidth_mbps", models.DecimalField(decimal_places=3, max_digits=12, null=True)),
                ("max_bandwidth_mbps", models.DecimalField(decimal_places=3, max_digits=12, null=True)),
                ("volume_bytes", models.BigIntegerField(null=True)),
                ("latency_ms", models.DecimalField(decimal_places=3, max_digits=10, null=True)),
                ("jitter_ms", models.DecimalField(decimal_places=3, max_digits=10, null=True)),
                ("packet_loss_pct", models.DecimalField(decimal_places=4, max_digits=7, null=True)),
                ("asr_pct", models.DecimalField(decimal_places=4, max_digits=7, null=True)),
                ("equipment_id", models.CharField(blank=True, max_length=64)),
                (
                    "bill_period",
                    models.DateField(help_text="First day of the month whose bill carries this record."),
                ),
                (
                    "is_adjustment",
                    models.BooleanField(default=False, help_text="Arrived after its own month was finalised."),
                ),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("interval_end__gt", models.F("interval_start"))),
                        name="usage_interval_valid",
                    ),
                    models.CheckConstraint(condition=models.Q(("quantity__gte", 0)), name="usage_quantity_not_negative"),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("record_id", ""), _negated=True), models.Q(("unit", ""), _negated=True)
                        ),
                        name="usage_ids_not_blank",
                    ),
                ],
            },
        ),
        migrations.RunPython(copy_rows, copy_rows_back),
        migrations.DeleteModel("UsageRecordBefore"),
        migrations.RunPython(postgresql_tuning, noop),
    ]
