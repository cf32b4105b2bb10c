"""What the fix benchmark's checks want, and the state each fleet host starts in.

Every path is under the host's private tmpfs ($HKB_PRIVATE, `Fleet.private`), and
every sysctl is one of the host's own network namespace: a fix of this suite changes
nothing of the machine the fleet runs on (benchmarks/fleet.py makes the rest of /etc
and /proc/sys read-only for the hosts besides; benchmarks/fix.py checks both).
"""

import os

PRIVATE = os.environ.get("HKB_PRIVATE", "/nonexistent/hkb-private")
BENCH = f"{PRIVATE}/etc/bench"

# net.* of the host's namespace: a new namespace starts with 0 and 60.
SYSCTLS = [("net.ipv4.ip_forward", "1"), ("net.ipv4.tcp_fin_timeout", "30")]
SYSCTL_DIR = f"{PRIVATE}/etc/sysctl.d"
SYSCTL_FILE = f"{SYSCTL_DIR}/99-zz-bench.conf"

CONFIG = (f"{BENCH}/bench.conf", "managed = yes\nlevel = 3\n")  # absent at first
SECRET = (f"{BENCH}/secret.conf", "0600")  # 0644 at first
LINK = (f"{BENCH}/bench.conf", f"{BENCH}/current")  # absent at first
DATA_DIR = (f"{PRIVATE}/var/lib/bench", "0750")  # absent at first
OWNED = (f"{BENCH}/secret.conf", "root")  # holds from the start

# Run by the fleet in each host's mount namespace, $PRIVATE its tmpfs (fleet.running).
SEED = (
    'mkdir -p "$PRIVATE/etc/bench" "$PRIVATE/etc/sysctl.d" "$PRIVATE/runs" "$PRIVATE/lock"; '
    'echo "token = 1" > "$PRIVATE/etc/bench/secret.conf"; '
    'chmod 0644 "$PRIVATE/etc/bench/secret.conf"'
)
