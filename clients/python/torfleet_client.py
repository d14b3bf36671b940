"""torfleet proxy broker client: Python 3.9+, standard library only.

    from torfleet_client import ProxyServiceClient
    client = ProxyServiceClient(endpoints=["https://broker-a:8090"], token_file="/run/secrets/broker-token",
                                ca_file="/etc/torfleet/broker-ca.pem",
                                fallback={"regions": {"US": ["socks5h://10.0.0.5:19050"]}})
    lease = client.request(exchange_id="binance", connection_type="rest", region="US")
    client.feedback({"lease_id": lease.lease_id, "event": "result", "success": True, "latency_ms": 120})
    client.close()

The wire protocol is clients/PROTOCOL.md; the choices this client makes where it is silent are in README.md.
Thread-safe; request() is synchronous (from asyncio: ``await asyncio.to_thread(client.request, ...)``).
"""

import http.client
import itertools
import json
import os
import random
import re
import socket
import ssl
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, NamedTuple, Optional, Tuple
from urllib.parse import urlsplit

try:
    import gzip as _gzip
except ImportError:  # pragma: no cover - gzip is optional
    _gzip = None

__all__ = [
    "ProxyServiceClient",
    "Lease",
    "Answer",
    "NoProxyError",
    "ServiceUnavailableError",
    "BrokerError",
    "TransportError",
]

PATHS = {"request": "/api/v1/proxy/request", "feedback": "/api/v1/proxy/feedback", "health": "/api/v1/proxy/health"}
FEEDBACK_BATCH = 1000
# The service reads at most 1 MiB of body (after gzip decoding too): a batch is cut before it grows past this.
FEEDBACK_BATCH_BYTES = 1024 * 1024 - 1024
_POLICIES = ("direct_connection", "embedded", "fail")
_EVENTS = ("connect", "result", "timeout", "release")
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_TYPE_RE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_FEEDBACK_KEYS = frozenset(
    (
        "lease_id",
        "proxy_id",
        "proxy_url",
        "exchange_id",
        "connection_type",
        "event",
        "success",
        "latency_ms",
        "status_code",
        "error_details",
        "timestamp",
        "client_id",
    )
)
_USE_CLIENT_TOKEN = object()


class NoProxyError(Exception):
    """No proxy to use: the service said `fail`, or nothing (service, cache, embedded fallback) has one."""

    def __init__(self, message: str, region: Optional[str] = None, fallback_policy: Optional[str] = None):
        super().__init__(message)
        self.region = region
        self.fallback_policy = fallback_policy


class ServiceUnavailableError(NoProxyError):
    """No endpoint answered in time and the embedded fallback has nothing for the region."""


class BrokerError(Exception):
    """The service refused the call (a 4xx other than 429: a bad field, a wrong token...). Never retried."""

    def __init__(self, status: int, code: Optional[str], message: str, field: Optional[str], request_id: Optional[str]):
        super().__init__("broker answered %d %s: %s (field %s, request id %s)" % (status, code, message, field, request_id))
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.request_id = request_id


class TransportError(Exception):
    """One exchange with one endpoint failed: refused, timed out, TLS, garbage, too large."""


class Lease(NamedTuple):
    proxy_url: Optional[str]
    lease_id: Optional[str]
    proxy_id: Optional[str]
    region: str
    health_score: Optional[float]
    strategy: Optional[str]
    ttl_seconds: int
    fallback_policy: Optional[str]
    source: str  # service | cache | stale | embedded | direct
    request_id: Optional[str] = None


class Answer(NamedTuple):
    """One HTTP exchange: status, headers (lower-case names), the raw body and its JSON (None when empty)."""

    status: int
    headers: Dict[str, str]
    body: bytes
    json: Any
    request_id: str
    endpoint: str


_NOT_JSON = object()


class _Counter:
    """A thread-safe counter: next() of itertools.count is atomic in CPython."""

    __slots__ = ("_count", "_taken")

    def __init__(self) -> None:
        self._count = itertools.count()
        self._taken = next(self._count)

    def add(self) -> None:
        next(self._count)

    @property
    def value(self) -> int:
        return int(repr(self._count)[6:-1]) - 1


class _Endpoint:
    """One service endpoint behind a circuit breaker (closed -> open for a backoff -> half-open: one probe)."""

    def __init__(self, url: str, threshold: int, base: float, cap: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("endpoint %r: want http://HOST:PORT or https://HOST:PORT" % url)
        self.url = url
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/")
        self._threshold = threshold
        self._base = base
        self._cap = cap
        self._lock = threading.Lock()
        self.failures = 0
        self.opens = 0
        self.open_until = 0.0
        self.probing = False
        self.not_before = 0.0
        self.last_error: Optional[str] = None
        self.idle: List[http.client.HTTPConnection] = []

    def acquire(self, now: float) -> bool:
        with self._lock:
            if now < self.not_before:
                return False
            if self.open_until == 0.0:
                return True
            if now < self.open_until or self.probing:
                return False
            self.probing = True
            return True

    def usable(self, now: float) -> bool:
        """Whether acquire() would let a call through now (a peek: no probe is taken)."""
        return now >= self.not_before and (self.open_until == 0.0 or (now >= self.open_until and not self.probing))

    def success(self) -> None:
        with self._lock:
            self.failures = 0
            self.opens = 0
            self.open_until = 0.0
            self.probing = False
            self.last_error = None

    def failure(self, now: float, error: str) -> None:
        with self._lock:
            self.last_error = error
            self.failures += 1
            if self.probing or self.failures >= self._threshold:
                self.opens += 1
                delay = min(self._cap, self._base * (2 ** (self.opens - 1)))
                self.open_until = now + delay / 2 + random.uniform(0, delay / 2)
                self.probing = False
                self.failures = 0

    def release_probe(self) -> None:
        with self._lock:
            self.probing = False

    def hold(self, now: float, seconds: float) -> None:
        with self._lock:
            self.not_before = now + seconds
            self.probing = False

    def state(self, now: float) -> str:
        if self.open_until == 0.0:
            return "closed"
        return "open" if now < self.open_until else "half_open"

    def close_idle(self) -> None:
        with self._lock:
            idle, self.idle = self.idle, []
        for conn in idle:
            conn.close()


class _Entry:
    __slots__ = ("fresh_until", "stale_until", "fresh", "stale", "refreshing", "retry_at")

    def __init__(self, fresh_until: float, stale_until: float, fresh: Any, stale: Any) -> None:
        self.fresh_until = fresh_until
        self.stale_until = stale_until
        self.fresh = fresh  # a Lease (source cache/direct) or a NoProxyError to raise
        self.stale = stale
        self.refreshing = False
        self.retry_at = 0.0


def _copy_error(error: BaseException) -> BaseException:
    """A new exception like `error`: a cached or shared one raised again and again (and from several threads)
    would grow one traceback without end."""
    if isinstance(error, NoProxyError):
        return type(error)(str(error), error.region, error.fallback_policy)
    if isinstance(error, BrokerError):
        return BrokerError(error.status, error.code, error.message, error.field, error.request_id)
    return error


class _Flight:
    __slots__ = ("done", "result", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Any = None
        self.error: Optional[BaseException] = None


def _env(name: str) -> Optional[str]:
    value = os.environ.get(name)
    return value if value else None


def _parse_urls(text: str) -> List[str]:
    urls = []
    for line in text.replace(",", "\n").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            urls.append(line)
    return urls


def _file_key(path: str) -> Optional[Tuple[int, int, int, int]]:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def check_feedback_event(event: Any) -> Optional[str]:
    """What makes an event unusable (the service would refuse the whole batch for it), or None."""
    if not isinstance(event, dict):
        return "not an object"
    for key in event:
        if key not in _FEEDBACK_KEYS:
            return "unknown field %r" % (key,)
    if event.get("event") not in _EVENTS:
        return "event must be one of %s" % (", ".join(_EVENTS),)
    named = False
    for key, limit in (("lease_id", 64), ("proxy_id", 64), ("proxy_url", 512)):
        if key in event:
            value = event[key]
            if not isinstance(value, str) or not 1 <= len(value) <= limit:
                return "%s must be a string of 1-%d" % (key, limit)
            named = True
    if not named:
        return "lease_id, proxy_id or proxy_url is required"
    if "exchange_id" in event and not (isinstance(event["exchange_id"], str) and _ID_RE.fullmatch(event["exchange_id"])):
        return "bad exchange_id"
    if "connection_type" in event and not (
        isinstance(event["connection_type"], str) and _TYPE_RE.fullmatch(event["connection_type"])
    ):
        return "bad connection_type"
    if "success" in event and not isinstance(event["success"], bool):
        return "success must be a boolean"
    if "latency_ms" in event:
        value = event["latency_ms"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 3600000:
            return "latency_ms must be a number 0-3600000"
    if "status_code" in event:
        value = event["status_code"]
        if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
            return "status_code must be an integer 100-599"
    if "error_details" in event and not (isinstance(event["error_details"], str) and len(event["error_details"]) <= 1024):
        return "error_details must be a string of at most 1024"
    if "client_id" in event and not (isinstance(event["client_id"], str) and len(event["client_id"]) <= 128):
        return "client_id must be a string of at most 128"
    if "timestamp" in event:
        value = event["timestamp"]
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            return "timestamp must be ms since the epoch or an ISO 8601 string"
    return None


def _within_bytes(events, limit):
    """The longest head of `events` whose JSON array fits in `limit` bytes (at least one event), and the rest."""
    size = 2
    for index, event in enumerate(events):
        size += len(json.dumps(event).encode("utf-8")) + 1
        if index > 0 and size > limit:
            return events[:index], events[index:]
    return events, []


class ProxyServiceClient:
    """The broker client. Options (keyword) fall back on the environment (TORFLEET_BROKER_*); see README.md."""

    def __init__(
        self,
        endpoints: Optional[List[str]] = None,
        endpoints_file: Optional[str] = None,
        token: Optional[str] = None,
        token_file: Optional[str] = None,
        ca_file: Optional[str] = None,
        fallback: Optional[Dict[str, Any]] = None,
        client_id: Optional[str] = None,
        timeout: float = 0.8,
        stale_seconds: float = 60.0,
        max_cache_entries: int = 10000,
        max_answer_bytes: int = 1 << 20,
        failure_threshold: int = 2,
        breaker_base_seconds: float = 0.5,
        breaker_max_seconds: float = 10.0,
        feedback_buffer: int = 10000,
        feedback_interval: float = 1.0,
        feedback_timeout: float = 2.0,
        watch_interval: float = 0.5,
    ) -> None:
        self._timeout = float(timeout)
        self._stale_seconds = float(stale_seconds)
        self._max_entries = int(max_cache_entries)
        self._max_answer = int(max_answer_bytes)
        self._threshold = int(failure_threshold)
        self._breaker_base = float(breaker_base_seconds)
        self._breaker_max = float(breaker_max_seconds)
        self._feedback_cap = int(feedback_buffer)
        self._feedback_interval = float(feedback_interval)
        self._feedback_timeout = float(feedback_timeout)
        self._watch_interval = float(watch_interval)
        self._client_id = client_id
        self._closed = False
        self._lock = threading.Lock()

        # Endpoints: explicit list, else TORFLEET_BROKER_URLS (re-read when it changes), else the file.
        self._endpoints_setting: Optional[str] = None
        self._endpoints_file: Optional[str] = None
        self._endpoints_file_key: Optional[Tuple[int, int, int, int]] = None
        if endpoints is not None:
            if isinstance(endpoints, str):
                endpoints = _parse_urls(endpoints)
            urls = list(endpoints)
        elif endpoints_file is not None:
            self._endpoints_file = endpoints_file
            urls = self._read_endpoints_file()
        elif _env("TORFLEET_BROKER_URLS"):
            self._endpoints_setting = os.environ["TORFLEET_BROKER_URLS"]
            urls = _parse_urls(self._endpoints_setting)
        elif _env("TORFLEET_BROKER_URLS_FILE"):
            self._endpoints_file = os.environ["TORFLEET_BROKER_URLS_FILE"]
            urls = self._read_endpoints_file()
        else:
            raise ValueError("no broker endpoints: pass endpoints= or endpoints_file=, or set TORFLEET_BROKER_URLS")
        if not urls:
            raise ValueError("no broker endpoints in %s" % (self._endpoints_file or "endpoints"))
        self._endpoints: List[_Endpoint] = [self._new_endpoint(url) for url in urls]

        # Token: explicit, else its file (re-read when it changes), else the environment.
        self._token_file: Optional[str] = None
        self._token_file_key: Optional[Tuple[int, int, int, int]] = None
        if token is None and token_file is None:
            token = _env("TORFLEET_BROKER_TOKEN")
            token_file = None if token else _env("TORFLEET_BROKER_TOKEN_FILE")
        if token is None and token_file is not None:
            self._token_file = token_file
            self._token_file_key = _file_key(token_file)
            with open(token_file, encoding="utf-8") as handle:
                token = handle.read().strip()
        if not token:
            raise ValueError("no broker token: pass token= or token_file=, or set TORFLEET_BROKER_TOKEN(_FILE)")
        self._token: str = token

        self._ca_file = ca_file if ca_file is not None else _env("TORFLEET_BROKER_CA_FILE")
        self._ssl = ssl.create_default_context(cafile=self._ca_file) if self._ca_file else ssl.create_default_context()
        self._ssl.minimum_version = ssl.TLSVersion.TLSv1_2

        self._fallback: Dict[str, List[str]] = {}
        for region, urls_of in ((fallback or {}).get("regions") or {}).items():
            if isinstance(urls_of, str):
                urls_of = [urls_of]
            if not isinstance(urls_of, list) or not all(isinstance(u, str) and u for u in urls_of):
                raise ValueError("fallback region %r: want a list of proxy URLs" % (region,))
            if urls_of:
                self._fallback[region] = list(urls_of)

        self._cache: Dict[Tuple[str, str, str], _Entry] = {}
        self._flights: Dict[Tuple[str, str, str], _Flight] = {}
        self._prefix = "py-%08x-" % random.getrandbits(32)
        self._ids = itertools.count(1)
        self._refresher = ThreadPoolExecutor(max_workers=4, thread_name_prefix="torfleet-refresh")

        names = (
            "requests cache_hits stale_served service_answers embedded direct no_proxy refreshes refresh_failures "
            "service_failures feedback_queued feedback_sent feedback_dropped feedback_invalid feedback_rejected "
            "feedback_batches endpoint_reloads endpoint_reload_errors token_reloads"
        )
        self._counters = {name: _Counter() for name in names.split()}

        self._feedback: List[Dict[str, Any]] = []
        self._feedback_lock = threading.Lock()
        self._flush_now = threading.Event()
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=self._flush_loop, name="torfleet-feedback", daemon=True)
        self._flusher.start()
        self._watcher = threading.Thread(target=self._watch_loop, name="torfleet-watch", daemon=True)
        self._watcher.start()

    # ---------------------------------------------------------------- public surface

    def request(
        self,
        exchange_id: str,
        connection_type: str,
        region: str,
        client_id: Optional[str] = None,
        metadata: Optional[Dict[str, Any]] = None,
        request_id: Optional[str] = None,
    ) -> Lease:
        """A proxy for (exchange, connection type, region): from the cache, the service, or the embedded fallback."""
        self._counters["requests"].add()
        key = (exchange_id, connection_type, region)
        entry = self._cache.get(key)
        if entry is not None:
            now = time.monotonic()
            if now < entry.fresh_until:
                self._counters["cache_hits"].add()
                return self._outcome(entry.fresh)
            if now < entry.stale_until:
                if not entry.refreshing and now >= entry.retry_at:
                    self._start_refresh(key, entry, client_id, metadata)
                self._counters["stale_served"].add()
                return self._outcome(entry.stale)
        if self._closed:
            raise RuntimeError("ProxyServiceClient is closed")
        try:
            return self._outcome(self._fetch_once(key, client_id, metadata, request_id))
        except ServiceUnavailableError as unavailable:
            return self._embedded(key, unavailable)

    def feedback(self, event: Dict[str, Any]) -> None:
        """Queue one event (wire field names, PROTOCOL.md) for the next batch; never blocks, never raises."""
        try:
            if check_feedback_event(event) is not None:
                self._counters["feedback_invalid"].add()
                return
            event = dict(event)
            if "timestamp" not in event:
                event["timestamp"] = int(time.time() * 1000)
            if "client_id" not in event and self._client_id is not None:
                event["client_id"] = self._client_id
            with self._feedback_lock:
                if self._closed or len(self._feedback) >= self._feedback_cap:
                    self._counters["feedback_dropped"].add()
                    return
                self._feedback.append(event)
                size = len(self._feedback)
            self._counters["feedback_queued"].add()
            if size % FEEDBACK_BATCH == 0:
                self._flush_now.set()
        except Exception:  # never raise into the caller
            self._counters["feedback_dropped"].add()

    def stats(self) -> Dict[str, Any]:
        """Counters, the feedback backlog, the cache size and each endpoint's breaker state."""
        out: Dict[str, Any] = {name: counter.value for name, counter in self._counters.items()}
        now = time.monotonic()
        out["feedback_pending"] = len(self._feedback)
        out["cache_entries"] = len(self._cache)
        out["endpoints"] = [
            {"url": e.url, "state": e.state(now), "last_error": e.last_error} for e in list(self._endpoints)
        ]
        return out

    def health(self) -> Dict[str, Any]:
        """GET /api/v1/proxy/health through the endpoints; raises BrokerError or ServiceUnavailableError."""
        answer = self._call_any("GET", PATHS["health"], None, time.monotonic() + self._timeout)
        return answer.json

    def close(self, timeout: float = 2.0) -> None:
        """Flush what feedback can be sent within `timeout`, then stop the threads and close connections."""
        if self._closed:
            return
        with self._feedback_lock:
            self._closed = True
        self._stop.set()
        self._flush_now.set()
        self._watcher.join(timeout)
        self._flusher.join(max(0.0, timeout))
        self._refresher.shutdown(wait=False)
        for endpoint in self._endpoints:
            endpoint.close_idle()

    def __enter__(self) -> "ProxyServiceClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        text: Optional[bytes] = None,
        token: Any = _USE_CLIENT_TOKEN,
        headers: Optional[Dict[str, str]] = None,
        gzip: bool = False,
        endpoint: int = 0,
        correlation: bool = True,
    ) -> Answer:
        """One exchange with one endpoint through this client's transport, nothing else (no cache, retry or
        breaker): the conformance runner's entry. `body` is sent as JSON, `text` as given; token None sends none;
        correlation=False sends no X-Request-Id of the client's own (one in `headers` is still sent)."""
        payload = text if text is not None else (None if body is None else json.dumps(body).encode("utf-8"))
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        if body is not None and text is None:
            hdrs.setdefault("content-type", "application/json")
        if gzip and payload is not None:
            payload = self._gzip(payload)
            hdrs["content-encoding"] = "gzip"
        tok = self._token if token is _USE_CLIENT_TOKEN else token
        return self._exchange(
            self._endpoints[endpoint],
            method,
            path,
            payload,
            hdrs,
            tok,
            time.monotonic() + max(self._timeout, 5.0),
            None if correlation else False,
        )

    # ---------------------------------------------------------------- resolution

    @staticmethod
    def _outcome(value: Any) -> Lease:
        if isinstance(value, Lease):
            return value
        raise _copy_error(value)

    def _fetch_once(
        self, key: Tuple[str, str, str], client_id: Optional[str], metadata: Optional[Dict[str, Any]], request_id: Optional[str]
    ) -> Any:
        """_fetch, but callers missing the same key at the same time share one service call."""
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = _Flight()
        assert flight is not None
        if leader:
            try:
                flight.result = self._fetch(key, client_id, metadata, request_id)
            except BaseException as error:
                flight.error = error
            finally:
                with self._lock:
                    self._flights.pop(key, None)
                flight.done.set()
        elif not flight.done.wait(self._timeout + 1.0):
            raise ServiceUnavailableError("the service call for this key did not end in time")
        if flight.error is not None:
            raise flight.error if leader else _copy_error(flight.error)
        return flight.result

    def _fetch(
        self, key: Tuple[str, str, str], client_id: Optional[str], metadata: Optional[Dict[str, Any]], request_id: Optional[str]
    ) -> Any:
        body: Dict[str, Any] = {"exchange_id": key[0], "connection_type": key[1], "region": key[2]}
        cid = client_id if client_id is not None else self._client_id
        if cid is not None:
            body["client_id"] = cid
        if metadata is not None:
            body["metadata"] = metadata
        answer = self._call_any("POST", PATHS["request"], json.dumps(body).encode("utf-8"), time.monotonic() + self._timeout, request_id)
        return self._remember(key, answer)

    def _remember(self, key: Tuple[str, str, str], answer: Answer) -> Any:
        data = answer.json
        proxy_url = data["proxy_url"]
        meta = data["metadata"]
        ttl = data["ttl_seconds"]
        policy = data["fallback_policy"]
        lease = Lease(
            proxy_url,
            meta.get("lease_id"),
            meta.get("proxy_id"),
            meta.get("region") or key[2],
            meta.get("health_score"),
            data["strategy"],
            ttl,
            policy,
            "service",
            answer.request_id,
        )
        now = time.monotonic()
        if proxy_url is not None:
            self._counters["service_answers"].add()
            fresh: Any = lease._replace(source="cache")
            stale: Any = lease._replace(source="stale")
            first: Any = lease
        elif policy == "direct_connection":
            first = fresh = stale = lease._replace(source="direct")
        elif policy == "embedded":
            emb = self._embedded_lease(key, policy)
            first = fresh = stale = emb if emb is not None else NoProxyError(
                "the service has no proxy for region %r and says embedded, but the embedded fallback has none" % (key[2],),
                key[2],
                policy,
            )
        else:
            first = fresh = stale = NoProxyError(
                "the service has no proxy for region %r (fallback policy %s)" % (key[2], policy), key[2], policy
            )
        if isinstance(first, Lease) and first.source == "direct":
            self._counters["direct"].add()
        elif isinstance(first, Lease) and first.source == "embedded":
            self._counters["embedded"].add()
        elif not isinstance(first, Lease):
            self._counters["no_proxy"].add()
        if len(self._cache) >= self._max_entries:
            self._prune(now)
        self._cache[key] = _Entry(now + ttl, now + ttl + self._stale_seconds, fresh, stale)
        return first

    def _prune(self, now: float) -> None:
        with self._lock:
            for k in [k for k, e in list(self._cache.items()) if e.stale_until <= now]:
                self._cache.pop(k, None)
            while len(self._cache) >= self._max_entries:
                try:
                    self._cache.pop(next(iter(self._cache)))
                except (StopIteration, KeyError, RuntimeError):
                    break

    def _start_refresh(self, key: Tuple[str, str, str], entry: _Entry, client_id: Any, metadata: Any) -> None:
        with self._lock:
            if entry.refreshing or self._closed:
                return
            entry.refreshing = True
        self._counters["refreshes"].add()
        try:
            self._refresher.submit(self._refresh, key, entry, client_id, metadata)
        except RuntimeError:  # shut down
            entry.refreshing = False

    def _refresh(self, key: Tuple[str, str, str], entry: _Entry, client_id: Any, metadata: Any) -> None:
        try:
            self._fetch(key, client_id, metadata, None)
        except Exception:
            self._counters["refresh_failures"].add()
            entry.retry_at = time.monotonic() + 0.5
        finally:
            entry.refreshing = False

    def _embedded_lease(self, key: Tuple[str, str, str], policy: str) -> Optional[Lease]:
        region = key[2]
        urls = self._fallback.get(region) or self._fallback.get(region.upper()) or self._fallback.get("*")
        if not urls:
            return None
        url = urls[zlib.crc32(("%s\0%s" % (key[0], key[1])).encode("utf-8")) % len(urls)]
        return Lease(url, None, None, region, None, None, 0, policy, "embedded")

    def _embedded(self, key: Tuple[str, str, str], unavailable: ServiceUnavailableError) -> Lease:
        lease = self._embedded_lease(key, "embedded")
        if lease is None:
            self._counters["no_proxy"].add()
            raise unavailable
        self._counters["embedded"].add()
        return lease

    # ---------------------------------------------------------------- endpoints, breakers, backoff

    def _new_endpoint(self, url: str) -> _Endpoint:
        return _Endpoint(url, self._threshold, self._breaker_base, self._breaker_max)

    def _call_any(self, method: str, path: str, payload: Optional[bytes], deadline: float, request_id: Optional[str] = None, gzip: bool = False) -> Answer:
        """Each usable endpoint in order until one answers, rounds apart by a jittered exponential backoff, until
        the deadline. 200/202 answers return; 4xx raise BrokerError; the rest count against the endpoint."""
        errors: List[str] = []
        attempt = 0
        hdrs = {"content-type": "application/json"} if payload is not None else {}
        if gzip and payload is not None:
            payload = self._gzip(payload)
            hdrs["content-encoding"] = "gzip"
        while True:
            tried = False
            endpoints = list(self._endpoints)
            for index, endpoint in enumerate(endpoints):
                now = time.monotonic()
                if now >= deadline:
                    break
                if not endpoint.acquire(now):
                    continue
                tried = True
                # The time left is shared by this endpoint and the ones after it, so a hung first endpoint
                # leaves the next one time to answer within the same call.
                after = sum(1 for other in endpoints[index + 1 :] if other.usable(now))
                budget = (deadline - now) / (1 + after)
                try:
                    answer = self._exchange(endpoint, method, path, payload, dict(hdrs), self._token, now + budget, request_id)
                except Exception as error:  # TransportError, or anything unforeseen: never leave a probe held
                    endpoint.failure(time.monotonic(), str(error) if isinstance(error, TransportError) else repr(error))
                    self._counters["service_failures"].add()
                    errors.append("%s: %s" % (endpoint.url, error))
                    continue
                status = answer.status
                if status in (200, 202):
                    if path == PATHS["request"] and not self._valid_answer(answer.json):
                        endpoint.failure(time.monotonic(), "answer is not a proxy answer")
                        self._counters["service_failures"].add()
                        errors.append("%s: answer is not a proxy answer" % endpoint.url)
                        continue
                    if answer.json is _NOT_JSON:
                        endpoint.failure(time.monotonic(), "answer is not JSON")
                        self._counters["service_failures"].add()
                        errors.append("%s: answer is not JSON" % endpoint.url)
                        continue
                    endpoint.success()
                    return answer
                if status in (429, 503):
                    endpoint.hold(time.monotonic(), self._retry_after(answer))
                    errors.append("%s: %d" % (endpoint.url, status))
                    continue
                if 400 <= status < 500 and status != 408:
                    endpoint.release_probe()
                    err = answer.json.get("error") if isinstance(answer.json, dict) else None
                    err = err if isinstance(err, dict) else {}
                    raise BrokerError(status, err.get("code"), str(err.get("message", "")), err.get("field"), answer.request_id)
                endpoint.failure(time.monotonic(), "status %d" % status)
                self._counters["service_failures"].add()
                errors.append("%s: status %d" % (endpoint.url, status))
            attempt += 1
            delay = min(0.4, 0.05 * (2 ** (attempt - 1)))
            delay = delay / 2 + random.uniform(0, delay / 2)
            now = time.monotonic()
            if not tried or now + delay >= deadline or not any(e.usable(now + delay) for e in self._endpoints):
                raise ServiceUnavailableError("no broker endpoint answered: " + ("; ".join(errors[-4:]) or "all circuits open"))
            time.sleep(delay)

    @staticmethod
    def _retry_after(answer: Answer) -> float:
        try:
            return min(60.0, max(1.0, float(answer.headers.get("retry-after", "1"))))
        except ValueError:
            return 1.0

    @staticmethod
    def _valid_answer(data: Any) -> bool:
        if not isinstance(data, dict) or not isinstance(data.get("metadata"), dict):
            return False
        ttl = data.get("ttl_seconds")
        url = data.get("proxy_url")
        return (
            (url is None or isinstance(url, str))
            and isinstance(ttl, int)
            and not isinstance(ttl, bool)
            and 0 <= ttl <= 86400
            and data.get("fallback_policy") in _POLICIES
            and isinstance(data.get("strategy"), str)
        )

    @staticmethod
    def _gzip(payload: bytes) -> bytes:
        if _gzip is None:
            raise RuntimeError("gzip is not available")
        return _gzip.compress(payload, 6)

    # ---------------------------------------------------------------- transport

    def _connect(self, endpoint: _Endpoint, timeout: float) -> http.client.HTTPConnection:
        if endpoint.https:
            return http.client.HTTPSConnection(endpoint.host, endpoint.port, timeout=timeout, context=self._ssl)
        return http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=timeout)

    def _exchange(
        self,
        endpoint: _Endpoint,
        method: str,
        path: str,
        payload: Optional[bytes],
        headers: Dict[str, str],
        token: Optional[str],
        deadline: float,
        request_id: Any = None,
    ) -> Answer:
        """One HTTP exchange, bounded by `deadline` as a whole (a watchdog shuts a dripping socket)."""
        rid = headers.pop("x-request-id", None)
        if rid is None and request_id is not False:
            rid = request_id or "%s%d" % (self._prefix, next(self._ids))
        if rid is not None:
            headers["x-request-id"] = rid
        if token:
            headers["authorization"] = "Bearer " + token
        headers.setdefault("user-agent", "torfleet-client-python/1")
        if payload is not None or method in ("POST", "PUT"):
            headers["content-length"] = str(len(payload or b""))
        for reuse in (True, False):
            conn = None
            if reuse:
                with endpoint._lock:
                    conn = endpoint.idle.pop() if endpoint.idle else None
                if conn is None:
                    continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransportError("timed out")
            if conn is None:
                conn = self._connect(endpoint, remaining)
            fired = []

            def kill(conn: http.client.HTTPConnection = conn, fired: List[bool] = fired) -> None:
                fired.append(True)
                sock = conn.sock
                if sock is not None:
                    try:
                        socket.socket.shutdown(sock, socket.SHUT_RDWR)
                    except OSError:
                        pass

            timer = threading.Timer(remaining, kill)
            timer.daemon = True
            timer.start()
            try:
                if conn.sock is not None:
                    conn.sock.settimeout(remaining)
                else:
                    conn.timeout = remaining
                conn.request(method, endpoint.prefix + path, body=payload, headers=headers)
                response = conn.getresponse()
                body = self._read_capped(response, deadline, conn)
                keep = not response.will_close
                resp_headers = {k.lower(): v for k, v in response.getheaders()}
                status = response.status
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                conn.close()
                if fired:
                    raise TransportError("timed out") from error
                if reuse:
                    continue  # a kept-alive connection the server had closed: once more on a new one
                raise TransportError("%s: %s" % (type(error).__name__, error)) from error
            except TransportError:
                conn.close()
                raise
            except ssl.SSLError as error:
                conn.close()
                raise TransportError("TLS: %s" % (error,)) from error
            except (OSError, http.client.HTTPException, ValueError) as error:
                conn.close()
                if fired or isinstance(error, socket.timeout):
                    raise TransportError("timed out") from error
                raise TransportError("%s: %s" % (type(error).__name__, error)) from error
            finally:
                timer.cancel()
            if fired:
                conn.close()
                raise TransportError("timed out")
            if keep:
                with endpoint._lock:
                    if len(endpoint.idle) < 8:
                        endpoint.idle.append(conn)
                        conn = None
            if conn is not None:
                conn.close()
            text_type = resp_headers.get("content-type", "")
            parsed: Any = None
            if body:
                try:
                    parsed = json.loads(body.decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    parsed = _NOT_JSON
            if parsed is _NOT_JSON and "json" not in text_type and status not in (200, 202):
                parsed = None
            return Answer(status, resp_headers, body, parsed, resp_headers.get("x-request-id", rid or ""), endpoint.url)
        raise TransportError("unreachable")  # pragma: no cover

    def _read_capped(self, response: http.client.HTTPResponse, deadline: float, conn: http.client.HTTPConnection) -> bytes:
        length = response.getheader("content-length")
        if length is not None:
            try:
                if int(length) > self._max_answer:
                    raise TransportError("answer of %s bytes is over %d" % (length, self._max_answer))
            except ValueError:
                raise TransportError("bad Content-Length %r" % (length,))
        chunks = []
        total = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransportError("timed out")
            if conn.sock is not None:
                conn.sock.settimeout(remaining)
            chunk = response.read1(65536)
            if not chunk:
                break
            total += len(chunk)
            if total > self._max_answer:
                raise TransportError("answer over %d bytes" % (self._max_answer,))
            chunks.append(chunk)
        response.close()  # the answer is read whole: the connection may carry the next request
        return b"".join(chunks)

    # ---------------------------------------------------------------- feedback batches

    def _flush_loop(self) -> None:
        while not self._stop.is_set():
            self._flush_now.wait(self._feedback_interval)
            self._flush_now.clear()
            if self._stop.is_set():
                break
            self._flush(time.monotonic() + self._feedback_timeout)
        self._flush(time.monotonic() + self._feedback_timeout, final=True)

    def _flush(self, deadline: float, final: bool = False) -> None:
        while True:
            with self._feedback_lock:
                if not self._feedback:
                    return
                batch = self._feedback[:FEEDBACK_BATCH]
                del self._feedback[:FEEDBACK_BATCH]
            batch, rest = _within_bytes(batch, FEEDBACK_BATCH_BYTES)
            if rest:
                with self._feedback_lock:
                    self._feedback[0:0] = rest  # first in the next batch
            payload = json.dumps(batch).encode("utf-8")
            try:
                self._call_any("POST", PATHS["feedback"], payload, deadline, gzip=len(payload) > 8192 and _gzip is not None)
            except BrokerError:
                for _ in batch:
                    self._counters["feedback_rejected"].add()
                continue
            except Exception:
                # The service is away: put the batch back in front while there is room, else drop it counted.
                with self._feedback_lock:
                    room = self._feedback_cap - len(self._feedback)
                    kept = batch[: max(0, room)] if not final else []
                    self._feedback[0:0] = kept
                    if final:
                        batch.extend(self._feedback)
                        self._feedback.clear()
                for _ in range(len(batch) - len(kept)):
                    self._counters["feedback_dropped"].add()
                return
            self._counters["feedback_batches"].add()
            for _ in batch:
                self._counters["feedback_sent"].add()
            if not self._feedback and not final:
                return

    # ---------------------------------------------------------------- watched settings

    def _watch_loop(self) -> None:
        while not self._stop.wait(self._watch_interval):
            try:
                self._watch_once()
            except Exception:
                self._counters["endpoint_reload_errors"].add()

    def _read_endpoints_file(self) -> List[str]:
        assert self._endpoints_file is not None
        self._endpoints_file_key = _file_key(self._endpoints_file)
        with open(self._endpoints_file, encoding="utf-8") as handle:
            return _parse_urls(handle.read())

    def _watch_once(self) -> None:
        urls: Optional[List[str]] = None
        if self._endpoints_setting is not None:
            setting = os.environ.get("TORFLEET_BROKER_URLS", "")
            if setting != self._endpoints_setting:
                self._endpoints_setting = setting
                urls = _parse_urls(setting)
        elif self._endpoints_file is not None and _file_key(self._endpoints_file) != self._endpoints_file_key:
            try:
                urls = self._read_endpoints_file()
            except OSError:
                urls = []
        if urls is not None:
            self._set_endpoints(urls)
        if self._token_file is not None and _file_key(self._token_file) != self._token_file_key:
            self._token_file_key = _file_key(self._token_file)
            try:
                with open(self._token_file, encoding="utf-8") as handle:
                    token = handle.read().strip()
            except OSError:
                token = ""
            if token:
                self._token = token
                self._counters["token_reloads"].add()

    def _set_endpoints(self, urls: List[str]) -> None:
        """Follow a changed endpoint list; breakers of URLs still listed are kept. An unusable list is ignored."""
        try:
            if not urls:
                raise ValueError("empty")
            old = {e.url: e for e in self._endpoints}
            fresh = [old.get(url) or self._new_endpoint(url) for url in urls]
        except ValueError:
            self._counters["endpoint_reload_errors"].add()
            return
        self._endpoints = fresh
        self._counters["endpoint_reloads"].add()
        for url, endpoint in old.items():
            if url not in urls:
                endpoint.close_idle()
