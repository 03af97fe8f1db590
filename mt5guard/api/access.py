"""Who is calling: bearer tokens, their scopes and accounts, and a rate limit per token."""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable

from mt5guard.api.problems import ApiProblem
from mt5guard.config import ApiConfig, ApiTokenConfig

__all__ = ["Caller", "Gate"]


class Caller:
    """An authenticated token holder (never carries the token itself)."""

    def __init__(self, token: ApiTokenConfig) -> None:
        self.name = token.name
        self.scopes = frozenset(token.scopes)
        self._accounts = frozenset(token.accounts)

    def may_touch(self, account: str) -> bool:
        return "*" in self._accounts or account in self._accounts


class _Bucket:
    """A token bucket: ``rate`` per second, ``burst`` at most; time is an argument."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens, self.at = float(burst), now

    def take(self, now: float) -> float:
        """0 when a request may go now, else the seconds until one may."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class Gate:
    """Authenticates a request's ``Authorization`` header and applies the token's rate limit.

    ``monotonic`` is the clock's, in seconds. Tokens are compared in constant
    time; a wrong token and a missing one get the same answer.
    """

    def __init__(self, config: ApiConfig, monotonic: Callable[[], float]) -> None:
        self._tokens = [(t.token.reveal().encode(), Caller(t)) for t in config.tokens]
        self._monotonic = monotonic
        self._rate, self._burst = config.requests_per_second, config.burst
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def caller(self, authorization: str | None) -> Caller:
        scheme, _, value = (authorization or "").partition(" ")
        offered = value.strip().encode()
        found = None
        for token, caller in self._tokens:  # every token is compared: no timing hint
            if hmac.compare_digest(token, offered) and scheme.lower() == "bearer":
                found = caller
        if found is None:
            raise ApiProblem(401, "unauthorized", "Unauthorized",
                             "send Authorization: Bearer <token> with a configured api token",
                             headers={"WWW-Authenticate": 'Bearer realm="mt5guard"'})
        self.throttle(found.name, f"token {found.name!r}")
        return found

    def throttle(self, bucket_name: str, who: str) -> None:
        """Take one request from ``bucket_name``'s bucket, or 429 naming ``who``."""
        now = self._monotonic()
        with self._lock:
            bucket = self._buckets.setdefault(bucket_name, _Bucket(self._rate, self._burst, now))
            wait = bucket.take(now)
        if wait > 0:
            raise ApiProblem(429, "rate_limited", "Too Many Requests",
                             f"{who} is over api.requests_per_second "
                             f"({self._rate:g}/s, burst {self._burst}); nothing was sent",
                             headers={"Retry-After": str(max(1, round(wait + 0.5)))},
                             retryable=True)
