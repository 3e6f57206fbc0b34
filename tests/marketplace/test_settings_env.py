"""Configuration comes from the environment; production refuses to start half-configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django, json; from django.conf import settings; django.setup(); "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
    "'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'cache': settings.CACHES['default']['BACKEND'], "
    "'email': settings.EMAIL_BACKEND, 'debug': settings.DEBUG}))"
)


def run(env_extra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "marketplace.settings", "SECRET_KEY": "", "ALLOWED_HOSTS": ""})
    env.update(env_extra)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_embedded_default_needs_nothing() -> None:
    import json

    result = run({}, "-c", PROBE)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values == {
        "engine": "django.db.backends.sqlite3",
        "eager": True,
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "email": "django.core.mail.backends.console.EmailBackend",
        "debug": True,
    }


def test_database_and_redis_urls_switch_backends() -> None:
    import json

    result = run(
        {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "REDIS_URL": "redis://127.0.0.1:6379/3"}, "-c", PROBE
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["eager"] is False
    assert values["cache"] == "django.core.cache.backends.redis.RedisCache"


def test_production_refuses_to_start_without_secret_key() -> None:
    result = run({"DJANGO_ENV": "production", "ALLOWED_HOSTS": "switchboard.example"}, "manage.py", "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts() -> None:
    result = run({"DJANGO_ENV": "production", "SECRET_KEY": "x" * 60}, "manage.py", "check")
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_unknown_environment_name_is_refused() -> None:
    result = run({"DJANGO_ENV": "staging"}, "manage.py", "check")
    assert result.returncode != 0
    assert "DJANGO_ENV must be" in result.stderr


def test_deploy_check_is_clean_in_production() -> None:
    secret = "k3J9-pQx7_vB2mN8zR4tY6wE1aS5dF0gH9jK2lZ7xC3vB8nM4qW6eR1tY5uI0oP"
    result = run(
        {"DJANGO_ENV": "production", "SECRET_KEY": secret, "ALLOWED_HOSTS": "switchboard.example"},
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_env_example_copied_as_is_keeps_every_default() -> None:
    """`cp .env.example .env` leaves most values blank: blank means "use the default", in production too."""
    import json

    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    values.update(
        {"DJANGO_ENV": "production", "SECRET_KEY": "k3J9-pQx7_vB2mN8zR4tY6wE1aS5dF0gH9jK2lZ7xC3vB8nM4qW6eR1tY5uI0oP"}
    )
    values["ALLOWED_HOSTS"] = "switchboard.example"
    probe = (
        "import django, json; from django.conf import settings as s; django.setup(); "
        "print(json.dumps({'debug': s.DEBUG, 'ssl': s.SECURE_SSL_REDIRECT, 'hsts': s.SECURE_HSTS_SECONDS, "
        "'staff_2fa': s.REQUIRE_STAFF_2FA, 'media': str(s.MEDIA_ROOT), 'age': s.DATABASES['default']['CONN_MAX_AGE'], "
        "'engine': s.DATABASES['default']['ENGINE'], 'eager': s.CELERY_TASK_ALWAYS_EAGER}))"
    )
    result = run(values, "-c", probe)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "debug": False,
        "ssl": True,
        "hsts": 31_536_000,
        "staff_2fa": True,
        "media": str(ROOT / "media"),
        "age": 60,
        "engine": "django.db.backends.sqlite3",
        "eager": True,
    }


def test_postgresql_connections_run_without_jit() -> None:
    """JIT compilation cost seconds on short queries (bench/README.md, matching.py): every connection turns it off."""
    import json

    probe = (
        "import django, json; from django.conf import settings; django.setup(); "
        "print(json.dumps(settings.DATABASES['default'].get('OPTIONS', {})))"
    )
    result = run({"DATABASE_URL": "postgres://u@127.0.0.1:5432/x"}, "-c", probe)
    assert result.returncode == 0, result.stderr
    assert "-c jit=off" in json.loads(result.stdout)["options"]
