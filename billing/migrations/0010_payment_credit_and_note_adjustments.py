"""Payments keep their unallocated remainder; credit and debit notes reach carriers' settlements as adjustments.

Existing payments get their remainder (amount less allocations) before the constraint that bounds it is added.
Notes issued before this migration have no adjustments: the ledger shows what they leave unreconciled.
"""

from decimal import Decimal

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def payments_remainder(apps, schema_editor):  # type: ignore[no-untyped-def]
    Payment = apps.get_model("billing", "Payment")
    for payment in Payment.objects.annotate(allocated=models.Sum("allocations__amount")).iterator():
        remainder = (payment.amount - (payment.allocated or 0)).quantize(Decimal("0.01"))
        if remainder:
            Payment.objects.filter(pk=payment.pk).update(unallocated=remainder)


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0009_invoice_line_quantity_wider'),
        ('marketplace', '0004_documents_and_invitations'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SettlementAdjustment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('currency', models.CharField(max_length=3)),
                ('amount', models.DecimalField(decimal_places=2, max_digits=14)),
                ('commission', models.DecimalField(decimal_places=2, max_digits=14)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'ordering': ['created_at', 'id'],
            },
        ),
        migrations.RemoveConstraint(
            model_name='settlement',
            name='settlement_net_within_gross',
        ),
        migrations.AddField(
            model_name='payment',
            name='unallocated',
            field=models.DecimalField(decimal_places=2, default=0, max_digits=14),
        ),
        migrations.RunPython(payments_remainder, migrations.RunPython.noop),
        migrations.AddField(
            model_name='settlement',
            name='adjustment_commission',
            field=models.DecimalField(decimal_places=2, default=0, help_text='Commission on those shares, same sign.', max_digits=14),
        ),
        migrations.AddField(
            model_name='settlement',
            name='adjustments',
            field=models.DecimalField(decimal_places=2, default=0, help_text="The carrier's share of notes: debit +, credit −.", max_digits=14),
        ),
        migrations.AlterField(
            model_name='settlement',
            name='commission',
            field=models.DecimalField(decimal_places=2, help_text='Commission on those lines.', max_digits=14),
        ),
        migrations.AlterField(
            model_name='settlement',
            name='gross',
            field=models.DecimalField(decimal_places=2, help_text="The period's issued lines.", max_digits=14),
        ),
        migrations.AlterField(
            model_name='settlement',
            name='net',
            field=models.DecimalField(decimal_places=2, help_text='gross − commission + adjustments − adjustment commission.', max_digits=14),
        ),
        migrations.AddIndex(
            model_name='payment',
            index=models.Index(condition=models.Q(('unallocated__gt', 0)), fields=['buyer', 'currency', 'received_on'], name='payment_with_credit'),
        ),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.CheckConstraint(condition=models.Q(('unallocated__gte', 0), ('unallocated__lte', models.F('amount'))), name='payment_unallocated_within_amount'),
        ),
        migrations.AddConstraint(
            model_name='settlement',
            constraint=models.CheckConstraint(condition=models.Q(('commission__gte', 0), ('commission__lte', models.F('gross'))), name='settlement_commission_within_gross'),
        ),
        migrations.AddField(
            model_name='settlementadjustment',
            name='carrier',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='settlement_adjustments', to='marketplace.organization'),
        ),
        migrations.AddField(
            model_name='settlementadjustment',
            name='note',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='adjustments', to='billing.note'),
        ),
        migrations.AddField(
            model_name='settlementadjustment',
            name='settlement',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='adjustment_rows', to='billing.settlement'),
        ),
        migrations.AddIndex(
            model_name='settlementadjustment',
            index=models.Index(condition=models.Q(('settlement__isnull', True)), fields=['carrier', 'currency'], name='adjustment_waiting'),
        ),
        migrations.AddConstraint(
            model_name='settlementadjustment',
            constraint=models.UniqueConstraint(fields=('note', 'carrier'), name='adjustment_once_per_note_and_carrier'),
        ),
    ]
