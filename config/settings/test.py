import tempfile

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
AXES_ENABLED = True

# Uploaded import files go to a throwaway folder, never into ./var/media.
MEDIA_ROOT = tempfile.mkdtemp(prefix="fangkong-test-media-")

# Each test process keeps its own counters (tests clear them; nothing leaks between runs).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Every test builds its own divisions: no division outlives its test in a process cache.
# Self-reports are registered within the request (no loop worker runs in the tests; the
# queue itself is tested with the setting off).
FANGKONG = {
    **FANGKONG,  # noqa: F405
    "PUBLIC_CACHE_SECONDS": 0,
    "API_TOKEN_CACHE_SECONDS": 0,
    "LOOP_INLINE": True,
}
