"""Per-user request throttles, with their own budget for order entry.

Rates come from settings at call time (`API_THROTTLE_RATES`, from the environment), counted in
the default cache (Redis when `REDIS_URL` is set, so every web process shares the count).
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import throttling


class _SettingsRate:
    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATES[self.scope]


class UserThrottle(_SettingsRate, throttling.UserRateThrottle):
    scope = "user"


class AnonThrottle(_SettingsRate, throttling.AnonRateThrottle):
    scope = "anon"


class OrderEntryThrottle(_SettingsRate, throttling.UserRateThrottle):
    """For order submit, amend and cancel: a separate budget per user, on top of `user`."""

    scope = "orders"
