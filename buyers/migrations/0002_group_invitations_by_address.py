"""Group invitations become rows of their own, addressed to an e-mail address.

Open "invited" memberships move to GroupInvitation, addressed to an owner of the invited organisation (its
contact address when it has no owner), and the membership status "invited" goes away.
"""

import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def _address_for(apps, organization):  # type: ignore[no-untyped-def]
    Membership = apps.get_model("marketplace", "Membership")
    owner = (
        Membership.objects.filter(organization=organization, role="owner", user__is_active=True)
        .select_related("user")
        .order_by("id")
        .first()
    )
    return (owner.user.email if owner else organization.contact_email).strip().lower()


def invited_memberships_to_invitations(apps, schema_editor):  # type: ignore[no-untyped-def]
    GroupMembership = apps.get_model("buyers", "GroupMembership")
    GroupInvitation = apps.get_model("buyers", "GroupInvitation")
    for row in GroupMembership.objects.filter(status="invited").select_related("organization").order_by("id"):
        email = _address_for(apps, row.organization)
        pending = GroupInvitation.objects.filter(group_id=row.group_id, email=email, status="pending")
        if email and not pending.exists():
            GroupInvitation.objects.create(
                group_id=row.group_id,
                email=email,
                organization_id=row.organization_id,
                status="pending",
                created_by_id=row.created_by_id,
                created_at=row.created_at,
            )
        row.delete()


def invitations_to_invited_memberships(apps, schema_editor):  # type: ignore[no-untyped-def]
    GroupMembership = apps.get_model("buyers", "GroupMembership")
    GroupInvitation = apps.get_model("buyers", "GroupInvitation")
    for inv in GroupInvitation.objects.filter(status="pending", organization__isnull=False).order_by("id"):
        open_rows = GroupMembership.objects.filter(
            group_id=inv.group_id, organization_id=inv.organization_id, status__in=["invited", "requested", "active"]
        )
        if not open_rows.exists():
            GroupMembership.objects.create(
                group_id=inv.group_id,
                organization_id=inv.organization_id,
                status="invited",
                created_by_id=inv.created_by_id,
                created_at=inv.created_at,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("buyers", "0001_buyer_profiles_sites_end_customers_groups"),
        ("marketplace", "0004_documents_and_invitations"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="GroupInvitation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "email",
                    models.EmailField(
                        help_text="Stored in lower case, so one address has one pending invitation.", max_length=254
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("accepted", "Accepted"),
                            ("declined", "Declined"),
                            ("cancelled", "Cancelled"),
                        ],
                        default="pending",
                        max_length=12,
                    ),
                ),
                ("code_digest", models.CharField(blank=True, max_length=64)),
                ("emailed_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "group",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="invitations",
                        to="buyers.buyinggroup",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="group_invitations",
                        to="marketplace.organization",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [models.Index(fields=["group", "created_at"], name="groupinvitation_group_day_idx")],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "pending")),
                        fields=("group", "email"),
                        name="groupinvitation_one_pending_per_address",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("code_digest", ""), _negated=True),
                        fields=("code_digest",),
                        name="groupinvitation_code_digest_unique",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("status__in", ["pending", "accepted", "declined", "cancelled"])),
                        name="groupinvitation_status_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("status__in", ["accepted", "declined"]), _negated=True),
                            ("organization__isnull", False),
                            _connector="OR",
                        ),
                        name="groupinvitation_answered_by_organization",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("email", django.db.models.functions.text.Lower("email"))),
                        name="groupinvitation_email_lower_case",
                    ),
                ],
            },
        ),
        migrations.RunPython(invited_memberships_to_invitations, invitations_to_invited_memberships),
        migrations.RemoveConstraint(model_name="groupmembership", name="groupmembership_one_open_per_org"),
        migrations.RemoveConstraint(model_name="groupmembership", name="groupmembership_status_valid"),
        migrations.AlterField(
            model_name="groupmembership",
            name="status",
            field=models.CharField(
                choices=[
                    ("requested", "Asked to join"),
                    ("active", "Member"),
                    ("declined", "Declined"),
                    ("left", "Left"),
                    ("removed", "Removed"),
                ],
                max_length=12,
            ),
        ),
        migrations.AddConstraint(
            model_name="groupmembership",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["requested", "active"])),
                fields=("group", "organization"),
                name="groupmembership_one_open_per_org",
            ),
        ),
        migrations.AddConstraint(
            model_name="groupmembership",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["requested", "active", "declined", "left", "removed"])),
                name="groupmembership_status_valid",
            ),
        ),
    ]
