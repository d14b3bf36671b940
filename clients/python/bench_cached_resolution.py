"""Bench of the Python client: request() cached p50/p99 over 100k calls, and the time from the service dying to
request() returning the embedded fallback. Starts the fixture broker (dist/, `npm run build`); prints one Markdown
line each. `python3 clients/python/bench_cached_resolution.py [CALLS]`."""

import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from torfleet_client import ProxyServiceClient  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
CASES = os.path.join(REPO, "clients", "conformance", "cases.json")
FIXTURE_BROKER = os.path.join(REPO, "dist", "reconciler", "src", "testing", "fixture-broker.js")
FALLBACK = {"regions": {"*": ["socks5h://127.0.0.1:29050"]}}


def start():
    if not os.path.exists(FIXTURE_BROKER):
        sys.exit("fixture broker %s is missing: run `npm run build`" % FIXTURE_BROKER)
    proc = subprocess.Popen(["node", FIXTURE_BROKER, CASES, "--suite", "basic"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    return json.loads(proc.stdout.readline())["url"], proc


def stop(proc):
    proc.terminate()
    proc.wait(5)


def pct(sorted_times, p):
    return sorted_times[min(len(sorted_times) - 1, int(len(sorted_times) * p))]


def main():
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    url, proc = start()
    try:
        client = ProxyServiceClient(endpoints=[url], token="t-collector", fallback=FALLBACK)
        assert client.request("binance", "rest", "US").source == "service"
        times = []
        clock = time.perf_counter
        for _ in range(calls):
            t = clock()
            client.request("binance", "rest", "US")
            times.append(clock() - t)
        times.sort()
        print(
            "| Python client cached request() | %d calls | p50 %.2f µs | p99 %.2f µs | max %.1f µs |"
            % (calls, pct(times, 0.50) * 1e6, pct(times, 0.99) * 1e6, times[-1] * 1e6)
        )
        client.close()

        # Time to fallback: a warm client (its connection kept alive), then the service killed; each call is a new
        # key, so nothing is served from the cache.
        client = ProxyServiceClient(endpoints=[url], token="t-collector", fallback=FALLBACK)
        assert client.request("warm", "rest", "US").source == "service"
    finally:
        proc.kill()
        proc.wait(5)
    died = time.monotonic()
    n = 0
    while True:
        n += 1
        lease = client.request("after-%d" % n, "rest", "US")
        if lease.source == "embedded":
            break
    took = time.monotonic() - died
    t = time.monotonic()
    again = client.request("after-again", "rest", "US")
    next_call = time.monotonic() - t
    print(
        "| Python client time to fallback | service killed (refused) | %.1f ms to the embedded fallback | next call %.2f ms (%s) |"
        % (took * 1e3, next_call * 1e3, again.source)
    )
    client.close(timeout=0.5)

    # A hung service: the fixture broker stopped (SIGSTOP: connections are accepted by the kernel, never answered),
    # then continued (SIGCONT): time to the fallback, to the breaker opening, and back to the service.
    url, proc = start()
    try:
        client = ProxyServiceClient(endpoints=[url], token="t-collector", fallback=FALLBACK, breaker_max_seconds=2.0)
        assert client.request("warm", "rest", "US").source == "service"
        os.kill(proc.pid, signal.SIGSTOP)
        died = time.monotonic()
        n = 0
        first = None
        while client.stats()["endpoints"][0]["state"] == "closed":
            n += 1
            lease = client.request("hung-%d" % n, "rest", "US")
            if first is None and lease.source == "embedded":
                first = time.monotonic() - died
        opened = time.monotonic() - died
        os.kill(proc.pid, signal.SIGCONT)
        back = time.monotonic()
        while client.request("back-%d" % n, "rest", "US").source != "service":
            n += 1
            time.sleep(0.01)
        recovered = time.monotonic() - back
        print(
            "| Python client time to fallback | service hung (SIGSTOP) | %.0f ms to the embedded fallback | breaker open after %.0f ms | back on the service %.0f ms after SIGCONT |"
            % (first * 1e3, opened * 1e3, recovered * 1e3)
        )
        client.close(timeout=0.5)
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        stop(proc)


if __name__ == "__main__":
    main()
