"""An idle connection stays quiet: its reader thread does not wake ten times a second."""

from __future__ import annotations

import time

from kit.connection import Connection


def test_an_idle_connection_wakes_its_reader_rarely_and_still_answers_at_once(
    conn: Connection,
) -> None:
    conn.run("true")
    # The reader thread is paramiko's; each time its wait on the socket ends with no data
    # it checks the keepalive, which is what is counted here.
    packetizer = conn._transport.packetizer  # type: ignore[union-attr]
    wakes: list[float] = []
    real = packetizer._check_keepalive

    def counted() -> None:
        wakes.append(time.monotonic())
        real()

    packetizer._check_keepalive = counted
    time.sleep(3.0)
    # paramiko's own pace would be about thirty wakes here.
    assert len(wakes) <= 5, len(wakes)
    started = time.monotonic()
    assert conn.run("echo awake").stdout == "awake\n"
    assert time.monotonic() - started < 1.0


def test_closing_an_idle_connection_does_not_wait_for_its_reader(conn: Connection) -> None:
    conn.run("true")
    time.sleep(0.2)
    started = time.monotonic()
    conn.close()
    assert time.monotonic() - started < 0.5
