"""The one HTTP transport both hooks use: retries, rate-limit waits, errors, redacted logs.

Why one place: AMC and JOOR fail in the same ways (5xx bursts, 429s, hangs, dropped
connections, half-written JSON) and every flow must react the same way. The rules:

* **429** waits for ``Retry-After`` (or ``X-RateLimit-Reset``) and tries again: rate limiting
  alone never fails a task, within :attr:`RetryPolicy.rate_limit_max_wait`.
* **5xx, timeouts, dropped connections, malformed JSON** retry with exponential backoff and
  full jitter, bounded by :attr:`RetryPolicy.max_attempts` and :attr:`RetryPolicy.max_elapsed`.
* **Other 4xx** raise at once (``AmcApiError`` / ``JoorApiError``) with the endpoint, status and
  the API's own message: never a credential, never a query string, never a response body dump.
* **Non-idempotent writes** (``safe=False``) are retried only when the server provably did not
  process them (connection refused, connect timeout, 429). A read timeout, a drop after
  sending, any 5xx or unreadable JSON raise with ``ambiguous=True`` so the caller can look
  the record up instead of creating it twice.

Per attempt the caller can hook in: ``before_send`` (reserve JOOR credits, refresh a token),
``on_response(resp, sent_at, received_at)`` (sync the credit budget with rate-limit headers), ``parse`` (decode the API's
envelope; raise to fail or to retry) and ``on_unauthorized`` (renew a token once on 401).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
import tenacity
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)

#: Query/body keys whose values are credentials (AMC sends ``token`` in the query and body).
SENSITIVE_KEYS = frozenset(
    {"token", "password", "client_secret", "access_token", "refresh_token", "authorization", "v2_token"}
)

#: Longest API message carried into an exception (the rest is usually an echo of the payload).
MAX_MESSAGE_CHARS = 500


class ApiError(Exception):
    """A call to AMC or JOOR failed for good (after any retries the policy allows).

    ``kind`` is one of: ``client_error`` (4xx), ``auth`` (401/403), ``api_error`` (an error in
    the API's envelope, e.g. AMC ``meta.errors`` under HTTP 200), ``rate_limited``,
    ``server_error``, ``timeout``, ``connection``, ``malformed`` (unreadable body),
    ``budget`` (the credit budget could not be reserved in time).
    ``ambiguous`` is True when a non-idempotent write may or may not have been applied.
    """

    api = "API"

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        method: str = "",
        status: int | None = None,
        kind: str = "client_error",
        retryable: bool = False,
        retry_after: float | None = None,
        ambiguous: bool = False,
        errors: list[Any] | None = None,
    ) -> None:
        self.message = message
        self.endpoint = endpoint
        self.method = method
        self.status = status
        self.kind = kind
        self.retryable = retryable
        self.retry_after = retry_after
        self.ambiguous = ambiguous
        self.errors = errors or []
        self.attempts = 1
        super().__init__(message)

    def __str__(self) -> str:
        where = f"{self.method} {self.endpoint}".strip()
        status = f"HTTP {self.status}" if self.status is not None else self.kind
        tail = f" (after {self.attempts} attempts)" if self.attempts > 1 else ""
        amb = " [write may have been applied: look it up before retrying]" if self.ambiguous else ""
        return f"{self.api} {where}: {status}: {self.message}{tail}{amb}"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds of the shared retry mechanism (all seconds)."""

    max_attempts: int = 6  # total tries for transient failures (5xx, timeouts, drops, bad JSON)
    max_elapsed: float = 180.0  # give up on transient failures after this long (429 waits excluded)
    backoff_initial: float = 0.5
    backoff_max: float = 20.0
    rate_limit_max_wait: float = 900.0  # total time a call may spend waiting out 429s
    rate_limit_default_wait: float = 5.0  # when a 429 carries no Retry-After / reset header
    connect_timeout: float = 10.0
    read_timeout: float = 60.0

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)


_QUERY_SECRET_RE = re.compile(
    r"(?i)\b(token|password|client_secret|access_token|refresh_token|v2_token)(=|%3D)[^&\s\"']+"
)


def redact_text(text: str) -> str:
    """Mask ``token=…``-style credentials inside a free text (a URL in a log line)."""
    return _QUERY_SECRET_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


class RedactQueryFilter(logging.Filter):
    """Rewrites records of HTTP client loggers so a URL's query credentials never reach a handler.

    urllib3 logs every request line (``"GET /api/json/x?token=… HTTP/1.1"``) at DEBUG, and AMC
    carries its token in the query: with DEBUG logging on, the token would land in task logs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is not ours to fix
            return True
        clean = redact_text(text)
        if clean != text:
            record.msg, record.args = clean, None
        return True


def install_log_redaction() -> None:
    """Attach :class:`RedactQueryFilter` to the HTTP client loggers (idempotent)."""
    for name in ("urllib3.connectionpool", "urllib3", "requests"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQueryFilter) for f in logger.filters):
            logger.addFilter(RedactQueryFilter())


install_log_redaction()


# --- pure helpers -----------------------------------------------------------------------------


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter for the ``attempt``-th retry (1-based): never zero, capped."""
    cap = min(policy.backoff_max, policy.backoff_initial * (2 ** max(attempt - 1, 0)))
    r = (rng or random).random()
    return cap / 2 + r * cap / 2


def retry_after_seconds(headers: Mapping[str, str], default: float) -> float:
    """How long a 429 asks us to wait: ``Retry-After`` (seconds or HTTP date), else ``X-RateLimit-Reset``."""
    raw = headers.get("Retry-After")
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                return max(0.0, parsedate_to_datetime(raw).timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    raw = headers.get("X-RateLimit-Reset")
    if raw:
        try:
            value = float(raw)
            # Seconds until reset, or (some APIs) an epoch timestamp.
            return max(0.0, value - time.time()) if value > 1e9 else max(0.0, value)
        except ValueError:
            pass
    return default


#: ``proxies=`` for one request that must go direct: ``None`` values remove the env's proxies.
NO_PROXIES: dict[str, None] = {"http": None, "https": None, "all": None}


def bypasses_proxy(url: str) -> bool:
    """Whether ``url`` is on this machine (127.0.0.0/8, ``::1``, ``localhost``): never proxied.

    Why: the sandboxes listen on loopback; a proxy env set for the real APIs (HTTPS_PROXY without
    NO_PROXY covering 127.0.0.1) would send sandbox calls to the proxy, which cannot reach them.
    """
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redact_url(url: str) -> str:
    """The URL without its query string (AMC carries the token there): safe to log or raise."""
    parts = urlsplit(url)
    return parts.path or "/"


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """Copy of a params/body structure with credential keys and known secret strings masked."""
    secrets = [s for s in secrets if s]
    if isinstance(value, Mapping):
        return {
            k: ("***" if str(k).lower() in SENSITIVE_KEYS else redact(v, secrets)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v, secrets) for v in value]
    if isinstance(value, str):
        return scrub(value, secrets)
    return value


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every known secret inside a free text (e.g. an API error that echoes the token)."""
    for s in secrets:
        if s and len(s) >= 4:
            text = text.replace(s, "***")
    return text


def short(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def decode_json(resp: requests.Response) -> Any:
    """Parse a JSON body; a half-written or non-JSON 2xx body is a transient ``malformed`` error."""
    try:
        return resp.json()
    except (ValueError, json.JSONDecodeError) as exc:
        raise ApiError(
            f"unreadable JSON in the response ({type(exc).__name__}, {len(resp.content)} bytes)",
            status=resp.status_code,
            kind="malformed",
            retryable=True,
        ) from None


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request provably never reached the server (safe to resend any write)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        text = repr(exc)
        return "NewConnectionError" in text or "Connection refused" in text or "NameResolution" in text
    return False


# --- the transport ----------------------------------------------------------------------------


@dataclass
class Transport:
    """Sends one logical request with the shared retry rules. One instance per hook."""

    api: str  # "AMC" or "JOOR": the prefix of messages
    error_cls: type[ApiError] = ApiError
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    secrets: Callable[[], Iterable[str]] = lambda: ()
    logger: logging.Logger | logging.LoggerAdapter | Any = log
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session | None = None
    # honour HTTPS_PROXY/NO_PROXY (connection extra ``trust_env: false`` to ignore); loopback
    # hosts (the sandboxes) always go direct, whatever the env says (see bypasses_proxy)
    trust_env: bool = True

    def get_session(self) -> requests.Session:
        """A plain session: no connection extras as headers, no basic auth, pooled connections."""
        if self.session is None:
            s = requests.Session()
            s.trust_env = self.trust_env
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=8, max_retries=0)
            s.mount("http://", adapter)
            s.mount("https://", adapter)
            self.session = s
        return self.session

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    def _error(self, exc: ApiError, method: str, endpoint: str) -> ApiError:
        """Re-type a generic ApiError as this API's class, stamped with the endpoint, scrubbed."""
        secrets = list(self.secrets())
        err = exc if isinstance(exc, self.error_cls) else self.error_cls(
            exc.message,
            status=exc.status,
            kind=exc.kind,
            retryable=exc.retryable,
            retry_after=exc.retry_after,
            ambiguous=exc.ambiguous,
            errors=exc.errors,
        )
        err.message = scrub(short(err.message), secrets)
        err.errors = redact(err.errors, secrets)
        err.endpoint = endpoint
        err.method = method
        err.args = (err.message,)
        return err

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        json_body: Any = None,
        data: Any = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        safe: bool = True,
        timeout: float | tuple[float, float] | None = None,
        before_send: Callable[[dict[str, Any]], None] | None = None,
        on_response: Callable[[requests.Response, float, float], None] | None = None,
        on_rate_limited: Callable[[float], None] | None = None,
        on_unauthorized: Callable[[], bool] | None = None,
        parse: Callable[[requests.Response], Any] = decode_json,
    ) -> Any:
        """Send with retries; return ``parse(response)`` of the first acceptable response.

        ``before_send(kwargs)`` may mutate the request kwargs (e.g. set the Authorization header)
        and may block (credit budget). ``safe=False`` marks a non-idempotent write.
        """
        method = method.upper()
        endpoint = redact_url(url)
        policy = self.policy
        started = time.monotonic()
        state: dict[str, Any] = {"transient": 0, "rate_wait": 0.0, "blocked": 0.0, "reauth": 0, "give_up": False}
        timeout = timeout or policy.timeout

        def attempt() -> Any:
            kwargs: dict[str, Any] = {
                "params": params,
                "json": json_body,
                "data": data,
                "files": files,
                "headers": dict(headers or {}),
                "timeout": timeout,
            }
            if self.trust_env and bypasses_proxy(url):
                kwargs["proxies"] = NO_PROXIES  # the env's proxies are for remote hosts only
            if before_send is not None:
                b0 = time.monotonic()
                before_send(kwargs)  # may block on the credit budget: not "busy" time
                state["blocked"] += time.monotonic() - b0
            sent_at, t0 = time.time(), time.monotonic()
            try:
                resp = self.get_session().request(method, url, **kwargs)
            except requests.RequestException as exc:
                raise self._transport_failure(exc, safe) from None
            elapsed = time.monotonic() - t0
            self.logger.debug("%s %s %s -> HTTP %s in %.3fs", self.api, method, endpoint, resp.status_code, elapsed)
            if on_response is not None:
                on_response(resp, sent_at, time.time())
            return self._check(resp, safe, on_rate_limited, on_unauthorized, state, parse)

        def should_retry(exc: BaseException) -> bool:
            return isinstance(exc, ApiError) and exc.retryable

        def wait(rs: tenacity.RetryCallState) -> float:
            # Tenacity calls wait before stop: decide both here, stop() just reads the verdict.
            exc = rs.outcome.exception() if rs.outcome else None
            state["give_up"] = True
            if not isinstance(exc, ApiError):
                return 0.0
            if exc.kind == "reauth":
                state["give_up"] = state["reauth"] > 1
                return 0.0
            if exc.kind == "rate_limited":
                delay = exc.retry_after if exc.retry_after is not None else policy.rate_limit_default_wait
                # Jitter spreads the herd of workers that all got the same Retry-After.
                delay += random.uniform(0.0, min(1.0, 0.05 * delay + 0.05))
                if state["rate_wait"] + delay > policy.rate_limit_max_wait:
                    return 0.0
                state["rate_wait"] += delay
                state["give_up"] = False
                self.logger.warning(
                    "%s %s %s: rate limited (HTTP 429), waiting %.1fs", self.api, method, endpoint, delay
                )
                return delay
            state["transient"] += 1
            busy = time.monotonic() - started - state["rate_wait"] - state["blocked"]
            if state["transient"] >= policy.max_attempts or busy >= policy.max_elapsed:
                return 0.0
            delay = backoff_delay(state["transient"], policy)
            state["give_up"] = False
            self.logger.warning(
                "%s %s %s: %s (%s), retry %d/%d in %.1fs",
                self.api,
                method,
                endpoint,
                exc.kind,
                exc.status if exc.status is not None else "no response",
                state["transient"],
                policy.max_attempts - 1,
                delay,
            )
            return delay

        def stop(rs: tenacity.RetryCallState) -> bool:
            return bool(state.get("give_up", True))

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(should_retry),
            wait=wait,
            stop=stop,
            sleep=self.sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except ApiError as exc:
            err = self._error(exc, method, endpoint)
            err.attempts = retrying.statistics.get("attempt_number", 1)
            if err.kind == "reauth":
                err.kind = "auth"
            err.retryable = False
            raise err from None

    # -- classification ----------------------------------------------------------------------

    def _transport_failure(self, exc: requests.RequestException, safe: bool) -> ApiError:
        """A timeout or a dropped connection: retryable unless a write may have been applied."""
        never_sent = _never_sent(exc)
        if isinstance(exc, requests.Timeout):
            kind, what = "timeout", ("connect timeout" if never_sent else "no response before the read timeout")
        elif isinstance(exc, requests.ConnectionError):
            kind, what = "connection", ("connection refused" if never_sent else "connection dropped")
        else:
            kind, what = "connection", type(exc).__name__
        retryable = safe or never_sent
        return ApiError(what, kind=kind, retryable=retryable, ambiguous=not retryable)

    def _check(
        self,
        resp: requests.Response,
        safe: bool,
        on_rate_limited: Callable[[float], None] | None,
        on_unauthorized: Callable[[], bool] | None,
        state: dict[str, Any],
        parse: Callable[[requests.Response], Any],
    ) -> Any:
        status = resp.status_code
        if status == 429:
            wait_s = retry_after_seconds(resp.headers, self.policy.rate_limit_default_wait)
            if on_rate_limited is not None:
                on_rate_limited(wait_s)
            return self._raise(
                ApiError("rate limited", status=429, kind="rate_limited", retryable=True, retry_after=wait_s)
            )
        if status in (401, 403):
            if status == 401 and on_unauthorized is not None and state["reauth"] == 0 and on_unauthorized():
                state["reauth"] += 1
                raise ApiError("token rejected, renewed once", status=401, kind="reauth", retryable=True)
            return self._raise(ApiError(self._auth_message(resp), status=status, kind="auth"))
        if status >= 500:
            # A write may have been applied before any 5xx (even a 503 from a proxy): only
            # idempotent calls are resent; an unsafe one is reported ambiguous.
            retryable = safe
            raise ApiError(
                self._message(resp) or resp.reason or "server error",
                status=status,
                kind="server_error",
                retryable=retryable,
                ambiguous=not retryable,
            )
        if status >= 400:
            raise ApiError(self._message(resp) or resp.reason or "client error", status=status, kind="client_error")
        try:
            return parse(resp)
        except ApiError as exc:
            if exc.kind == "malformed" and not safe:
                exc.retryable, exc.ambiguous = False, True
            raise

    @staticmethod
    def _raise(exc: ApiError) -> Any:
        raise exc

    def _auth_message(self, resp: requests.Response) -> str:
        ctype = resp.headers.get("Content-Type", "")
        if "html" in ctype.lower() or resp.text.lstrip().startswith("<"):
            return "credentials rejected (the API answered with an HTML login/error page): check the connection's token"
        return self._message(resp) or "credentials rejected: check the connection's token/secret"

    @staticmethod
    def _message(resp: requests.Response) -> str:
        """The API's own error text from a JSON error body, never the raw body itself."""
        try:
            body = resp.json()
        except ValueError:
            return ""
        return extract_message(body)


def extract_message(body: Any) -> str:
    """Find the human message in the error envelopes both APIs use."""
    if isinstance(body, Mapping):
        for key in ("message", "detail", "error_description", "error", "comment"):
            val = body.get(key)
            if isinstance(val, str) and val:
                return val
            if isinstance(val, Mapping | list):
                inner = extract_message(val)
                if inner:
                    return inner
        for key in ("errors", "response", "meta"):
            if key in body:
                inner = extract_message(body[key])
                if inner:
                    return inner
        return ""
    if isinstance(body, list):
        msgs = [extract_message(x) if not isinstance(x, str) else x for x in body[:5]]
        return "; ".join(m for m in msgs if m)
    if isinstance(body, str):
        return body
    return ""


def flag(value: Any, default: bool = True) -> bool:
    """A boolean connection extra given as a bool or a string (``"false"``, ``"0"``, ...)."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("0", "false", "no", "off")


def retype(exc: ApiError, cls: type[ApiError]) -> ApiError:
    """The same failure as a more specific class (e.g. an auth error)."""
    new = cls(
        exc.message,
        endpoint=exc.endpoint,
        method=exc.method,
        status=exc.status,
        kind=exc.kind,
        ambiguous=exc.ambiguous,
        errors=exc.errors,
    )
    new.attempts = exc.attempts
    return new


def mask(secret: str | None) -> None:
    """Register a credential with Airflow's secret masker, so task logs show ``***``."""
    if not secret:
        return
    try:
        from airflow.sdk.log import mask_secret

        mask_secret(secret)
    except Exception:  # noqa: BLE001 - masking is best effort outside a task
        pass
