"""Switchboard settings, read from the environment (see .env.example)."""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


class _Env(environ.Env):
    """A variable set but blank (as .env.example ships them) counts as unset, so its default applies."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):  # type: ignore[no-untyped-def]
        if default is not self.NOTSET and self.ENVIRON.get(var) == "":
            return default
        return super().get_value(var, cast=cast, default=default, parse_default=parse_default)


env = _Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be development, test or production, not {DJANGO_ENV!r}.")
PRODUCTION = DJANGO_ENV == "production"


def _required_in_production(name: str, dev_default: str) -> str:
    value = env.str(name, default="")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production.")
    return dev_default


SECRET_KEY = _required_in_production("SECRET_KEY", "django-insecure-development-only-key-do-not-use-in-production")
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_ENV=production.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_filters",
    "formtools",
    "guardian",
    "csp",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "marketplace",
    "buyers",
    "sellers",
    "rfq",
    "billing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "marketplace.middleware.RequestContextMiddleware",
    "marketplace.middleware.UserTimezoneMiddleware",
    "marketplace.middleware.InitialPasswordMiddleware",
    "marketplace.middleware.StaffSecondFactorMiddleware",
]

ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "marketplace.context_processors.portal",
            ],
        },
    },
]

# Database: SQLite file by default, PostgreSQL when DATABASE_URL is set.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60 if PRODUCTION else 0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT: our queries are short, and the planner's cost guesses for correlated probes (RFQ matching) made
    # PostgreSQL compile for two seconds a query that runs in tens of milliseconds (bench/README.md).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: broker for Celery and the shared cache (allauth's rate limits need one).
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "marketplace.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "landing"

# django-allauth
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Switchboard] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Switchboard"
# Moderators must set up a TOTP authenticator before using anything but their account pages (on in production).
REQUIRE_STAFF_2FA = env.bool("REQUIRE_STAFF_2FA", default=PRODUCTION)

# django-guardian
GUARDIAN_GET_INIT_ANONYMOUS_USER = "marketplace.models.guardian_anonymous_user"
GUARDIAN_RAISE_403 = False

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Private uploads (documents, past bills, PDFs) live outside STATIC_ROOT and are
# served only through views that check access; MEDIA_URL is never routed.
MEDIA_URL = "/media-not-served/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# E-mail: console by default; EMAIL_URL (smtp://...) for a real server.
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Switchboard <noreply@switchboard.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: inline without REDIS_URL, a real broker with it.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "marketplace.tasks.notification_deliver_task": {"queue": "notifications"},
    "billing.tasks.invoice_render_pdf_task": {"queue": "pdf"},
    "billing.tasks.settlement_render_pdf_task": {"queue": "pdf"},
    "billing.tasks.*": {"queue": "billing"},
    "*.render_pdf*": {"queue": "pdf"},
    "rfq.tasks.rfq_send_summary_task": {"queue": "pdf"},
    "buyers.tasks.group_invitation_email_task": {"queue": "notifications"},
}
# Longer than any ETA we schedule, so Redis does not redeliver a waiting task.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 60 * 60}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# Security headers. The CSP allows our own static files and nothing else.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the container health check speaks plain HTTP
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # WeasyPrint narrates every step of every PDF at INFO: noise in any log.
        "weasyprint.progress": {"level": "WARNING"},
        # Without a broker tasks run inline, and Celery's "Task ... succeeded" line for each would drown the dev
        # server and seed_demo's output; a real worker keeps them.
        **({"celery.app.trace": {"level": "WARNING"}} if CELERY_TASK_ALWAYS_EAGER else {}),
    },
}

# Marketplace rules.
MARKETPLACE_NAME = "Switchboard"
MODERATOR_DETAILS = {
    "name": env.str("MODERATOR_LEGAL_NAME", default="Switchboard Marketplace Ltd"),
    "address": env.str("MODERATOR_ADDRESS", default="1 Exchange Square, London EC2A 2BR, United Kingdom"),
    "tax_id": env.str("MODERATOR_TAX_ID", default="GB 123 4567 89"),
    # Where buyers pay: printed on every invoice with the invoice number as the payment reference.
    "bank_name": env.str("MODERATOR_BANK_NAME", default="Example Bank plc"),
    "account_name": env.str("MODERATOR_ACCOUNT_NAME", default="Switchboard Marketplace Ltd client account"),
    "iban": env.str("MODERATOR_IBAN", default="GB33 EXMP 4000 0012 3456 78"),
    "bic": env.str("MODERATOR_BIC", default="EXMPGB2L"),
    "billing_email": env.str("MODERATOR_BILLING_EMAIL", default="billing@switchboard.example"),
}
INVITATION_LINK_HOURS = 72
# An addendum moves the bid deadline out by at least this many hours.
RFQ_ADDENDUM_MIN_EXTENSION_HOURS = env.int("RFQ_ADDENDUM_MIN_EXTENSION_HOURS", default=48)
# A request must leave carriers at least this long to bid when it is published.
RFQ_MIN_BID_WINDOW_HOURS = env.int("RFQ_MIN_BID_WINDOW_HOURS", default=24)
UPLOAD_MAX_BYTES = 10 * 1024 * 1024
# A buying-group invitation (inbox or code) can be accepted for this many days after it was sent.
try:
    GROUP_INVITATION_TTL_DAYS = env.int("GROUP_INVITATION_TTL_DAYS", default=14)
except ValueError as exc:
    raise ImproperlyConfigured("GROUP_INVITATION_TTL_DAYS must be a whole number of days.") from exc
if GROUP_INVITATION_TTL_DAYS < 1:
    raise ImproperlyConfigured("GROUP_INVITATION_TTL_DAYS must be at least 1.")
