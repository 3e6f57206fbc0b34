"""The one Celery app; configuration comes from Django settings (CELERY_*)."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")

app = Celery("switchboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic work, one place. django-celery-beat's DatabaseScheduler reads this at start
# and lets moderators pause or reschedule entries in the admin.
app.conf.beat_schedule = {
    # Every minute: bids open at their deadline, day-before reminders, undecided requests expire.
    # (Sealing does not depend on this: the services check the clock themselves.)
    "rfq-deadlines": {
        "task": "rfq.tasks.rfq_deadlines_tick",
        "schedule": crontab(),
    },
    # On the 1st at 02:00 UTC: draft invoices for the month that ended (moderators finalise them).
    "monthly-bill-run": {
        "task": "billing.tasks.monthly_bill_run_task",
        "schedule": crontab(minute=0, hour=2, day_of_month=1),
    },
    # Every 15 minutes: query the measuring equipment configured on contracts.
    "meters": {
        "task": "billing.tasks.meters_poll_task",
        "schedule": crontab(minute="*/15"),
    },
    # Hourly: delete carrier-registration uploads whose wizard was abandoned more than 24 hours ago.
    "wizard-uploads-purge": {
        "task": "sellers.tasks.wizard_uploads_purge_task",
        "schedule": crontab(minute=30),
    },
    # Hourly: group invitations older than GROUP_INVITATION_TTL_DAYS turn from pending to expired. Pages and
    # services already treat them as expired from their age; this keeps the stored status (admin, audit) true.
    "group-invitations-expire": {
        "task": "buyers.tasks.group_invitations_expire_task",
        "schedule": crontab(minute=45),
    },
    # Hourly: keeps the queue honest by proving the broker and a worker are alive.
    "heartbeat": {
        "task": "marketplace.tasks.heartbeat_task",
        "schedule": crontab(minute=0),
    },
}
