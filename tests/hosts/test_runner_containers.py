"""The runner's write operations on real containers.

Each test puts a container in the wrong state, applies the operation, reads the
result back with a plain shell command (never the runner's own read) and applies
again to get no change. The containers are shared with other modules, so every
test leaves its container as it found it (hostname, packages, units, rules).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import kit.runner as runner
from kit.errors import CommandTimeout, KitError
from kit.facts import gather_facts
from kit.runner import FirewallRule, UserModifications

hosts = pytest.mark.hosts


def sh(conn, cmd: str, *args: object, sudo: bool = False) -> str:
    return conn.run(cmd, *args, sudo=sudo).check().stdout


@contextmanager
def background(conn, cmd: str, *args: object) -> Iterator[int]:
    """Start cmd detached inside the container; kill it by its pid afterwards."""
    pid = int(sh(conn, f"setsid {cmd} >/dev/null 2>&1 </dev/null & echo $!", *args).strip())
    try:
        yield pid
    finally:
        conn.run("kill %s", pid)


# python3-minimal has socket but not http.server: a few lines serve files over HTTP/1.0.
SERVER = """\
import os, socket, sys, time
root, port, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
time.sleep(delay)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(8)
while True:
    c, _ = srv.accept()
    with c:
        req = c.recv(65536).decode("latin-1").split(" ")
        path = os.path.join(root, os.path.basename(req[1] if len(req) > 1 else ""))
        if os.path.isfile(path):
            body = open(path, "rb").read()
            c.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(body) + body)
        else:
            c.sendall(b"HTTP/1.0 404 Not Found\\r\\nContent-Length: 0\\r\\n\\r\\n")
"""


def serve(conn, directory: str, port: int, *, delay: int = 0):
    """An HTTP server on 127.0.0.1:port inside the container, started after delay seconds."""
    conn.run("cat > /tmp/hk-serve.py", stdin=SERVER).check()
    return background(conn, "python3 /tmp/hk-serve.py %s %s %s", directory, port, delay)


# -- packages -----------------------------------------------------------------


@hosts
def test_packages_install_and_remove_from_the_local_repository(containers):
    with containers[0].connect() as conn:
        facts = gather_facts(conn)
        # Lists that exist but are two days old: the state a long-lived host is in.
        sh(conn, "apt-get update -q >/dev/null && touch -d '2 days ago' /var/lib/apt/lists")
        assert runner.update_package_cache(conn, facts).changed
        age = sh(conn, "echo $(( $(date +%s) - $(stat -c %Y /var/lib/apt/lists) ))")
        assert int(age) < 60
        assert "hello" in sh(conn, "apt-cache policy hello")
        assert not runner.update_package_cache(conn, facts).changed

        assert not conn.run("command -v hello").ok
        assert not runner.is_package_installed(conn, facts, "hello")
        assert runner.install_packages(conn, facts, "hello").changed
        assert sh(conn, "hello").strip() == "Hello, world!"
        assert sh(conn, "dpkg-query -W -f '${Status}' hello") == "install ok installed"
        assert runner.is_package_installed(conn, facts, "hello")
        assert not runner.install_packages(conn, facts, "hello").changed

        assert runner.remove_packages(conn, facts, "hello").changed
        assert not conn.run("command -v hello").ok
        assert not runner.is_package_installed(conn, facts, "hello")
        assert not runner.remove_packages(conn, facts, "hello").changed


# -- services -----------------------------------------------------------------

UNIT = """\
[Unit]
Description=hostkit test service {version}

[Service]
ExecStart=/bin/sleep infinity

[Install]
WantedBy=multi-user.target
"""


def unit_state(conn, name: str) -> tuple[str, str, str]:
    """(active state, unit file state, main pid) as systemctl reports them."""
    out = sh(conn, "systemctl show -p ActiveState -p UnitFileState -p MainPID %s", name)
    props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return props["ActiveState"], props["UnitFileState"], props["MainPID"]


@hosts
def test_a_service_is_deployed_enabled_and_restarted_only_when_its_unit_changes(containers):
    name = "hk-sleeper"
    with containers[0].connect() as conn:
        facts = gather_facts(conn)
        try:
            assert unit_state(conn, name)[0] == "inactive"
            assert runner.deploy_and_enable_service(
                conn, facts, name, UNIT.format(version=1)
            ).changed
            active, enabled, pid = unit_state(conn, name)
            assert (active, enabled) == ("active", "enabled")
            assert int(pid) > 0

            same = runner.deploy_and_enable_service(conn, facts, name, UNIT.format(version=1))
            assert not same.changed
            assert unit_state(conn, name) == ("active", "enabled", pid)

            assert runner.deploy_and_enable_service(
                conn, facts, name, UNIT.format(version=2)
            ).changed
            active, _, new_pid = unit_state(conn, name)
            assert active == "active" and new_pid != pid
            assert "service 2" in sh(conn, "systemctl show -p Description %s", name)

            assert runner.stop_service(conn, facts, name).changed
            assert unit_state(conn, name)[0] == "inactive"
            assert not runner.stop_service(conn, facts, name).changed

            assert runner.start_service(conn, facts, name).changed
            active, _, pid = unit_state(conn, name)
            assert active == "active"
            assert not runner.start_service(conn, facts, name).changed
            assert unit_state(conn, name)[2] == pid

            assert runner.restart_service(conn, facts, name).changed
            active, _, restarted = unit_state(conn, name)
            assert active == "active" and restarted != pid
        finally:
            conn.run("systemctl disable --now %s", name)
            conn.run("rm -f %s && systemctl daemon-reload", f"/etc/systemd/system/{name}.service")


# -- users, groups, sudoers ---------------------------------------------------------


@hosts
def test_users_and_groups_are_added_and_modified(containers):
    with containers[0].connect() as conn:
        try:
            assert not conn.run("getent group hkteam").ok
            assert runner.add_group(conn, "hkteam").changed
            assert sh(conn, "getent group hkteam").startswith("hkteam:")
            assert not runner.add_group(conn, "hkteam").changed

            assert not runner.user_exists(conn, "hkuser")
            assert runner.add_user(conn, "hkuser", shell="/bin/bash").changed
            assert sh(conn, "getent passwd hkuser").strip().endswith(":/home/hkuser:/bin/bash")
            assert sh(conn, "stat -c %U /home/hkuser").strip() == "hkuser"
            assert runner.user_exists(conn, "hkuser")
            assert not runner.add_user(conn, "hkuser", shell="/bin/bash").changed

            wanted = UserModifications(add_groups=("hkteam",), shell="/bin/sh")
            assert runner.modify_user(conn, "hkuser", wanted).changed
            assert "hkteam" in sh(conn, "id -Gn hkuser").split()
            assert sh(conn, "getent passwd hkuser").strip().endswith(":/bin/sh")
            assert not runner.modify_user(conn, "hkuser", wanted).changed
        finally:
            conn.run("userdel -r hkuser; groupdel hkteam")


@hosts
def test_a_valid_sudoer_lands_and_an_invalid_one_is_refused(containers):
    good = "tester ALL=(root) NOPASSWD: /usr/bin/id\n"
    with containers[0].connect() as conn:
        try:
            assert runner.configure_sudoer(conn, "hk-good", good).changed
            assert sh(conn, "cat /etc/sudoers.d/hk-good") == good
            assert sh(conn, "stat -c %a:%U /etc/sudoers.d/hk-good").strip() == "440:root"
            sh(conn, "visudo -c")
            assert not runner.configure_sudoer(conn, "hk-good", good).changed

            with pytest.raises(KitError):
                runner.configure_sudoer(conn, "hk-bad", "tester ALL=(root NOPASSWD\n")
            assert not conn.run("test -e /etc/sudoers.d/hk-bad").ok
            with pytest.raises(KitError):
                runner.configure_sudoer(conn, "hk-good", "tester ALL=(root NOPASSWD\n")
            assert sh(conn, "cat /etc/sudoers.d/hk-good") == good
            assert sh(conn, "ls -A /etc/sudoers.d").split().count("hk-good") == 1
            sh(conn, "visudo -c")
        finally:
            conn.run("rm -f /etc/sudoers.d/hk-good /etc/sudoers.d/hk-bad")


# -- network ------------------------------------------------------------------------


@hosts
def test_hostname_and_hosts_entries(containers):
    host = containers[-1]
    with host.connect() as conn:
        facts = gather_facts(conn)
        try:
            assert runner.set_hostname(conn, facts, "hk-renamed").changed
            assert sh(conn, "hostname").strip() == "hk-renamed"
            assert sh(conn, "cat /etc/hostname").strip() == "hk-renamed"
            assert not runner.set_hostname(conn, facts, "hk-renamed").changed
        finally:
            runner.set_hostname(conn, facts, host.name)
        assert sh(conn, "hostname").strip() == host.name

        before = sh(conn, "cat /etc/hosts")
        try:
            assert "10.99.0.5" not in before
            change = runner.add_host_entry(conn, "10.99.0.5", "db.example.test", "db")
            assert change.changed
            assert sh(conn, "getent hosts db.example.test").split() == [
                "10.99.0.5", "db.example.test", "db",
            ]  # fmt: skip
            assert sh(conn, "getent hosts db").split()[0] == "10.99.0.5"
            assert not runner.add_host_entry(conn, "10.99.0.5", "db.example.test", "db").changed
            assert runner.add_host_entry(conn, "10.99.0.5", "db2.example.test").changed
            lines = [ln for ln in sh(conn, "cat /etc/hosts").splitlines() if "10.99.0.5" in ln]
            assert len(lines) == 1 and "db2.example.test" in lines[0]
            assert "db.example.test" not in lines[0].split()
        finally:
            conn.run("cat > /etc/hosts", stdin=before)


@hosts
def test_wait_for_port_returns_once_a_listener_starts(containers, tmp_path):
    with containers[0].connect() as conn:
        facts = gather_facts(conn)
        with pytest.raises(CommandTimeout):
            runner.wait_for_port(conn, facts, 18099, timeout=2, interval=0.5)
        sh(conn, "mkdir -p /tmp/hk-empty")
        with serve(conn, "/tmp/hk-empty", 18099, delay=2):
            started = time.monotonic()
            runner.wait_for_port(conn, facts, 18099, timeout=30, interval=0.5)
            assert time.monotonic() - started >= 1
            probe = "import socket; socket.create_connection(('127.0.0.1', 18099), 2)"
            assert conn.run("python3 -c %s", probe).ok


@hosts
def test_firewall_rules_are_added_once_and_the_firewall_disabled(containers):
    rule = FirewallRule(18081)
    with containers[0].connect() as conn:
        facts = gather_facts(conn)
        assert facts.firewall == "none"
        try:
            assert runner.configure_firewall(conn, facts, [rule]).changed
            ruleset = sh(conn, "nft list ruleset")
            assert ruleset.count("tcp dport 18081 accept") == 1
            facts = gather_facts(conn)
            assert facts.firewall == "nftables"
            assert not runner.configure_firewall(conn, facts, [rule]).changed
            assert sh(conn, "nft list ruleset").count("tcp dport 18081 accept") == 1

            assert runner.disable_firewall(conn, facts).changed
            assert "18081" not in sh(conn, "nft list ruleset")
            assert sh(conn, "systemctl is-active nftables || true").strip() != "active"
            facts = gather_facts(conn)
            assert facts.firewall == "none"
            assert not runner.disable_firewall(conn, facts).changed
        finally:
            conn.run("nft delete table inet hostkit")


# -- files from templates and archives ------------------------------------------------


@hosts
def test_render_writes_a_template_once(containers):
    template = "listen {{ port }}\n{% for u in users %}allow {{ u }}\n{% endfor %}"
    data = {"port": 8080, "users": ["alice", "bob"]}
    with containers[0].connect() as conn:
        sh(conn, "rm -rf /tmp/hk-render && mkdir /tmp/hk-render")
        try:
            assert runner.render(conn, template, data, "/tmp/hk-render/app.conf").changed
            got = sh(conn, "cat /tmp/hk-render/app.conf")
            assert got == "listen 8080\nallow alice\nallow bob\n"
            assert not runner.render(conn, template, data, "/tmp/hk-render/app.conf").changed
            assert runner.render(
                conn, template, {**data, "port": 9090}, "/tmp/hk-render/app.conf"
            ).changed
            assert sh(conn, "head -1 /tmp/hk-render/app.conf") == "listen 9090\n"
        finally:
            conn.run("rm -rf /tmp/hk-render")


@hosts
def test_download_and_extract_from_a_server_in_the_container(containers):
    port = 18090
    with containers[0].connect() as conn:
        sh(
            conn,
            "rm -rf /tmp/hk-www /tmp/hk-src /opt/hk-app /var/cache/hk-test"
            " && mkdir -p /tmp/hk-www /tmp/hk-src/app/bin"
            " && echo 'v1' > /tmp/hk-src/app/VERSION && echo run > /tmp/hk-src/app/bin/run"
            " && tar -C /tmp/hk-src -czf /tmp/hk-www/app.tar.gz app",
        )
        sha = sh(conn, "sha256sum /tmp/hk-www/app.tar.gz").split()[0]
        url = f"http://127.0.0.1:{port}/app.tar.gz"
        try:
            with serve(conn, "/tmp/hk-www", port):
                facts = gather_facts(conn)
                runner.wait_for_port(conn, facts, port, timeout=20, interval=0.5)
                change = runner.download_and_extract(
                    conn, url, "/opt/hk-app", sha256=sha, cache_dir="/var/cache/hk-test"
                )
                assert change.changed
                assert sh(conn, "cat /opt/hk-app/app/VERSION") == "v1\n"
                assert sh(conn, "cat /opt/hk-app/app/bin/run") == "run\n"
                assert sh(conn, "sha256sum /var/cache/hk-test/app.tar.gz").split()[0] == sha
                again = runner.download_and_extract(
                    conn, url, "/opt/hk-app", sha256=sha, cache_dir="/var/cache/hk-test"
                )
                assert not again.changed
            # The server is gone: a third run still needs nothing from it.
            assert not runner.download_and_extract(
                conn, url, "/opt/hk-app", sha256=sha, cache_dir="/var/cache/hk-test"
            ).changed
        finally:
            conn.run("rm -rf /tmp/hk-www /tmp/hk-src /opt/hk-app /var/cache/hk-test")


# -- as a non-root user with a sudo password ---------------------------------------------


@hosts
def test_writes_as_the_sudo_user_with_its_password(containers):
    host = containers[0]
    with host.connect(user=host.sudo_user) as conn:
        assert sh(conn, "id -u").strip() != "0"
        facts = gather_facts(conn, sudo=True)
        try:
            assert conn.run("test -e /etc/hk-sudo.conf").ok is False
            change = runner.write_file(conn, "/etc/hk-sudo.conf", "x = 1\n", mode="0640", sudo=True)
            assert change.changed
            assert sh(conn, "stat -c %a:%U /etc/hk-sudo.conf", sudo=True).strip() == "640:root"
            assert sh(conn, "cat /etc/hk-sudo.conf", sudo=True) == "x = 1\n"
            assert not runner.write_file(
                conn, "/etc/hk-sudo.conf", "x = 1\n", mode="0640", sudo=True
            ).changed

            assert runner.install_packages(conn, facts, "hello").changed
            assert sh(conn, "hello").strip() == "Hello, world!"
            assert not runner.install_packages(conn, facts, "hello").changed
            assert runner.remove_packages(conn, facts, "hello").changed
            assert not conn.run("command -v hello").ok
        finally:
            conn.run("rm -f /etc/hk-sudo.conf", sudo=True)
            conn.run("apt-get remove -y -q hello", sudo=True)
