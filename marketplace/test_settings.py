"""Settings for the test suite: the real database and broker from the environment, fast hashing."""

from marketplace.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks run inline so a test sees their effect; the broker test turns this off for itself.
CELERY_TASK_ALWAYS_EAGER = True
# Rate limits would trip over the many sign-ins of the suite; the rate-limit test turns them on.
ACCOUNT_RATE_LIMITS = False  # type: ignore[assignment]
MEDIA_ROOT = BASE_DIR / "tmp" / "test-media"  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "CRITICAL"}}
