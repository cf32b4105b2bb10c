"""The delay proxy: bytes pass unchanged both ways, and each exchange costs one RTT."""

import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.proxy import DelayProxy


def _echo_server():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)

    def serve():
        conn, _ = srv.accept()
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    threading.Thread(target=serve, daemon=True).start()
    return srv


def _exchange(port, payload):
    with socket.create_connection(("127.0.0.1", port)) as c:
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        times, got = [], b""
        for _ in range(3):
            started = time.perf_counter()
            c.sendall(payload)
            got = b""
            while len(got) < len(payload):
                got += c.recv(65536)
            times.append(time.perf_counter() - started)
        return got, times


def test_each_exchange_costs_one_rtt_and_bytes_are_intact():
    srv = _echo_server()
    proxy = DelayProxy(0.040)
    port = proxy.add(srv.getsockname())
    proxy.start()
    try:
        payload = bytes(range(256)) * 40
        got, times = _exchange(port, payload)
    finally:
        proxy.stop()
        srv.close()
    assert got == payload
    assert min(times) >= 0.040
    assert max(times) < 0.040 + 0.5  # generous: other jobs share these cores


def test_no_delay_without_proxy_is_faster():
    srv = _echo_server()
    try:
        _, times = _exchange(srv.getsockname()[1], b"x" * 100)
    finally:
        srv.close()
    assert min(times) < 0.040
