"""The production server and a load generator on 127.0.0.1, for the HTTP benchmarks.

`Server(db_url)` runs `gunicorn config.wsgi:application --workers 2` on a free local port
with the production settings (config.settings.prod, DEBUG off, a throw-away SECRET_KEY), made
to answer plain HTTP on 127.0.0.1: SECURE_SSL_REDIRECT, the Secure cookie flags and HSTS are
switched off through the environment variables prod.py reads (there is no TLS terminator in
front of it here). Database connections persist (DB_CONN_MAX_AGE=60), as behind a real
deployment. The self-report rate limit is raised far above the load (the limiter still runs
and is paid for on every submission; it just never says no).

`run_load(port, client, ...)` starts N client processes; each opens one keep-alive
http.client connection (re-opened by http.client when the server closes it: gunicorn's sync
workers close after every response) and sends requests back to back for a fixed time. After
a warm-up the completed requests are counted: requests per second over the whole window, and
the latency percentiles of every request.

A client is an object with `setup(conn)` (run once per connection before the clock starts,
e.g. to fetch a CSRF token) and `next_request(n)` returning (method, path, body, headers) for
the n-th request of that process; `check(status, body)` says whether an answer is a success.
"""

from __future__ import annotations

import http.client
import multiprocessing as mp
import os
import secrets
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from _common import ROOT, note, percentiles

WORKERS = 2
CLIENTS = 4  # concurrent connections: twice the server's workers keeps both busy
READY_TIMEOUT_S = 60.0
SELF_REPORT_RATE = "1000000000/60"  # count/seconds, as travel.ratelimit reads it


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving the project on 127.0.0.1 against `db_url`; a context manager."""

    def __init__(self, db_url: str, *, workers: int = WORKERS, env: dict[str, str] | None = None):
        self.db_url = db_url
        self.workers = workers
        self.port = free_port()
        self.extra_env = env or {}
        self.process: subprocess.Popen[bytes] | None = None

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.db_url,
                "DJANGO_SETTINGS_MODULE": "config.settings.prod",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "DEBUG": "0",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                # Plain HTTP on the loopback: no redirect to https, cookies without Secure.
                "SECURE_SSL_REDIRECT": "0",
                "SESSION_COOKIE_SECURE": "0",
                "CSRF_COOKIE_SECURE": "0",
                "SECURE_HSTS_SECONDS": "0",
                "DB_CONN_MAX_AGE": "60",
                "LOG_LEVEL": "WARNING",
                "FANGKONG_SELF_REPORT_RATE": SELF_REPORT_RATE,
                "PYTHONWARNINGS": "ignore::UserWarning",
            }
        )
        env.update(self.extra_env)
        return env

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--workers",
            str(self.workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--log-level",
            "warning",
            "--timeout",
            "120",
        ]
        note(f"starting gunicorn ({self.workers} workers) on 127.0.0.1:{self.port}")
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.environment())
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                status, _ = get(self.port, "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz in time")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Client(Protocol):
    def setup(self, conn: http.client.HTTPConnection) -> None: ...

    def next_request(self, n: int) -> tuple[str, str, bytes | None, dict[str, str]]: ...

    def check(self, status: int, body: bytes) -> bool: ...


class GetClient:
    """GET one path again and again (the trivial view: /healthz)."""

    def __init__(self, path: str = "/healthz") -> None:
        self.path = path

    def setup(self, conn: http.client.HTTPConnection) -> None:
        return None

    def next_request(self, n: int) -> tuple[str, str, bytes | None, dict[str, str]]:
        return "GET", self.path, None, {}

    def check(self, status: int, body: bytes) -> bool:
        return 200 <= status < 400


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    rps: float
    latency: dict[str, float]
    statuses: Counter[int] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    samples_ms: list[float] = field(default_factory=list, repr=False)

    def figures(self, prefix: str = "") -> dict[str, Any]:
        return {
            f"{prefix}rps": round(self.rps, 1),
            f"{prefix}p50_ms": self.latency.get("p50_ms"),
            f"{prefix}p99_ms": self.latency.get("p99_ms"),
            f"{prefix}requests": self.requests,
            f"{prefix}errors": self.errors,
        }


def _client_process(
    index: int,
    port: int,
    client: Client,
    ready: Any,
    go: Any,
    start_at: Any,
    seconds: float,
    warmup: float,
    results: Any,
) -> None:
    """One connection, requests back to back; sends back (end_time, ms, status, ok) samples."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    samples: list[tuple[float, float, int, bool]] = []
    failures: list[str] = []
    try:
        client.setup(conn)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the run
        results.put((index, [], [f"setup failed: {exc!r}"]))
        ready.wait()
        return
    ready.wait()
    go.wait()
    begin = start_at.value
    end = begin + warmup + seconds
    n = 0
    while True:
        now = time.perf_counter()
        if now >= end:
            break
        method, path, body, headers = client.next_request(n)
        n += 1
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            status, payload = 0, repr(exc).encode()
        done = time.perf_counter()
        ok = client.check(status, payload)
        samples.append((done, (done - now) * 1000, status, ok))
        if not ok and len(failures) < 3:
            failures.append(f"{status} {method} {path}: {payload[:300]!r}")
    conn.close()
    results.put((index, samples, failures))


def run_load(
    port: int,
    client: Client,
    *,
    seconds: float,
    warmup: float = 1.0,
    clients: int = CLIENTS,
) -> LoadResult:
    """`clients` connections for warmup + seconds; figures over the last `seconds`."""
    from django.db import connections

    connections.close_all()  # the forked children must not share the parent's DB sockets
    ctx = mp.get_context("fork")
    ready = ctx.Barrier(clients + 1)
    go = ctx.Event()
    start_at = ctx.Value("d", 0.0)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=_client_process,
            args=(i, port, client, ready, go, start_at, seconds, warmup, results),
        )
        for i in range(clients)
    ]
    for proc in procs:
        proc.start()
    ready.wait()  # every client has connected and done its setup
    start_at.value = time.perf_counter()
    go.set()
    gathered = [results.get(timeout=warmup + seconds + 180) for _ in procs]
    for proc in procs:
        proc.join()
    window_from = start_at.value + warmup
    window_to = window_from + seconds
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0
    failures: list[str] = []
    for _, samples, client_failures in gathered:
        failures.extend(client_failures)
        for done, ms, status, ok in samples:
            if not window_from <= done <= window_to:
                continue
            latencies.append(ms)
            statuses[status] += 1
            errors += 0 if ok else 1
    if not latencies:
        raise RuntimeError(f"no request completed: {failures[:3]}")
    return LoadResult(
        requests=len(latencies),
        errors=errors,
        seconds=seconds,
        rps=len(latencies) / seconds,
        latency=percentiles(latencies),
        statuses=statuses,
        error_samples=failures[:3],
        samples_ms=latencies,
    )


def merged(results: list[LoadResult]) -> LoadResult:
    """Several runs of the same load as one: requests over the total seconds."""
    latencies = [ms for r in results for ms in r.samples_ms]
    seconds = sum(r.seconds for r in results)
    statuses: Counter[int] = Counter()
    for r in results:
        statuses.update(r.statuses)
    return LoadResult(
        requests=len(latencies),
        errors=sum(r.errors for r in results),
        seconds=seconds,
        rps=len(latencies) / seconds,
        latency=percentiles(latencies),
        statuses=statuses,
        error_samples=[e for r in results for e in r.error_samples][:3],
        samples_ms=latencies,
    )


def run_interleaved(
    port: int, first: Client, second: Client, *, seconds: float, rounds: int = 5
) -> tuple[LoadResult, LoadResult]:
    """The two loads in alternating slices (first, second, first, ...), each `seconds` in all:
    on a shared, noisy machine both meet the same background, so their ratio is fair."""
    slice_s = seconds / rounds
    a: list[LoadResult] = []
    b: list[LoadResult] = []
    for _ in range(rounds):
        a.append(run_load(port, first, seconds=slice_s, warmup=0.5))
        b.append(run_load(port, second, seconds=slice_s, warmup=0.5))
        for client in (first, second):  # a client that must not repeat itself moves on
            if hasattr(client, "next_slice"):
                client.next_slice()
    return merged(a), merged(b)
