"""The HTTP side: /metrics (the Prometheus text format, written by prometheus_client) and
/healthz, served by threads of their own while the run loop runs."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

from kit.serve.metrics import State

StartResponse = Callable[..., Any]
App = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a slow scraper never holds the server's exit


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # a scrape every few seconds is not news


def app(registry: CollectorRegistry, state: State) -> App:
    metrics = make_wsgi_app(registry)

    def serve(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return metrics(environ, start_response)
        if path == "/healthz":
            healthy, text = state.health()
            status = "200 OK" if healthy else "503 Service Unavailable"
            return _text(start_response, status, text)
        return _text(start_response, "404 Not Found", "not found: /metrics or /healthz")

    return serve


def _text(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    body = (text + "\n").encode()
    start_response(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    return [body]


class Listener:
    """The server on host:port, answering from a thread until closed."""

    def __init__(self, host: str, port: int, wsgi: App) -> None:
        kind = _Server6 if ":" in host else _Server
        self._server = make_server(host, port, wsgi, server_class=kind, handler_class=_Quiet)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="hostkit-serve-http", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else str(host)
        return f"http://{shown}:{port}/metrics"

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
