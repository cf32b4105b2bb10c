"""The CIS worker node profile on a disposable container with a stand-in kubelet.

The kubelet is a kubelet.service laid out as kubeadm lays it out (the unit, its
10-kubeadm.conf drop-in, kubeadm-flags.env, /etc/default/kubelet), whose program answers
--version and otherwise only sleeps: the checks read files, flags and the unit. The
container's kernel tunables are the host's and cannot be set from inside, so
protect-kernel-defaults (whose fix sets six of them) is left out of the container
scenarios and has a VM scenario of its own (`-k "not vm"` runs the containers' only).
"""

from __future__ import annotations

import pytest

from tests.hosts import compliance

pytestmark = pytest.mark.hosts

PROFILE = ("--profile", "cis-kubernetes-node", "--max-disruption=medium")
SELECT = "not protect_kernel_defaults"
# --strict: the benchmark's Manual items are warning checks, whose fixes run only when asked.
FIX = ("--fix", "--strict", *PROFILE)
# Warnings a --fix leaves as they are: the serving certificate and cipher suites, which
# kube-bench leaves to the operator (no fix), and kube-proxy's kubeconfig, which a kubeadm
# node keeps in a ConfigMap, not on the host: its mode and owner fixes refuse a file
# that does not exist.
NO_FIX = ("test_tls_cert_file", "test_tls_cipher_suites")
REFUSED = ("test_proxy_kubeconfig_",)
UNFIXED = NO_FIX + REFUSED

UNIT = """\
[Unit]
Description=kubelet stand-in
StartLimitInterval=0
[Service]
ExecStart=/usr/local/bin/kubelet
Restart=always
[Install]
WantedBy=multi-user.target
"""
DROPIN = """\
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
"""  # noqa: E501
CONFIG = """\
# kept by hand
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: true
authorization:
  mode: AlwaysAllow
readOnlyPort: 10255
streamingConnectionIdleTimeout: 0s
makeIPTablesUtilChains: false
rotateCertificates: false
featureGates:
  RotateKubeletServerCertificate: false
seccompDefault: false
"""
# Answers --version as the kubelet does (the runtime checks ask it); otherwise only runs.
KUBELET = """\
#!/bin/sh
[ "$1" = --version ] && { echo "Kubernetes v1.31.4"; exit 0; }
exec sleep infinity
"""
KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n"


def fail_fix_settle(host, tmp_path, expect: dict[str, str], passing: tuple[str, ...]) -> None:
    """The catalog scenarios' fail, fix, settle, under this profile.

    expect: test-name prefix -> a fragment the failure message must contain.
    passing: test-name prefixes the reference passes on this host before any fix.
    Every failing check is fixed but the UNFIXED warnings, which stay warnings untouched.
    """
    before = compliance.run(host, tmp_path, "before", *PROFILE, select=SELECT)
    for prefix, fragment in expect.items():
        names = [n for n in before.failing() if n.startswith(prefix)]
        assert names, (prefix, before.cases)
        messages = [before.cases[n].message for n in names]
        assert any(fragment in m for m in messages), (prefix, messages)
    for prefix in passing:
        assert before.outcome_of(prefix) == {"passed"}, (prefix, before.cases)
    unfixed = {n for n in before.failing() if n.startswith(UNFIXED)}
    fixed = compliance.run(host, tmp_path, "fix", *FIX, select=SELECT)
    for name in before.failing() - unfixed:
        assert fixed.cases[name].outcome == "fixed", (name, fixed.cases[name])
    for name in unfixed:
        case = fixed.cases[name]
        # Failed, not warning: under --strict a failing warning check fails the run.
        assert case.outcome == "failed" and not case.fixes, (name, case)
        if name.startswith(NO_FIX):
            assert before.cases[name].outcome == "warning", (name, before.cases[name])
        else:
            assert "fix refused: /etc/kubernetes/proxy.conf does not exist" in case.message
            assert "host unchanged" in case.message, (name, case)
    again = compliance.run(host, tmp_path, "again", *FIX, select=SELECT)
    assert again.failing() == unfixed, again.cases
    assert not any(c.fixes for c in again.cases.values())


def install_kubelet(conn, extra_args: str = "") -> None:
    files = {
        "/usr/local/bin/kubelet": (KUBELET, "755", "root"),
        "/etc/systemd/system/kubelet.service": (UNIT, "644", "root"),
        "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf": (DROPIN, "664", "nobody"),
        "/var/lib/kubelet/kubeadm-flags.env": (
            'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/'
            'containerd.sock"\n',
            "644",
            "root",
        ),
        "/etc/default/kubelet": (f"KUBELET_EXTRA_ARGS={extra_args}\n", "644", "root"),
        "/var/lib/kubelet/config.yaml": (CONFIG, "644", "root"),
        "/etc/kubernetes/kubelet.conf": (KUBECONFIG, "640", "nobody"),
        "/etc/kubernetes/pki/ca.crt": ("not a real certificate\n", "666", "root"),
    }
    for path, (text, mode, owner) in files.items():
        conn.run("mkdir -p %s", path.rsplit("/", 1)[0]).check()
        conn.put(text.encode(), path, mode=mode, owner=owner, group="root")
    conn.run(
        "rm -f /etc/kubernetes/bootstrap-kubelet.conf /etc/kubernetes/proxy.conf"
        " && systemctl daemon-reload && systemctl enable -q kubelet && systemctl restart kubelet"
    ).check()


def remove_kubelet(conn) -> None:
    conn.run(
        "systemctl disable -q --now kubelet; rm -rf /etc/systemd/system/kubelet.service"
        " /etc/systemd/system/kubelet.service.d /var/lib/kubelet /etc/kubernetes"
        " /etc/default/kubelet /usr/local/bin/kubelet; systemctl daemon-reload"
    )


def test_a_badly_set_kubelet_fails_is_fixed_and_stays_fixed(containers, tmp_path):
    host = containers[0]
    with host.connect() as conn:
        install_kubelet(conn)
    try:
        fail_fix_settle(
            host,
            tmp_path,
            {
                "test_kubelet_unit_mode": "10-kubeadm.conf has mode 664, want 600",
                "test_kubelet_unit_owner": "10-kubeadm.conf is owned by nobody:root",
                "test_kubelet_kubeconfig_mode": "/etc/kubernetes/kubelet.conf has mode 640",
                "test_kubelet_kubeconfig_owner": "kubelet.conf is owned by nobody:root",
                "test_client_ca_mode": "/etc/kubernetes/pki/ca.crt has mode 666, want 644",
                "test_kubelet_config_mode": "config.yaml has mode 644, want 600",
                "test_anonymous_auth": "authentication.anonymous.enabled: true in",
                "test_authorization_mode": "authorization.mode: AlwaysAllow",
                "test_client_ca_file": "authentication.x509.clientCAFile is not set",
                "test_read_only_port": "readOnlyPort: 10255",
                "test_make_iptables_util_chains": "makeIPTablesUtilChains: false",
                "test_rotate_certificates": "rotateCertificates: false",
                "test_rotate_server_certificate": "RotateKubeletServerCertificate: false",
                "test_pod_pids_limit": "podPidsLimit is not set",
                "test_tls_cert_file": "tlsCertFile is not set",
                "test_tls_cipher_suites": "tlsCipherSuites is not set",
                "test_proxy_kubeconfig_mode": "/etc/kubernetes/proxy.conf does not exist",
            },
            # 4.2.5: `0s` in the config file is the kubelet's 4h default, only a zero flag
            # fails; 4.2.14: seccompDefault is set (kube-bench wants it set, not a value).
            ("test_streaming_idle_timeout", "test_seccomp_default"),
        )
        with host.connect() as conn:  # independent reads
            config = conn.run("cat /var/lib/kubelet/config.yaml").check().stdout
            assert config.startswith("# kept by hand\n"), config
            assert "podPidsLimit: 4096" in config and "readOnlyPort: 0" in config, config
            paths = [
                "/var/lib/kubelet/config.yaml",
                "/etc/kubernetes/kubelet.conf",
                "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
                "/etc/kubernetes/pki/ca.crt",
            ]
            stat = conn.run("stat -c '%%a %%U:%%G' %s %s %s %s", *paths).check().stdout.split("\n")
            stat = [line.split() for line in stat if line]
            assert stat == [
                ["600", "root:root"],
                ["600", "root:root"],
                ["600", "root:root"],
                ["644", "root:root"],
            ], stat
            assert conn.run("systemctl is-active kubelet").stdout.strip() == "active"
    finally:
        with host.connect() as conn:
            remove_kubelet(conn)


def test_a_flag_that_overrides_the_config_is_left_to_the_operator(containers, tmp_path):
    host = containers[0]
    with host.connect() as conn:
        install_kubelet(conn, extra_args="--read-only-port=10255")
    try:
        before = compliance.run(host, tmp_path, "before", *PROFILE, select="read_only_port")
        (case,) = before.cases.values()
        assert "flag --read-only-port=10255 in /etc/default/kubelet" in case.message, case
        # 4.2.4 is a warning check (Manual in the benchmark): --strict runs its fix.
        fixed = compliance.run(host, tmp_path, "fix", *FIX, select="read_only_port")
        assert "/etc/default/kubelet overrides /var/lib/kubelet/config.yaml" in fixed.output
        assert not any(c.fixes for c in fixed.cases.values()), fixed.cases
        with host.connect() as conn:  # independent reads
            config = conn.run("cat /var/lib/kubelet/config.yaml").check().stdout
            assert "readOnlyPort: 10255" in config
    finally:
        with host.connect() as conn:
            remove_kubelet(conn)


def test_vm_protect_kernel_defaults_sets_the_tunables_first(vm, tmp_path):
    """VM only (not run in the container tier): the kernel tunables are the host's in a
    container. The fix sets the six tunables the kubelet insists on, live and in
    sysctl.d, before protectKernelDefaults, so the restarted kubelet can start.
    """
    # The item left the benchmark after cis-1.24, so no shipped CIS profile selects it:
    # a site's profile adds it, and --check runs it alone.
    profile = tmp_path / "cis-protect-kernel-defaults.yaml"
    profile.write_text(
        "name: cis-protect-kernel-defaults\n"
        "extends: cis-kubernetes-node\n"
        "checks_add: [cis.node.kubelet.protect-kernel-defaults]\n"
    )
    args = (
        f"--profile={profile}",
        "--max-disruption=medium",
        "--check=cis.node.kubelet.protect-kernel-defaults",
    )
    with vm.connect() as conn:
        install_kubelet(conn)
        conn.run("sysctl -q -w kernel.panic=0 vm.overcommit_memory=0").check()
    try:
        before = compliance.run(vm, tmp_path, "before", *args)
        (case,) = before.cases.values()
        assert "protectKernelDefaults is not set" in case.message, case
        fixed = compliance.run(vm, tmp_path, "fix", "--fix", *args)
        assert {c.outcome for c in fixed.cases.values()} == {"fixed"}, fixed.cases
        again = compliance.run(vm, tmp_path, "again", "--fix", *args)
        assert again.failing() == set() and not any(c.fixes for c in again.cases.values())
        with vm.connect() as conn:  # independent reads
            assert conn.run("sysctl -n kernel.panic").stdout.strip() == "10"
            assert "vm.overcommit_memory" in conn.run("cat /etc/sysctl.d/99-zz-hostkit.conf").stdout
            config = conn.run("cat /var/lib/kubelet/config.yaml").check().stdout
            assert "protectKernelDefaults: true" in config
    finally:
        with vm.connect() as conn:
            remove_kubelet(conn)
