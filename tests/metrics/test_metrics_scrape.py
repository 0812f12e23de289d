"""Scraping over real HTTP: a standard-library server on 127.0.0.1 serves the data files."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from falcon_operator.metrics import (
    ScrapeError,
    Snapshot,
    TritonMetrics,
    metrics_url,
    scrape,
    scrape_settled,
)

DATA = Path(__file__).parent / "data"


class _Handler(BaseHTTPRequestHandler):
    """Serves ``/metrics`` from ``server.bodies`` (one body per scrape), ``/slow`` never answers."""

    def do_GET(self) -> None:
        server = self.server
        assert isinstance(server, _Server)
        if self.path == "/slow":
            server.release.wait(5)
            return
        if self.path != "/metrics":
            self.send_error(404, "no such page")
            return
        body = server.bodies.pop(0) if len(server.bodies) > 1 else server.bodies[0]
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    bodies: list[bytes]
    release: threading.Event


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.bodies = [
        (DATA / "triton_before.txt").read_bytes(),
        (DATA / "triton_after.txt").read_bytes(),
    ]
    srv.release = threading.Event()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()


def _url(srv: _Server, path: str = "/metrics") -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}{path}"


def test_scrape_parses_the_body_and_stamps_the_midpoint(server: _Server) -> None:
    ticks = iter([10.0, 12.0])
    snap = scrape(_url(server), clock=lambda: next(ticks))
    assert snap.taken_at == 11.0
    assert snap.models() == ("bert", "resnet50")


def test_measure_takes_two_scrapes_around_the_window(server: _Server) -> None:
    ticks = iter([0.0, 0.0, 10.0, 10.0])
    slept: list[float] = []
    metrics = TritonMetrics(_url(server), clock=lambda: next(ticks))
    m = metrics.measure(10.0, model="resnet50", version="1", sleep=slept.append)
    assert slept == [10.0]
    assert m.request_rps == pytest.approx(200.0) and m.avg_batch_size == pytest.approx(8.0)


def _success(snapshot: Snapshot) -> float:
    return sum(
        s.value for s in snapshot.model_samples("nv_inference_request_success", model="resnet50")
    )


def test_a_settled_scrape_waits_until_the_counters_stop_moving(server: _Server) -> None:
    after = (DATA / "triton_after.txt").read_bytes()
    server.bodies.append(after)  # before, after, after: the second and third scrapes agree
    slept: list[float] = []
    snap = scrape_settled(_url(server), model="resnet50", pause_s=0.25, sleep=slept.append)
    assert slept == [0.25, 0.25] and _success(snap) == 3600
    assert server.bodies == [after]  # all three bodies were read


def test_a_settled_scrape_of_still_counters_takes_two_scrapes(server: _Server) -> None:
    server.bodies = [(DATA / "triton_before.txt").read_bytes()]
    slept: list[float] = []
    snap = scrape_settled(_url(server), model="resnet50", sleep=slept.append)
    assert len(slept) == 1 and _success(snap) == 1100


def test_a_settled_scrape_gives_up_after_its_longest_wait(server: _Server) -> None:
    before, after = server.bodies
    server.bodies = [before, after] * 10  # a model still being served never settles
    ticks = iter(0.5 * t for t in range(100))  # a scrape reads the clock twice, the check once
    slept: list[float] = []
    snap = scrape_settled(_url(server), model="resnet50", max_wait_s=3.0,
                          clock=lambda: next(ticks), sleep=slept.append)  # fmt: skip
    assert len(slept) == 2 and _success(snap) == 1100  # the third scrape, past the deadline


def test_http_errors_are_scrape_errors(server: _Server) -> None:
    with pytest.raises(ScrapeError, match="HTTP 404"):
        scrape(_url(server, "/nothing"))


def test_a_closed_port_is_a_scrape_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ScrapeError, match="cannot connect") as info:
        scrape(metrics_url("127.0.0.1", port=port))
    assert info.value.retryable


def test_a_silent_server_times_out(server: _Server) -> None:
    with pytest.raises(ScrapeError, match=r"no answer within 0.2 s|timed out"):
        scrape(_url(server, "/slow"), timeout=0.2)


def test_metrics_url() -> None:
    assert metrics_url("10.0.0.7") == "http://10.0.0.7:8002/metrics"
    assert metrics_url("::1", port=9000) == "http://[::1]:9000/metrics"
