"""The one place that talks HTTP to Moodle: session, token, timeouts, retries, politeness.

Reads are retried with jittered exponential backoff (honouring ``Retry-After``) while the
run-wide retry budget lasts. A site that refuses the connection (or whose name does not
resolve) before it has ever answered is a wrong address or a site that is down: one fatal
error naming the address, not a minute of retries. Writes are sent once: if their outcome
is unknown they raise ``InDoubtError`` instead, because Moodle does not de-duplicate (a
resent message arrives twice).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from threading import BoundedSemaphore
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import requests
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_random_exponential
from urllib3.exceptions import NewConnectionError

from moodle_sync.client.envelope import check_response
from moodle_sync.client.params import build_form, chunk_rows, merge_responses
from moodle_sync.client.politeness import RateLimiter, RequesterStats, RetryBudget
from moodle_sync.errors import FatalError, InDoubtError, MoodleError, RetriableError

if TYPE_CHECKING:
    from moodle_sync.settings import MoodleSettings

__all__ = ["Requester"]

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")
MAX_WAIT_SECONDS = 300.0  # Moodle's CLI maintenance page asks for Retry-After: 300
REDACTED = "[REDACTED]"


class Requester:
    """Owns the ``requests.Session`` and every rule about how calls are made."""

    def __init__(
        self,
        settings: MoodleSettings,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.stats = RequesterStats()
        self._token = settings.secret_token().get_secret_value()
        self._secrets = [self._token]
        self._session = session or _new_session(settings.max_concurrent_requests)
        self._verify = settings.verify_tls
        if session is None:
            self._verify = _read_environment_once(self._session, settings.endpoint, self._verify)
        self._sleep = sleep
        self._limiter = RateLimiter(settings.max_requests_per_second, sleep=sleep)
        self._budget = RetryBudget(settings.retry_budget)
        self._slots = BoundedSemaphore(settings.max_concurrent_requests)
        self._pool: ThreadPoolExecutor | None = None
        self._answered = False  # has the site answered anything yet?

    def __enter__(self) -> Requester:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._session.close()

    def add_secret(self, secret: str) -> None:
        """Redact another credential (site info's ``userprivateaccesskey``) from logs and errors."""
        if secret and secret not in self._secrets:
            self._secrets.append(secret)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def call(
        self, function: str, params: Mapping[str, Any] | None = None, *, write: bool = False
    ) -> Any:
        """Call one web-service function; return its parsed JSON after the envelope check."""
        form = build_form(self._token, function, params, self.settings.max_input_vars)
        if write:
            return self._send(function, form, write=True)
        retrying = Retrying(
            retry=retry_if_exception_type(RetriableError),
            stop=stop_after_attempt(self.settings.max_attempts) | _BudgetStop(self._budget),
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        return retrying(self._send, function, form, write=False)

    def call_batched(
        self, function: str, key: str, items: Sequence[Any], params: Mapping[str, Any] | None = None
    ) -> Any:
        """A read whose ``key`` list is split to fit the budgets; the answers are merged."""
        chunks = list(
            chunk_rows(
                items,
                key,
                fixed=params,
                budget=self.settings.max_input_vars,
                max_rows=self.settings.max_ids_per_call,
            )
        )
        parts = self.map(lambda chunk: self.call(function, {**(params or {}), key: chunk}), chunks)
        return merge_responses(parts)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """Run independent calls on the bounded pool; results in input order."""
        items = list(items)
        if len(items) <= 1 or getattr(_worker, "active", False):
            return [fn(item) for item in items]  # nested map in a worker: no pool deadlock
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.settings.max_concurrent_requests, "moodle")
        return list(self._pool.map(lambda item: _in_worker(fn, item), items))

    def _send(self, function: str, form: list[tuple[str, str]], *, write: bool) -> Any:
        self._limiter.acquire()
        with self._slots:
            started = time.perf_counter()
            try:
                response = self._post(form)
            except requests.RequestException as exc:
                raise self._transport_error(function, exc, write) from None
            finally:
                self.stats.record_call(time.perf_counter() - started)
        self._answered = True
        log.debug("%s: HTTP %s, %d bytes", function, response.status_code, len(response.content))
        text = response.content.decode("utf-8", errors="replace")
        try:
            return check_response(function, response.status_code, response.headers, text)
        except RetriableError as exc:
            if write and _outcome_unknown(exc):
                raise self._in_doubt(function, f"HTTP {exc.http_status}", exc.http_status) from exc
            raise

    def _post(self, form: list[tuple[str, str]]) -> requests.Response:
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        return self._session.post(
            self.settings.endpoint,
            data=form,
            timeout=timeout,
            verify=self._verify,
            allow_redirects=False,
        )

    def _transport_error(
        self, function: str, exc: requests.RequestException, write: bool
    ) -> MoodleError:
        detail = self.redact(_reason(exc))
        if isinstance(exc, requests.exceptions.SSLError):
            return FatalError(
                f"{function}: TLS verification failed for {self.settings.url!r} ({detail}); "
                "install the site's CA and set moodle.verify_tls to its bundle path.",
                function=function,
                errorcode="tls",
            )
        refused = _refused(exc)
        if refused and not self._answered:
            return FatalError(
                f"{function}: cannot connect to {self.settings.url!r} ({detail}); check "
                "moodle.url (or MOODLE_SYNC_MOODLE__URL), that the site is up, and that this "
                "machine may reach it (firewall, proxy).",
                function=function,
                errorcode="unreachable",
            )
        surely_unsent = refused or isinstance(exc, requests.exceptions.ConnectTimeout)
        if write and not surely_unsent:
            return self._in_doubt(function, detail, None)
        code = "timeout" if isinstance(exc, requests.Timeout) else "connection"
        return RetriableError(
            f"{function}: no answer from {self.settings.endpoint!r} ({detail}); temporary, "
            f"retried with backoff; if it persists {_transport_hint(exc)}.",
            function=function,
            errorcode=code,
        )

    def _in_doubt(self, function: str, detail: str, status: int | None) -> InDoubtError:
        self.stats.record_in_doubt()
        return InDoubtError(
            f"{function}: the write may or may not have happened ({detail}); it is not resent. "
            "Check Moodle (for messages: what the integration user sent) before retrying.",
            function=function,
            errorcode="indoubt",
            http_status=status,
        )

    def _wait(self, state: RetryCallState) -> float:
        backoff = _BACKOFF(state)
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None) or 0.0
        return float(min(MAX_WAIT_SECONDS, max(backoff, retry_after)))

    def _log_retry(self, state: RetryCallState) -> None:
        self.stats.record_retry()
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("retry %d after %.1fs: %s", state.attempt_number, wait, self.redact(str(exc)))


_BACKOFF = wait_random_exponential(multiplier=0.5, max=60)


class _BudgetStop(stop_base):
    """Stop retrying once the run-wide retry budget is spent (each retry takes one)."""

    def __init__(self, budget: RetryBudget) -> None:
        self._budget = budget

    def __call__(self, retry_state: RetryCallState) -> bool:
        return not self._budget.take()


_worker = threading.local()


def _in_worker(fn: Callable[[T], R], item: T) -> R:
    _worker.active = True
    return fn(item)


def _outcome_unknown(exc: RetriableError) -> bool:
    """5xx after a write was sent may mean it ran; 429 and maintenance pages mean it did not."""
    return (
        exc.http_status is not None and exc.http_status >= 500 and exc.errorcode != "climaintenance"
    )


def _refused(exc: requests.RequestException) -> bool:
    """No connection was ever made: refused, unreachable, or a name that does not resolve."""
    if isinstance(exc, requests.exceptions.Timeout):
        return False
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


def _reason(exc: requests.RequestException) -> str:
    """'[Errno 111] Connection refused' rather than urllib3's whole pool description."""
    found = re.search(r"\[Errno -?\d+\] [^'\")]+", str(exc))
    return found.group(0).strip() if found else f"{type(exc).__name__}: {exc}"


def _transport_hint(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "check the site's load and moodle.read_timeout"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "check moodle.url, the network and moodle.connect_timeout"
    return "check the network between this machine and moodle.url"


def _new_session(pool_size: int) -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = "moodle-sync"
    return session


def _read_environment_once(
    session: requests.Session, endpoint: str, verify: bool | str
) -> bool | str:
    """Resolve what requests takes from the environment (proxies, ``no_proxy``, a CA bundle,
    ``~/.netrc``) once for the one endpoint, and stop it looking again on every call.

    requests re-reads ``os.environ`` and ``~/.netrc`` per request: with ~14,000 own-dates
    calls a sync that was a quarter of the worker's CPU. The environment does not change
    during a run, so the answers are the same; returns the ``verify`` to send.
    """
    found = session.merge_environment_settings(endpoint, {}, None, verify, None)
    netrc = requests.utils.get_netrc_auth(endpoint)
    session.trust_env = False
    session.proxies.update(found["proxies"])
    if netrc:
        session.auth = netrc
    resolved: bool | str | None = found["verify"]
    return verify if resolved is None else resolved
