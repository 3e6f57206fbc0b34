"""Registration-wizard uploads abandoned for more than a day are deleted by the hourly purge."""

from __future__ import annotations

import os
import time

from django.core.files.base import ContentFile

from marketplace.celery import app
from sellers import tasks
from sellers.wizard import WizardUploadStorage


def test_the_purge_deletes_only_uploads_older_than_a_day(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    storage = WizardUploadStorage()
    old = storage.save("abandoned.pdf", ContentFile(b"%PDF-1.4 old"))
    nested = storage.save("older/abandoned.png", ContentFile(b"\x89PNG old"))
    fresh = storage.save("in-progress.pdf", ContentFile(b"%PDF-1.4 fresh"))
    day_and_hour_ago = time.time() - 25 * 3600
    for name in (old, nested):
        os.utime(storage.path(name), (day_and_hour_ago, day_and_hour_ago))

    assert tasks.wizard_uploads_purge_task.apply().get() == 2
    assert not storage.exists(old) and not storage.exists(nested)
    assert storage.exists(fresh)
    assert tasks.wizard_uploads_purge_task.apply().get() == 0  # safe to run twice


def test_the_purge_copes_with_no_uploads_yet(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    assert tasks.wizard_uploads_purge_task.apply().get() == 0


def test_beat_runs_the_purge_hourly() -> None:
    entry = app.conf.beat_schedule["wizard-uploads-purge"]
    assert entry["task"] == tasks.wizard_uploads_purge_task.name
    assert entry["schedule"].minute == {30} and len(entry["schedule"].hour) == 24
