"""A task goes through the real Redis broker to a real worker and back."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from marketplace.celery import app
from marketplace.tasks import echo_task

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.broker
def test_task_round_trips_through_the_broker() -> None:
    if not settings.REDIS_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must set REDIS_URL: the broker test may not skip there.")
        pytest.skip("needs REDIS_URL pointing at a running Redis (set in CI by .ci/run)")
    queue = f"test-{secrets.token_hex(4)}"
    token = secrets.token_hex(8)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "marketplace.settings"}
    worker = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "marketplace",
            "worker",
            "-Q",
            queue,
            "--pool",
            "solo",
            "-n",
            f"{queue}@%h",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        echo_task.apply_async(args=[token], queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and cache.get(f"echo:{token}") is None:
            assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else "worker died"
            time.sleep(0.2)
        assert cache.get(f"echo:{token}") == token
    finally:
        app.conf.task_always_eager = previous
        worker.terminate()
        worker.wait(timeout=20)


def test_celery_is_configured_for_safe_redelivery() -> None:
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_time_limit and conf.task_soft_time_limit
    routes = conf.task_routes
    assert routes["marketplace.tasks.notification_deliver_task"] == {"queue": "notifications"}
    assert "heartbeat" in conf.beat_schedule
