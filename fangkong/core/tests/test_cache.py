from django.conf import settings
from django.test import override_settings

from fangkong.core.cache import ProcessCache


@override_settings(FANGKONG={**settings.FANGKONG, "PUBLIC_CACHE_SECONDS": 60})
def test_a_found_value_is_kept_a_missing_one_is_looked_up_again():
    cache = ProcessCache()
    calls = []

    def load(value):
        calls.append(value)
        return value

    assert cache.get("a", lambda: load("A")) == "A"
    assert cache.get("a", lambda: load("B")) == "A"  # kept
    assert cache.get("x", lambda: load(None)) is None
    assert cache.get("x", lambda: load("X")) == "X"  # a miss is never kept
    assert calls == ["A", None, "X"]


@override_settings(FANGKONG={**settings.FANGKONG, "PUBLIC_CACHE_SECONDS": 0})
def test_zero_seconds_turns_it_off():
    cache = ProcessCache()
    cache.get("a", lambda: "A")
    assert cache.get("a", lambda: "B") == "B"
