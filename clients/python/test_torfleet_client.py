"""Tests of torfleet_client.py: the conformance suite against the fixture broker (through the client's own transport),
and the client against hostile and sloppy peers on loopback. `python3 -m unittest -v` in clients/python.

Timings: every bound the requirements give (fallback within 1 s, a dead endpoint within 2 s, feedback() in
microseconds) is asserted with 2x slack, for two shared cores.
"""

import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torfleet_client as tc  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
CASES = os.path.join(REPO, "clients", "conformance", "cases.json")
FIXTURE_BROKER = os.path.join(REPO, "dist", "reconciler", "src", "testing", "fixture-broker.js")
SLACK = 2.0
FALLBACK = {"regions": {"US": ["socks5h://127.0.0.1:29050"], "*": ["socks5h://127.0.0.1:29999"]}}


# ------------------------------------------------------------------------------------------------ fixture broker


def start_fixture(suite, tls=None):
    """The fixture broker for one suite: (url, process). Fails (never skips) when it is not built."""
    if not os.path.exists(FIXTURE_BROKER):
        raise AssertionError("fixture broker %s is missing: run `npm run build` at the repository root" % FIXTURE_BROKER)
    node = shutil.which("node")
    if node is None:
        raise AssertionError("node is not on PATH: the fixture broker needs it")
    args = [node, FIXTURE_BROKER, CASES, "--suite", suite] + (["--tls", tls[0], tls[1]] if tls else [])
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    line = proc.stdout.readline()
    if not line:
        proc.wait(5)
        raise AssertionError("fixture broker ended (%s) before listening" % proc.returncode)
    return json.loads(line)["url"], proc


def stop_fixture(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    proc.stdin.close()
    proc.stdout.close()


# ------------------------------------------------------------------------------------------------ conformance

MISSING = object()


def with_saved(value, saved):
    if isinstance(value, list):
        return [with_saved(item, saved) for item in value]
    if isinstance(value, dict):
        if len(value) == 1 and "$saved" in value:
            return saved.get(value["$saved"])
        return {k: with_saved(v, saved) for k, v in value.items()}
    return value


def same(a, b):
    """JSON equality (True is not 1)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True) if a is not MISSING and b is not MISSING else a is b


def type_of(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "undefined"


def mismatch(want, got, saved, at):
    """PROTOCOL.md's MATCH: the first mismatch as 'path: what', or None."""
    show = "absent" if got is MISSING else json.dumps(got)
    if isinstance(want, dict):
        if len(want) == 1 and next(iter(want)).startswith("$"):
            key, arg = next(iter(want.items()))
            if key == "$match":
                ok = isinstance(got, str) and re.search(arg, got) is not None
            elif key == "$saved":
                ok = same(got, saved.get(arg, MISSING))
            elif key == "$not_saved":
                ok = not same(got, saved.get(arg, MISSING))
            elif key == "$one_of":
                ok = any(same(option, got) for option in arg)
            elif key == "$type":
                if arg == "integer":
                    ok = type_of(got) == "number" and float(got).is_integer()
                else:
                    ok = type_of(got) == arg
            elif key == "$length":
                ok = isinstance(got, list) and len(got) == arg
            elif key == "$absent":
                ok = got is MISSING
            else:
                ok = False
            return None if ok else "%s: %s is not %s" % (at, show, json.dumps(want))
        if not isinstance(got, dict):
            return "%s: %s is not an object" % (at, show)
        for name, item in want.items():
            found = mismatch(item, got.get(name, MISSING), saved, "%s.%s" % (at, name))
            if found:
                return found
        return None
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return "%s: %s is not %d items" % (at, show, len(want))
        for index, item in enumerate(want):
            found = mismatch(item, got[index], saved, "%s[%d]" % (at, index))
            if found:
                return found
        return None
    return None if same(want, got) else "%s: %s is not %s" % (at, show, json.dumps(want))


def value_at(body, path):
    for key in path.split("."):
        body = body.get(key) if isinstance(body, dict) else None
    return body


def send_step(client, step, saved):
    """One step through the client's own transport (ProxyServiceClient.call: its endpoint, TLS and headers code)."""
    token = step.get("token")
    headers = step.get("headers") or {}
    gz = bool(step.get("gzip"))
    if step["call"] == "raw":
        return client.call(
            step.get("method", "GET"),
            step.get("path", "/"),
            text=step.get("text", "").encode("utf-8"),
            token=token,
            headers=headers,
            correlation=False,
        )
    if step["call"] == "health":
        return client.call("GET", tc.PATHS["health"], token=token, headers=headers)
    return client.call("POST", tc.PATHS[step["call"]], body=with_saved(step.get("body"), saved), token=token, headers=headers, gzip=gz)


_CERTS = []


def certs():
    """(ca.pem, cert.pem, key.pem): a CA made with openssl and a server certificate for 127.0.0.1, made once."""
    if _CERTS:
        return _CERTS[1:]
    if shutil.which("openssl") is None:
        raise AssertionError("openssl is needed to make the test certificates")
    folder = tempfile.mkdtemp(prefix="torfleet-pyclient-tls-")
    d = lambda name: os.path.join(folder, name)  # noqa: E731
    run = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d("ca.key"), "-out", d("ca.pem"), "-days", "2",
        "-subj", "/CN=torfleet test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", d("key.pem"), "-out", d("req.csr"), "-subj", "/CN=127.0.0.1")
    with open(d("ext.cnf"), "w") as handle:
        handle.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", d("req.csr"), "-CA", d("ca.pem"), "-CAkey", d("ca.key"), "-CAcreateserial", "-out",
        d("cert.pem"), "-days", "2", "-extfile", d("ext.cnf"))
    _CERTS.extend([folder, d("ca.pem"), d("cert.pem"), d("key.pem")])
    return _CERTS[1:]


def tearDownModule():
    if _CERTS:
        shutil.rmtree(_CERTS[0], ignore_errors=True)


class _Suite(unittest.TestCase):
    suite = ""
    tls = False

    @classmethod
    def setUpClass(cls):
        ca = None
        if cls.tls:
            ca, cert, key = certs()
            cls.url, cls.proc = start_fixture(cls.suite, (cert, key))
            assert cls.url.startswith("https://"), cls.url
        else:
            cls.url, cls.proc = start_fixture(cls.suite)
        cls.client = tc.ProxyServiceClient(endpoints=[cls.url], token="t-unused", ca_file=ca)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        stop_fixture(cls.proc)

    def run_case(self, case):
        saved = {}
        for index, step in enumerate(case["steps"]):
            answer = send_step(self.client, step, saved)
            for _ in range(1, step.get("repeat", 1)):
                answer = send_step(self.client, step, saved)
            where = "step %d (%s)" % (index + 1, step["call"])
            body = None if answer.json is tc._NOT_JSON else answer.json
            self.assertEqual(answer.status, step["expect"]["status"], "%s: status; body %r" % (where, answer.body[:300]))
            self.assertIsNone(mismatch(step["expect"].get("headers", {}), answer.headers, saved, "headers"), where)
            if "body" in step["expect"]:
                self.assertIsNone(mismatch(step["expect"]["body"], body, saved, "body"), where)
            for name, path in (step.get("save") or {}).items():
                saved[name] = value_at(body, path)


def _load_suites():
    with open(CASES, encoding="utf-8") as handle:
        return json.load(handle)["suites"]


def _make_conformance():
    made = {}
    for suite in _load_suites():
        attrs = {"suite": suite["name"]}
        for number, case in enumerate(suite["cases"]):
            name = "test_%02d_%s" % (number, re.sub(r"[^A-Za-z0-9]+", "_", case["name"]).strip("_")[:60])
            attrs[name] = (lambda c: lambda self: self.run_case(c))(case)
        cls_name = "TestConformance_" + re.sub(r"[^A-Za-z0-9]+", "_", suite["name"])
        made[cls_name] = type(cls_name, (_Suite,), attrs)
        if suite["name"] == "basic":  # the same cases over HTTPS: the client's TLS transport, verified by a CA file
            made[cls_name + "_tls"] = type(cls_name + "_tls", (_Suite,), dict(attrs, tls=True))
    return made


globals().update(_make_conformance())
del _Suite  # only the generated suites run


class TestConformanceRunner(unittest.TestCase):
    def test_match_operators(self):
        saved = {"lease": "l-1"}
        self.assertIsNone(mismatch({"a": {"$saved": "lease"}, "b": {"$absent": True}}, {"a": "l-1", "c": 1}, saved, "body"))
        self.assertIsNotNone(mismatch({"a": 1}, {"a": True}, saved, "body"))
        self.assertIsNotNone(mismatch([1], [1, 2], saved, "body"))
        self.assertIsNotNone(mismatch({"a": {"$not_saved": "lease"}}, {"a": "l-1"}, saved, "body"))
        self.assertIsNone(mismatch({"n": {"$type": "integer"}, "l": {"$length": 2}}, {"n": 3, "l": [0, 0]}, saved, "b"))
        self.assertIsNotNone(mismatch({"n": {"$type": "integer"}}, {"n": 3.5}, saved, "b"))

    def test_missing_fixture_broker_fails(self):
        global FIXTURE_BROKER
        kept = FIXTURE_BROKER
        FIXTURE_BROKER = os.path.join(REPO, "dist", "no-such-fixture-broker.js")
        try:
            with self.assertRaises(AssertionError):
                start_fixture("basic")
        finally:
            FIXTURE_BROKER = kept


# ------------------------------------------------------------------------------------------------ peers


class FakeBroker:
    """A scripted broker (http.server in threads): answers leases, records requests and feedback batches."""

    def __init__(self, tag=19050, ttl=300):
        self.tag = tag
        self.ttl = ttl
        self.mode = "ok"  # ok | hang | 500 | 429 | 401 | direct | embedded | fail | slow
        self.delay = 0.0
        self.release = threading.Event()
        self.requests = []
        self.batches = []
        self.lock = threading.Lock()
        broker = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                self.answer(200, {"version": 1, "at": "x", "pools": [], "proxies": [], "exchanges": 0})

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                if self.headers.get("content-encoding") == "gzip":
                    raw = zlib.decompress(raw, 31)
                body = json.loads(raw)
                mode = broker.mode
                with broker.lock:
                    if self.path.endswith("/feedback"):
                        broker.batches.append(body)
                    else:
                        broker.requests.append((body, {k.lower(): v for k, v in self.headers.items()}))
                if mode == "hang":
                    broker.release.wait(30)
                    self.close_connection = True
                    return
                if mode == "slow":
                    time.sleep(broker.delay)
                if mode == "500":
                    return self.answer(500, {"error": {"code": "boom", "message": "x", "field": None}})
                if mode == "429":
                    return self.answer(429, {"error": {"code": "rate_limited", "message": "x", "field": None}}, {"Retry-After": "5"})
                if mode == "401":
                    return self.answer(401, {"error": {"code": "unauthorized", "message": "x", "field": "Authorization"}})
                if self.path.endswith("/feedback"):
                    return self.answer(202, {"accepted": len(body) if isinstance(body, list) else 1, "unmatched": 0})
                n = len(broker.requests)
                if mode in ("direct", "embedded", "fail"):
                    policy = {"direct": "direct_connection"}.get(mode, mode)
                    return self.answer(200, {"proxy_url": None, "strategy": "none", "ttl_seconds": 10, "fallback_policy": policy,
                                             "metadata": {"proxy_id": None, "lease_id": None, "region": body["region"], "health_score": None}})
                self.answer(200, {"proxy_url": "socks5h://lease_%d:x@127.0.0.1:%d" % (n, broker.tag), "strategy": "only",
                                  "ttl_seconds": broker.ttl, "fallback_policy": "fail",
                                  "metadata": {"proxy_id": "p-%d" % broker.tag, "lease_id": "lease_%d" % n,
                                               "region": body.get("region"), "health_score": 1}})

            def answer(self, status, data, headers=None):
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.send_header("x-request-id", self.headers.get("x-request-id", "req_x"))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self):
        with self.lock:
            return [e for b in self.batches for e in (b if isinstance(b, list) else [b])]

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class RawPeer:
    """A TCP peer that runs `behave(conn)` for each connection: hangs, garbage, drips."""

    def __init__(self, behave):
        self.behave = behave
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn):
        try:
            conn.recv(65536)
            self.behave(conn, self.stopped)
        except OSError:
            pass

    def stop(self):
        self.stopped.set()
        self.sock.close()
        for conn in self.conns:
            try:
                conn.close()
            except OSError:
                pass


def hang(conn, stopped):
    stopped.wait(30)


def canned(data, close=True):
    def behave(conn, stopped):
        conn.sendall(data)
        if close:
            conn.close()
        else:
            stopped.wait(30)

    return behave


def refused_url():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return "http://127.0.0.1:%d" % port


class PeerCase(unittest.TestCase):
    def setUp(self):
        self.cleanups = []

    def tearDown(self):
        for cleanup in reversed(self.cleanups):
            cleanup()

    def client(self, endpoints, **options):
        options.setdefault("token", "t")
        options.setdefault("fallback", FALLBACK)
        client = tc.ProxyServiceClient(endpoints=endpoints, **options)
        self.cleanups.append(lambda: client.close(timeout=0.5))
        return client

    def broker(self, **options):
        broker = FakeBroker(**options)
        self.cleanups.append(broker.stop)
        return broker

    def peer(self, behave):
        peer = RawPeer(behave)
        self.cleanups.append(peer.stop)
        return peer

    def wait_for(self, predicate, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if predicate():
                return True
            time.sleep(0.02)
        return predicate()


# ------------------------------------------------------------------------------------------------ failures


class TestFailures(PeerCase):
    def test_refused_port_falls_back_at_once(self):
        client = self.client([refused_url()])
        started = time.monotonic()
        lease = client.request("binance", "rest", "US")
        self.assertLess(time.monotonic() - started, 1.0 * SLACK)
        self.assertEqual(lease.source, "embedded")
        self.assertEqual(lease.proxy_url, "socks5h://127.0.0.1:29050")
        self.assertEqual(client.request("binance", "rest", "JP").proxy_url, "socks5h://127.0.0.1:29999")

    def test_no_fallback_raises_service_unavailable(self):
        client = self.client([refused_url()], fallback=None)
        with self.assertRaises(tc.ServiceUnavailableError):
            client.request("binance", "rest", "US")

    def test_hung_endpoint_fallback_within_1s_and_dead_within_2s(self):
        peer = self.peer(hang)
        client = self.client([peer.url])
        started = time.monotonic()
        lease = client.request("binance", "rest", "US")
        first = time.monotonic() - started
        self.assertEqual(lease.source, "embedded")
        self.assertLess(first, 1.0 * SLACK, "fallback took %.3f s" % first)
        while client.stats()["endpoints"][0]["state"] == "closed" and time.monotonic() - started < 5:
            client.request("binance", "rest", "US")
        dead = time.monotonic() - started
        self.assertNotEqual(client.stats()["endpoints"][0]["state"], "closed")
        self.assertLess(dead, 2.0 * SLACK, "dead endpoint found after %.3f s" % dead)
        again = time.monotonic()
        self.assertEqual(client.request("binance", "rest", "US").source, "embedded")
        self.assertLess(time.monotonic() - again, 0.25, "an open breaker is skipped at once")

    def test_dead_first_endpoint_fails_over_to_the_second(self):
        peer = self.peer(hang)
        broker = self.broker()
        client = self.client([peer.url, broker.url])
        started = time.monotonic()
        lease = client.request("binance", "rest", "US")
        self.assertEqual(lease.source, "service")
        self.assertIn(":19050", lease.proxy_url)
        self.assertLess(time.monotonic() - started, 1.0 * SLACK)
        self.assertEqual(client.request("okx", "rest", "US").source, "service")
        self.assertLess(time.monotonic() - started, 2.0 * SLACK)
        self.assertEqual(client.stats()["endpoints"][0]["state"], "open")
        again = time.monotonic()
        self.assertEqual(client.request("bybit", "rest", "US").source, "service")
        self.assertLess(time.monotonic() - again, 0.25, "the open endpoint is skipped")

    def test_service_recovers_and_the_client_leaves_the_fallback(self):
        broker = self.broker()
        broker.mode = "hang"
        client = self.client([broker.url], breaker_max_seconds=1.0)
        self.assertEqual(client.request("binance", "rest", "US").source, "embedded")
        self.assertEqual(client.request("binance", "rest", "US").source, "embedded")
        broker.mode = "ok"
        broker.release.set()
        started = time.monotonic()
        self.assertTrue(self.wait_for(lambda: client.request("binance", "rest", "US").source in ("service", "cache"), 3))
        self.assertLess(time.monotonic() - started, 1.0 * SLACK + 1.0)
        self.assertEqual(client.request("binance", "rest", "US").source, "cache")

    def test_half_open_lets_one_probe_through(self):
        broker = self.broker()
        broker.mode = "hang"
        client = self.client([broker.url], breaker_base_seconds=0.2, breaker_max_seconds=0.2)
        client.request("a", "rest", "US")
        client.request("b", "rest", "US")
        self.assertEqual(client.stats()["endpoints"][0]["state"], "open")
        self.assertEqual(len(broker.requests), 2)
        time.sleep(0.25)
        self.assertEqual(client.stats()["endpoints"][0]["state"], "half_open")
        sources = []
        barrier = threading.Barrier(6)

        def call(n):
            barrier.wait()
            t = time.monotonic()
            sources.append((client.request("k%d" % n, "rest", "US").source, time.monotonic() - t))

        threads = [threading.Thread(target=call, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(len(broker.requests), 3, "one probe")
        self.assertEqual({source for source, _ in sources}, {"embedded"})
        self.assertEqual(sum(1 for _, took in sources if took < 0.25), 5, "the others do not wait for the probe")
        self.assertEqual(client.stats()["endpoints"][0]["state"], "open")

    def test_500s_count_against_the_endpoint(self):
        broker = self.broker()
        broker.mode = "500"
        client = self.client([broker.url])
        self.assertEqual(client.request("binance", "rest", "US").source, "embedded")
        self.assertGreaterEqual(client.stats()["service_failures"], 1)
        self.assertEqual(client.stats()["endpoints"][0]["last_error"], "status 500")

    def test_garbage_non_json_truncated(self):
        answers = [
            b"this is not http\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 9\r\n\r\nnot json!",
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n[]",
            b'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"proxy_url": "socks5h://x',
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n\xff\xfe\x00ab",
            b"",
        ]
        for data in answers:
            with self.subTest(data=data[:40]):
                peer = self.peer(canned(data))
                client = self.client([peer.url])
                started = time.monotonic()
                self.assertEqual(client.request("binance", "rest", "US").source, "embedded")
                self.assertLess(time.monotonic() - started, 1.0 * SLACK)
                self.assertIsNotNone(client.stats()["endpoints"][0]["last_error"])

    def test_huge_answer_is_capped(self):
        big = b"HTTP/1.1 200 OK\r\ncontent-length: 50000000\r\n\r\n" + b"{" * 70000
        peer = self.peer(canned(big, close=False))
        client = self.client([peer.url], max_answer_bytes=65536)
        self.assertEqual(client.request("binance", "rest", "US").source, "embedded")
        self.assertIn("over", client.stats()["endpoints"][0]["last_error"])

        def endless(conn, stopped):
            conn.sendall(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n")
            chunk = b" " * 65536
            while not stopped.is_set():
                conn.sendall(chunk)

        peer = self.peer(endless)
        client = self.client([peer.url], max_answer_bytes=1 << 20)
        started = time.monotonic()
        self.assertEqual(client.request("binance", "rest", "US").source, "embedded")
        self.assertLess(time.monotonic() - started, 1.0 * SLACK)
        self.assertIn("over", client.stats()["endpoints"][0]["last_error"])

    def test_slow_drip_is_bounded_by_the_deadline(self):
        def drip_body(conn, stopped):
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")
            while not stopped.wait(0.05):
                conn.sendall(b" ")

        def drip_headers(conn, stopped):
            for byte in b"HTTP/1.1 200 OK\r\nx-slow: " + b"a" * 10000:
                if stopped.wait(0.05):
                    return
                conn.sendall(bytes([byte]))

        for behave in (drip_body, drip_headers):
            with self.subTest(behave=behave.__name__):
                peer = self.peer(behave)
                client = self.client([peer.url])
                started = time.monotonic()
                self.assertEqual(client.request("binance", "rest", "US").source, "embedded")
                self.assertLess(time.monotonic() - started, 1.0 * SLACK)
                self.assertEqual(client.stats()["endpoints"][0]["last_error"], "timed out")

    def test_rate_limited_holds_the_endpoint_and_bad_calls_raise(self):
        broker = self.broker()
        broker.mode = "429"
        client = self.client([broker.url])
        self.assertEqual(client.request("binance", "rest", "US").source, "embedded")
        self.assertEqual(client.request("binance", "rest", "US").source, "embedded")
        self.assertEqual(len(broker.requests), 1, "Retry-After is honoured")
        broker.mode = "401"
        client = self.client([broker.url])
        with self.assertRaises(tc.BrokerError) as caught:
            client.request("binance", "rest", "US")
        self.assertEqual((caught.exception.status, caught.exception.field), (401, "Authorization"))


# ------------------------------------------------------------------------------------------------ TLS


class TestTls(PeerCase):
    @classmethod
    def setUpClass(cls):
        cls.ca, cls.cert, cls.key = certs()
        cls.url, cls.proc = start_fixture("basic", (cls.cert, cls.key))

    @classmethod
    def tearDownClass(cls):
        stop_fixture(cls.proc)

    def test_verified_with_the_ca_file(self):
        self.assertTrue(self.url.startswith("https://"))
        client = self.client([self.url], token="t-collector", ca_file=self.ca)
        lease = client.request("tls", "rest", "US")
        self.assertEqual(lease.source, "service")
        self.assertRegex(lease.proxy_url, r"^socks5h://lease_")

    def test_refused_without_the_ca_file(self):
        client = self.client([self.url], token="t-collector", fallback=None)
        with self.assertRaises(tc.ServiceUnavailableError) as caught:
            client.request("tls", "rest", "US")
        self.assertIn("CERTIFICATE_VERIFY_FAILED", str(caught.exception))

    def test_conformance_case_over_tls(self):
        client = self.client([self.url], token="t-collector", ca_file=self.ca)
        answer = client.call("GET", tc.PATHS["health"])
        self.assertEqual(answer.status, 200)
        self.assertEqual(len(answer.json["proxies"]), 5)


# ------------------------------------------------------------------------------------------------ settings


class TestEndpointsFollowed(PeerCase):
    def test_endpoints_file_changed_while_running(self):
        a, b = self.broker(tag=1), self.broker(tag=2)
        handle, path = tempfile.mkstemp(prefix="torfleet-urls-")
        os.close(handle)
        self.cleanups.append(lambda: os.unlink(path))
        with open(path, "w") as f:
            f.write("# the brokers\n%s  # a\n\n" % a.url)
        client = self.client(None, endpoints_file=path, watch_interval=0.1)
        self.assertIn(":1", client.request("e1", "rest", "US").proxy_url[-2:])
        with open(path + ".new", "w") as f:
            f.write("%s\n" % b.url)
        os.replace(path + ".new", path)
        n = iter(range(10**6))
        self.assertTrue(self.wait_for(lambda: client.request("e%d" % next(n), "rest", "US").proxy_url.endswith(":2"), 1.0 * SLACK))
        with open(path, "w") as f:
            f.write("# nothing usable\nftp://nowhere\n")
        time.sleep(0.4)
        self.assertTrue(client.request("after-bad", "rest", "US").proxy_url.endswith(":2"), "a broken file keeps the endpoints")
        self.assertGreaterEqual(client.stats()["endpoint_reload_errors"], 1)

    def test_environment_setting_changed_while_running(self):
        a, b = self.broker(tag=1), self.broker(tag=2)
        kept = os.environ.get("TORFLEET_BROKER_URLS")
        os.environ["TORFLEET_BROKER_URLS"] = a.url
        self.cleanups.append(lambda: os.environ.pop("TORFLEET_BROKER_URLS", None) if kept is None else os.environ.update(TORFLEET_BROKER_URLS=kept))
        client = self.client(None, watch_interval=0.1)
        self.assertTrue(client.request("e1", "rest", "US").proxy_url.endswith(":1"))
        os.environ["TORFLEET_BROKER_URLS"] = "%s,%s" % (b.url, a.url)
        n = iter(range(10**6))
        self.assertTrue(self.wait_for(lambda: client.request("e%d" % next(n), "rest", "US").proxy_url.endswith(":2"), 1.0 * SLACK))

    def test_token_file_and_correlation_ids(self):
        broker = self.broker()
        handle, path = tempfile.mkstemp(prefix="torfleet-token-")
        os.write(handle, b"t-first\n")
        os.close(handle)
        self.cleanups.append(lambda: os.unlink(path))
        client = self.client([broker.url], token=None, token_file=path, watch_interval=0.1)
        client.request("e1", "rest", "US", request_id="collector-42")
        client.request("e2", "rest", "US")
        (_, h1), (_, h2) = broker.requests
        self.assertEqual(h1["x-request-id"], "collector-42")
        self.assertRegex(h2["x-request-id"], r"^py-[0-9a-f]{8}-[0-9]+$")
        self.assertEqual(h1["authorization"], "Bearer t-first")
        with open(path, "w") as f:
            f.write("t-second\n")
        self.assertTrue(self.wait_for(lambda: client.request("e%d" % time.monotonic_ns(), "rest", "US") and broker.requests[-1][1]["authorization"] == "Bearer t-second", 2))


# ------------------------------------------------------------------------------------------------ cache


class TestCache(PeerCase):
    def test_fresh_hit_and_the_key(self):
        broker = self.broker()
        client = self.client([broker.url])
        first = client.request("binance", "rest", "US")
        self.assertEqual(first.source, "service")
        hit = client.request("binance", "rest", "US")
        self.assertEqual((hit.source, hit.lease_id), ("cache", first.lease_id))
        self.assertEqual(len(broker.requests), 1)
        for key in (("okx", "rest", "US"), ("binance", "websocket", "US"), ("binance", "rest", "DE")):
            self.assertEqual(client.request(*key).source, "service", key)
        self.assertEqual(len(broker.requests), 4)
        self.assertEqual(client.request("binance", "rest", "US", client_id="other").source, "cache")

    def test_cached_resolution_is_microseconds(self):
        broker = self.broker()
        client = self.client([broker.url])
        client.request("binance", "rest", "US")
        times = []
        for _ in range(20000):
            t = time.perf_counter()
            client.request("binance", "rest", "US")
            times.append(time.perf_counter() - t)
        times.sort()
        self.assertLess(times[int(len(times) * 0.99)], 0.010 / 10, "p99 %.1f us" % (times[int(len(times) * 0.99)] * 1e6))

    def test_stale_served_while_one_refresh_runs(self):
        broker = self.broker(ttl=1)
        client = self.client([broker.url])
        first = client.request("binance", "rest", "US")
        time.sleep(1.05)
        broker.mode = "slow"
        broker.delay = 0.4
        results = []
        barrier = threading.Barrier(16)

        def call():
            barrier.wait()
            t = time.monotonic()
            lease = client.request("binance", "rest", "US")
            results.append((lease.source, lease.lease_id, time.monotonic() - t))

        threads = [threading.Thread(target=call) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual({r[0] for r in results}, {"stale"})
        self.assertEqual({r[1] for r in results}, {first.lease_id})
        self.assertLess(max(r[2] for r in results), 0.25, "stale answers do not wait for the refresh (0.4 s)")
        self.assertTrue(self.wait_for(lambda: client.request("binance", "rest", "US").source == "cache", 2))
        self.assertEqual(len(broker.requests), 2, "one refresh")
        self.assertNotEqual(client.request("binance", "rest", "US").lease_id, first.lease_id)

    def test_stale_served_while_the_service_is_down_then_refreshed(self):
        broker = self.broker(ttl=1)
        client = self.client([broker.url], breaker_max_seconds=0.5)
        first = client.request("binance", "rest", "US")
        broker.mode = "hang"
        time.sleep(1.05)
        for _ in range(3):
            t = time.monotonic()
            lease = client.request("binance", "rest", "US")
            self.assertEqual((lease.source, lease.lease_id), ("stale", first.lease_id))
            self.assertLess(time.monotonic() - t, 0.25)
            time.sleep(0.5)
        self.assertGreaterEqual(client.stats()["refresh_failures"], 1)
        broker.mode = "ok"
        broker.release.set()
        self.assertTrue(self.wait_for(lambda: client.request("binance", "rest", "US").source == "cache", 3))

    def test_concurrent_misses_share_one_call(self):
        broker = self.broker()
        broker.mode = "slow"
        broker.delay = 0.2
        client = self.client([broker.url])
        errors, sources = [], []
        barrier = threading.Barrier(8)

        def work(n):
            barrier.wait()
            try:
                for i in range(400):
                    sources.append(client.request("ex-%d" % (i % 10), "rest", "US").source)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(broker.requests), 10, "one service call per key")
        self.assertEqual(len(sources), 3200)
        self.assertEqual(client.stats()["requests"], 3200)

    def test_asyncio_to_thread_and_health(self):
        import asyncio

        broker = self.broker()
        client = self.client([broker.url])

        async def main():
            return await asyncio.gather(*(asyncio.to_thread(client.request, "ex-%d" % i, "rest", "US") for i in range(4)))

        leases = asyncio.run(main())
        self.assertEqual([lease.source for lease in leases], ["service"] * 4)
        self.assertEqual(client.health()["version"], 1)

    def test_no_proxy_answers(self):
        broker = self.broker()
        client = self.client([broker.url])
        broker.mode = "direct"
        lease = client.request("a", "rest", "JP")
        self.assertEqual((lease.source, lease.proxy_url, lease.fallback_policy), ("direct", None, "direct_connection"))
        broker.mode = "embedded"
        self.assertEqual(client.request("b", "rest", "JP").proxy_url, "socks5h://127.0.0.1:29999")
        broker.mode = "fail"
        with self.assertRaises(tc.NoProxyError):
            client.request("c", "rest", "JP")
        with self.assertRaises(tc.NoProxyError):
            client.request("c", "rest", "JP")
        self.assertEqual(len(broker.requests), 3, "no-proxy answers are cached for their ttl")
        import traceback

        for _ in range(50):
            try:
                client.request("c", "rest", "JP")
            except tc.NoProxyError as error:
                depth = len(traceback.extract_tb(error.__traceback__))
        self.assertLess(depth, 5, "a cached error is raised anew, its traceback does not grow")


# ------------------------------------------------------------------------------------------------ feedback


EVENT = {"proxy_id": "p-0", "event": "result", "success": True, "latency_ms": 12}


class TestFeedback(PeerCase):
    def test_batched_at_most_1000_and_flushed_every_second(self):
        broker = self.broker()
        client = self.client([broker.url])
        started = time.monotonic()
        for i in range(5):
            client.feedback(dict(EVENT, latency_ms=i))
        self.assertTrue(self.wait_for(lambda: len(broker.events()) == 5, 1.0 * SLACK))
        self.assertLess(time.monotonic() - started, 1.0 * SLACK)
        for _ in range(2500):
            client.feedback(EVENT)
        self.assertTrue(self.wait_for(lambda: len(broker.events()) == 2505, 3))
        self.assertTrue(all(len(b) <= 1000 for b in broker.batches if isinstance(b, list)))
        self.assertTrue(all("timestamp" in e for e in broker.events()))
        self.assertTrue(self.wait_for(lambda: client.stats()["feedback_sent"] == 2505, 1))

    def test_buffer_full_drops_with_a_counter_and_never_blocks(self):
        broker = self.broker()
        broker.mode = "hang"
        client = self.client([broker.url], feedback_buffer=100, feedback_interval=0.05)
        times = []
        for _ in range(1000):
            t = time.perf_counter()
            client.feedback(EVENT)
            times.append(time.perf_counter() - t)
            time.sleep(0.0005)
        self.assertGreaterEqual(client.stats()["feedback_dropped"], 700)
        times.sort()
        self.assertLess(times[int(len(times) * 0.99)], 0.0005 * SLACK, "feedback() p99 %.1f us" % (times[int(len(times) * 0.99)] * 1e6))

    def test_invalid_events_are_counted_not_sent(self):
        broker = self.broker()
        client = self.client([broker.url])
        for bad in (None, {"event": "result"}, {"proxy_id": "p", "event": "finished"}, {"proxy_id": "p", "event": "result", "status_code": "200"}, {"proxy_id": "p", "event": "result", "colour": 1}):
            client.feedback(bad)
        client.feedback(EVENT)
        client.close()
        self.assertEqual(client.stats()["feedback_invalid"], 5)
        self.assertEqual(len(broker.events()), 1)

    def test_close_flushes(self):
        broker = self.broker()
        client = self.client([broker.url], feedback_interval=60)
        for _ in range(10):
            client.feedback(EVENT)
        client.close()
        self.assertEqual(len(broker.events()), 10)
        client.feedback(EVENT)  # after close: counted, never raised
        self.assertEqual(client.stats()["feedback_dropped"], 1)

    def test_feedback_against_the_fixture_broker_gzip_batch(self):
        url, proc = start_fixture("basic")
        self.cleanups.append(lambda: stop_fixture(proc))
        client = self.client([url], token="t-collector", feedback_interval=60)
        for _ in range(1500):  # over 8 KiB: sent gzip
            client.feedback({"proxy_id": "europe-0", "event": "result", "success": True, "latency_ms": 80})
        client.close()
        stats = client.stats()
        self.assertEqual((stats["feedback_sent"], stats["feedback_batches"], stats["feedback_rejected"]), (1500, 2, 0))

    def test_feedback_batches_stay_under_the_services_1_mib(self):
        url, proc = start_fixture("basic")
        self.cleanups.append(lambda: stop_fixture(proc))
        # Generous timeouts: two 0.6 MiB batches on a loaded machine (the behaviour, not the speed, is tested).
        client = self.client([url], token="t-collector", feedback_interval=60, feedback_timeout=20, timeout=10)
        details = "x" * 1024  # 1000 such events are about 1.1 MiB of JSON: one batch would be refused (413)
        for _ in range(1000):
            client.feedback({"proxy_id": "europe-0", "event": "result", "success": False, "error_details": details})
        client.close(timeout=20)
        stats = client.stats()
        self.assertEqual((stats["feedback_sent"], stats["feedback_rejected"]), (1000, 0))
        self.assertEqual(stats["feedback_batches"], 2)


if __name__ == "__main__":
    unittest.main()
