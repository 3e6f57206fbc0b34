"""Group invitations can expire: a status "expired" beside pending, accepted, declined and cancelled.

Going back, expired invitations become cancelled, the closest status the earlier code knows (it had no
expiry, and a pending one could clash with a newer invitation to the same address).
"""

from django.db import migrations, models


def expired_to_cancelled(apps, schema_editor):  # type: ignore[no-untyped-def]
    GroupInvitation = apps.get_model("buyers", "GroupInvitation")
    GroupInvitation.objects.filter(status="expired").update(status="cancelled")


class Migration(migrations.Migration):
    dependencies = [
        ("buyers", "0002_group_invitations_by_address"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="groupinvitation",
            name="groupinvitation_status_valid",
        ),
        migrations.AlterField(
            model_name="groupinvitation",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("accepted", "Accepted"),
                    ("declined", "Declined"),
                    ("cancelled", "Cancelled"),
                    ("expired", "Expired"),
                ],
                default="pending",
                max_length=12,
            ),
        ),
        # Runs backwards between the two constraint operations, so no expired row meets the old constraint.
        migrations.RunPython(migrations.RunPython.noop, expired_to_cancelled),
        migrations.AddConstraint(
            model_name="groupinvitation",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["pending", "accepted", "declined", "cancelled", "expired"])),
                name="groupinvitation_status_valid",
            ),
        ),
    ]
