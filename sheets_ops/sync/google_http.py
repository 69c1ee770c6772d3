"""gspread's HTTP client, made to give up: a bounded, jittered exponential backoff that
resends a request only when Google certainly did not apply it (408, 429), or when it is a
read (also on 5xx and time-outs). gspread 6.2.1's own BackOffHTTPClient never gives up on 429."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import requests
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
NOT_APPLIED = frozenset({408, 429})  # Google refused the request before doing anything


class RetryingHTTPClient(HTTPClient):
    """gspread's HTTP client with a bounded, jittered exponential backoff and a timeout."""

    tries = 6
    base_delay = 1.0
    max_delay = 32.0
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def request(
        self,
        method: str,
        endpoint: str,
        params: Any = None,
        data: Any = None,
        json: Any = None,
        files: Any = None,
        headers: Any = None,
    ) -> requests.Response:
        resend_always = method.lower() == "get"  # reading twice changes nothing
        for attempt in range(1, self.tries + 1):
            try:
                return super().request(
                    method,
                    endpoint,
                    params=params,
                    data=data,
                    json=json,
                    files=files,
                    headers=headers,
                )
            except APIError as e:
                status = e.response.status_code
                again = status in NOT_APPLIED or (resend_always and status in RETRY_STATUS)
                if not again or attempt == self.tries:
                    raise
                wait = _retry_after(e.response) or self.delay(attempt)
            except (requests.Timeout, requests.ConnectionError):
                if not resend_always or attempt == self.tries:
                    raise
                wait = self.delay(attempt)
            self.sleep(wait)
        raise AssertionError("unreachable")

    def delay(self, attempt: int) -> float:
        """Full jitter: anywhere up to base * 2^(attempt-1), capped."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return min(float(value), 60.0)
    except ValueError:
        return None
