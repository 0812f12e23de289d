"""A minimal in-process Triton HTTP stand-in for the runner's own tests (stdlib only).

It answers readiness, model metadata/config and inference with a fixed service time and a
configurable number of parallel slots; it can fail every inference, or refuse to be ready. The
full Triton-compatible test server (``falcon_trial.testserver``) is what the acceptance tests use.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclasses.dataclass
class FakeModel:
    name: str = "model"
    inputs: list[dict[str, Any]] = dataclasses.field(
        default_factory=lambda: [{"name": "x", "datatype": "FP32", "shape": [-1, 4]}]
    )
    max_batch_size: int = 8
    service_s: float = 0.002
    slots: int = 1
    ready: bool = True
    fail: bool = False
    jitter: list[float] = dataclasses.field(default_factory=list)
    """Service times cycled through instead of ``service_s`` (to make windows disagree)."""
    served: int = 0
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        m = self.server.model
        path = self.path.rstrip("/")
        if path == "/v2/health/ready":
            self._send(200 if m.ready else 503, {})
        elif path == f"/v2/models/{m.name}":
            outputs = [{"name": "y", "datatype": "FP32", "shape": [-1, 1]}]
            self._send(
                200,
                {"name": m.name, "versions": ["1"], "platform": "fake", "inputs": m.inputs,
                 "outputs": outputs},
            )  # fmt: skip
        elif path == f"/v2/models/{m.name}/config":
            self._send(200, {"name": m.name, "max_batch_size": m.max_batch_size})
        else:
            self._send(404, {"error": f"Request for unknown model: '{path}' is not found"})

    def do_POST(self) -> None:
        m = self.server.model
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path != f"/v2/models/{m.name}/infer":
            self._send(404, {"error": "unknown model"})
            return
        with self.server.slots:
            with m.lock:
                m.served += 1
                n = m.served
            time.sleep(m.jitter[n % len(m.jitter)] if m.jitter else m.service_s)
        if m.fail:
            self._send(500, {"error": "model exploded"})
        else:
            self._send(200, {"model_name": m.name, "outputs": []})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, model: FakeModel) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.model = model
        self.slots = threading.Semaphore(model.slots)


@contextmanager
def fake_triton(model: FakeModel) -> Iterator[str]:
    """Serve ``model`` on a free port; yields the URL."""
    server = _Server(model)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
