"""The CIS Kubernetes benchmark's worker node section that is host state (kube-bench).

kube-bench's verdicts, and hostkit's severities: a scored check that fails is kube-bench's
FAIL (error here), an unscored (Manual) one its WARN (warning here). Ids and tests follow
kube-bench's cfg/cis-1.12/node.yaml, with the few test items that differ in the benchmark
kube-bench picks for the node's Kubernetes version applied per node (cis_versions);
every verdict names the benchmark used. protect-kernel-defaults, gone from the benchmark
since, follows cfg/cis-1.24/node.yaml and is in no CIS profile.

The kubelet is read as kube-bench reads it: the running kubelet's flags (`ps`; here its
/proc/PID/cmdline), else those its unit would give it; then its config file with its
--config-dir drop-ins merged. Where this differs from kube-bench: 4.2.5 compares a
duration, not text: a zero in the config file is the kubelet's 4h default (kube-bench
passes it too, as "0s" is not "0"), and a zero flag in any spelling ("0s") fails, as the
kubelet then has no timeout (kube-bench's text compare would pass "0s").

A file that does not exist: kube-bench's audit (`if test -e $f; then stat ...; fi`) then
prints nothing, and a test item that wants a flag in that output fails (`set` defaults
to true, check/test.go testItem.evaluate). So a missing kubelet config, kubeconfig, unit
or CA file fails here as it does there. 4.1.2 accepts "File not found" for the unit
file's owner. The proxy kubeconfig checks say "If proxy kubeconfig file exists", yet their
test fails on the empty audit too; being Manual, kube-bench reports WARN there, and so
does this catalog (a warning): kubeadm keeps kube-proxy's kubeconfig in a ConfigMap, so a
kubeadm node warns in both.
"""

from __future__ import annotations

import pytest

from hostkit_catalog.remediations import cis_versions as versions
from hostkit_catalog.remediations import kubelet as kfix
from kit.catalog.check import check
from kit.edits import kubelet as units


def _refs(number: str, what: str) -> dict[str, str]:
    return {"kube-bench": f"{kfix.KUBE_BENCH} {number}: {what}", "benchmark version": _BY}


# Shown in every CIS check's references: how a node's benchmark is chosen.
_BY = (
    "chosen by the node's Kubernetes version as kube-bench maps it (cfg/config.yaml "
    "version_mapping): cis-1.7 to cis-1.12; each verdict names the one used"
)


def benchmark(facts, item: str) -> versions.Choice:
    """The node's benchmark; an item that benchmark does not have is skipped."""
    choice = versions.choose_for(facts)
    if not choice.has(item):
        pytest.skip(f"{item} is not in {choice.describe()}")
    return choice


def verdict(problem: str | None, choice: versions.Choice) -> None:
    assert problem is None, f"{problem} [{choice.describe()}]"


def _stat(facts, path: str):
    return facts.files.get(path)


def _gathered_reads(facts, unit: str) -> tuple[list[str], dict[str, kfix.FileRead]] | None:
    """The kubelet unit's files and every file the facts gather dumped for the CIS
    checks; None where the gather did not read them (a login that is not root)."""
    got = getattr(facts, "kubelet_files", None)
    if unit != kfix.UNIT or got is None or got.dump is None:
        return None
    paths = kfix.parse_show(got.show) if got.show is not None else []
    return paths, kfix.parse_dump(got.dump)


def unit_files(conn, facts, unit: str) -> list[str]:
    gathered = _gathered_reads(facts, unit)
    return gathered[0] if gathered is not None else kfix.unit_files(conn, unit)


def read_files(conn, facts, paths) -> dict[str, kfix.FileRead]:
    """kfix.read_files, from the gather's dump when it holds every path."""
    gathered = _gathered_reads(facts, kfix.UNIT)
    if gathered is not None and all(p in gathered[1] for p in paths):
        return {p: gathered[1][p] for p in paths}
    return kfix.read_files(conn, paths)


def read_raw(conn, facts, config_path: str, unit: str = kfix.UNIT) -> kfix.Reads:
    """kfix.read_raw, over the gather's dump when it holds every file that read would read."""
    gathered = _gathered_reads(facts, unit)
    if gathered is None:
        return kfix.read_raw(conn, config_path, unit)
    paths, dump = gathered
    if not all(p in dump for p in paths):
        return kfix.read_raw(conn, config_path, unit)
    unit_reads = tuple(dump[p] for p in paths)
    service = units.parse_units([(f.path, f.text) for f in unit_reads if f.exists])
    env_paths = [p for p, _ in service.environment_files]
    if not all(p in dump for p in env_paths):
        return kfix.read_raw(conn, config_path, unit)
    env_reads = {p: dump[p] for p in env_paths}
    process = kfix.parse_process(facts.kubelet_files.dump)
    flags = kfix.flags_of(unit_reads, env_reads, process)
    path = kfix.config_path_of(flags, config_path)
    if path not in dump:
        return kfix.read_raw(conn, config_path, unit)
    dropins: tuple[kfix.FileRead, ...] = ()
    present = None
    directory = flags.get("config-dir")
    if directory and directory.value:
        listed = kfix.parse_dirs(facts.kubelet_files.dump)
        if directory.value not in listed:
            return kfix.read_raw(conn, config_path, unit)
        files = kfix.dropin_order(listed[directory.value] or [])
        if not all(p in dump for p in files):
            return kfix.read_raw(conn, config_path, unit)
        dropins = tuple(dump[p] for p in files)
        present = directory.value if listed[directory.value] is not None else None
    return kfix.Reads(unit_reads, env_reads, dump[path], dropins, present, process)


def read_kubelet(conn, facts, config_path: str, unit: str = kfix.UNIT) -> kfix.Kubelet:
    """kfix.read, over the gather's dump when it holds every file that read would read."""
    return read_raw(conn, facts, config_path, unit).kubelet()


def kernel_defaults_problem(conn, facts) -> str | None:
    """kfix.kernel_defaults_problem over the gathered sysctls (`sysctl -n` reads the same
    /proc/sys files)."""
    if not facts.sysctls:
        return kfix.kernel_defaults_problem(conn)
    wrong = []
    for key, want in kfix.KERNEL_DEFAULTS.items():
        have = facts.sysctls.get(key, "unknown")
        if have != want:
            wrong.append(f"{key} is {have}, want {want}")
    return "; ".join(wrong) or None


# -- 4.1 worker node configuration files --------------------------------------------------


@check(
    "cis.node.kubelet-unit.mode",
    "kubelet unit file and drop-ins have mode 600 or stricter",
    refs=_refs("4.1.1", "kubelet service file permissions 600 or more restrictive"),
    fix=kfix.restrict_unit_files,
    params="kubelet_unit",
    argnames="unit",
    tags=("security",),
)
def test_kubelet_unit_mode(conn, facts, unit):
    paths = unit_files(conn, facts, unit)
    assert paths, f"{unit} has no unit file"
    reads = read_files(conn, facts, paths)
    wrong = [kfix.mode_problem(p, reads[p].mode, 0o600) for p in paths]
    wrong = [w for w in wrong if w]
    verdict("; ".join(wrong) or None, versions.choose_for(facts))


@check(
    "cis.node.kubelet-unit.owner",
    "kubelet unit file and drop-ins are owned by root:root",
    refs=_refs("4.1.2", "kubelet service file ownership root:root (or File not found)"),
    fix=kfix.own_unit_files,
    params="kubelet_unit",
    argnames="unit",
    tags=("security",),
)
def test_kubelet_unit_owner(conn, facts, unit):
    paths = unit_files(conn, facts, unit)
    reads = read_files(conn, facts, paths)
    wrong = [
        kfix.owner_problem(p, reads[p].owner, reads[p].group) for p in paths if reads[p].exists
    ]
    wrong = [w for w in wrong if w]
    verdict("; ".join(wrong) or None, versions.choose_for(facts))


def _proxy_present(facts, path: str):
    found = _stat(facts, path)
    if found is None:
        verdict(
            f"{path} does not exist: kube-bench warns (its audit prints nothing and its test"
            " fails); where kube-proxy runs as a DaemonSet its kubeconfig is in a ConfigMap",
            versions.choose_for(facts),
        )
    return found


@check(
    "cis.node.proxy-kubeconfig.mode",
    "kube-proxy kubeconfig, where present, has mode 600 or stricter",
    severity="warning",
    refs=_refs("4.1.3", "if proxy kubeconfig file exists, permissions 600 or more restrictive"),
    fix=kfix.restrict_kubeconfig,
    params="proxy_kubeconfig",
    argnames="path",
    tags=("security",),
    reads_file="path",
)
def test_proxy_kubeconfig_mode(facts, path):
    found = _proxy_present(facts, path)
    problem = kfix.mode_problem(path, found.mode, 0o600)
    verdict(problem, versions.choose_for(facts))


@check(
    "cis.node.proxy-kubeconfig.owner",
    "kube-proxy kubeconfig, where present, is owned by root:root",
    severity="warning",
    refs=_refs("4.1.4", "if proxy kubeconfig file exists, ownership root:root"),
    fix=kfix.own_kubeconfig,
    params="proxy_kubeconfig",
    argnames="path",
    tags=("security",),
    reads_file="path",
)
def test_proxy_kubeconfig_owner(facts, path):
    found = _proxy_present(facts, path)
    problem = kfix.owner_problem(path, found.owner, found.group)
    verdict(problem, versions.choose_for(facts))


def _kubeconfig(facts, path: str, presence: str):
    found = _stat(facts, path)
    if found is None and presence == "if-present":
        # kubeadm deletes bootstrap-kubelet.conf once the kubelet has its certificate.
        pytest.skip(f"{path} does not exist")
    return found


@check(
    "cis.node.kubelet-kubeconfig.mode",
    "kubelet kubeconfig (kubelet.conf, bootstrap where present) has mode 600 or stricter",
    refs=_refs("4.1.5", "--kubeconfig kubelet.conf permissions 600 or more restrictive"),
    fix=kfix.restrict_kubeconfig,
    params="kubelet_kubeconfig",
    argnames="path,presence",
    tags=("security",),
    reads_file="path",
)
def test_kubelet_kubeconfig_mode(facts, path, presence):
    found = _kubeconfig(facts, path, presence)
    problem = kfix.mode_problem(path, found.mode if found else None, 0o600)
    verdict(problem, versions.choose_for(facts))


@check(
    "cis.node.kubelet-kubeconfig.owner",
    "kubelet kubeconfig (kubelet.conf, bootstrap where present) is owned by root:root",
    refs=_refs("4.1.6", "--kubeconfig kubelet.conf ownership root:root"),
    fix=kfix.own_kubeconfig,
    params="kubelet_kubeconfig",
    argnames="path,presence",
    tags=("security",),
    reads_file="path",
)
def test_kubelet_kubeconfig_owner(facts, path, presence):
    found = _kubeconfig(facts, path, presence)
    problem = kfix.owner_problem(path, found.owner if found else None, found and found.group)
    verdict(problem, versions.choose_for(facts))


def _client_ca(conn, facts, config: str, ca_file: str) -> kfix.FileRead:
    path = kfix.client_ca_path(read_kubelet(conn, facts, config), ca_file)
    return read_files(conn, facts, [path])[path]


@check(
    "cis.node.client-ca.mode",
    "kubelet client CA file has mode 644 (600 before cis-1.11) or stricter",
    severity="warning",
    refs=_refs("4.1.7", "certificate authorities file permissions 644 or more restrictive"),
    fix=kfix.restrict_client_ca,
    params="kubelet_client_ca",
    argnames="config,ca_file",
    tags=("security",),
)
def test_client_ca_mode(conn, facts, config, ca_file):
    choice = benchmark(facts, "4.1.7")
    found = _client_ca(conn, facts, config, ca_file)
    verdict(kfix.mode_problem(found.path, found.mode, kfix.ca_mode_most(choice)), choice)


@check(
    "cis.node.client-ca.owner",
    "kubelet client CA file is owned by root:root",
    severity="warning",
    refs=_refs("4.1.8", "client certificate authorities file ownership root:root"),
    fix=kfix.own_client_ca,
    params="kubelet_client_ca",
    argnames="config,ca_file",
    tags=("security",),
)
def test_client_ca_owner(conn, facts, config, ca_file):
    found = _client_ca(conn, facts, config, ca_file)
    owner = found.owner if found.exists else None
    problem = kfix.owner_problem(found.path, owner, found.group)
    verdict(problem, versions.choose_for(facts))


def _config_file(conn, facts, config: str) -> kfix.FileRead:
    """The file the kubelet's --config names (kube-bench's $kubeletconf), else config."""
    return read_raw(conn, facts, config).config


@check(
    "cis.node.kubelet-config.mode",
    "kubelet config file (its --config, else the profile's) has mode 600 or stricter",
    refs=_refs("4.1.9", "kubelet config.yaml permissions 600 or more restrictive"),
    fix=kfix.restrict_config,
    params="kubelet_config",
    argnames="config",
    tags=("security",),
)
def test_kubelet_config_mode(conn, facts, config):
    found = _config_file(conn, facts, config)
    problem = kfix.mode_problem(found.path, found.mode, 0o600)
    verdict(problem, versions.choose_for(facts))


@check(
    "cis.node.kubelet-config.owner",
    "kubelet config file (its --config, else the profile's) is owned by root:root",
    refs=_refs("4.1.10", "kubelet config.yaml ownership root:root"),
    fix=kfix.own_config,
    params="kubelet_config",
    argnames="config",
    tags=("security",),
)
def test_kubelet_config_owner(conn, facts, config):
    found = _config_file(conn, facts, config)
    owner = found.owner if found.exists else None
    problem = kfix.owner_problem(found.path, owner, found.group)
    verdict(problem, versions.choose_for(facts))


# -- 4.2 kubelet ----------------------------------------------------------------------------


def assert_setting(kubelet: kfix.Kubelet, name: str) -> None:
    """The verdict of one setting over a kubelet already read (pure, for recorded inputs)."""
    problem = kfix.SETTINGS[name].problem(kubelet)
    assert problem is None, problem


def _setting_check(
    name: str, check_id: str, title: str, severity: str, what: str, fix, params="kubelet_config"
):
    setting = kfix.SETTINGS[name]
    argnames = {
        "kubelet_config": "config",
        "kubelet_client_ca": "config,ca_file",
        "kubelet_pod_pids_limit": "config,limit",
    }[params]

    decorate = check(
        check_id,
        title,
        severity=severity,
        refs=_refs(setting.bench_id, what),
        fix=fix,
        params=params,
        argnames=argnames,
        tags=("security",),
    )

    def judge(conn, facts, config) -> None:
        choice = benchmark(facts, setting.bench_id)
        kubelet = read_kubelet(conn, facts, config)
        verdict(kfix.setting_for(name, choice).problem(kubelet), choice)

    if params == "kubelet_client_ca":

        def test(conn, facts, config, ca_file):
            judge(conn, facts, config)

    elif params == "kubelet_pod_pids_limit":

        def test(conn, facts, config, limit):
            judge(conn, facts, config)

    else:

        def test(conn, facts, config):
            judge(conn, facts, config)

    test = decorate(test)
    return test


test_anonymous_auth = _setting_check(
    "anonymous-auth",
    "cis.node.kubelet.anonymous-auth",
    "kubelet refuses anonymous requests",
    "error",
    "--anonymous-auth / authentication.anonymous.enabled false",
    kfix.set_anonymous_auth,
)
test_authorization_mode = _setting_check(
    "authorization-mode",
    "cis.node.kubelet.authorization-mode",
    "kubelet authorizes requests (Webhook, not AlwaysAllow)",
    "error",
    "--authorization-mode / authorization.mode not AlwaysAllow",
    kfix.set_authorization_mode,
)
test_client_ca_file = _setting_check(
    "client-ca-file",
    "cis.node.kubelet.client-ca-file",
    "kubelet authenticates clients against a CA file",
    "error",
    "--client-ca-file / authentication.x509.clientCAFile set",
    kfix.set_client_ca_file,
    params="kubelet_client_ca",
)
test_read_only_port = _setting_check(
    "read-only-port",
    "cis.node.kubelet.read-only-port",
    "kubelet's unauthenticated read-only port is off (0)",
    "warning",
    "--read-only-port / readOnlyPort 0 if defined",
    kfix.set_read_only_port,
)
test_streaming_idle_timeout = _setting_check(
    "streaming-connection-idle-timeout",
    "cis.node.kubelet.streaming-idle-timeout",
    "kubelet's streaming connections time out (idle timeout not 0)",
    "warning",
    "--streaming-connection-idle-timeout / streamingConnectionIdleTimeout not 0",
    kfix.set_streaming_idle_timeout,
)
test_make_iptables_util_chains = _setting_check(
    "make-iptables-util-chains",
    "cis.node.kubelet.make-iptables-util-chains",
    "kubelet manages its iptables utility chains",
    "error",
    "--make-iptables-util-chains / makeIPTablesUtilChains true",
    kfix.set_make_iptables_util_chains,
)
test_rotate_certificates = _setting_check(
    "rotate-certificates",
    "cis.node.kubelet.rotate-certificates",
    "kubelet rotates its client certificate",
    "error",
    "--rotate-certificates / rotateCertificates not false",
    kfix.set_rotate_certificates,
)
test_rotate_server_certificate = _setting_check(
    "rotate-kubelet-server-certificate",
    "cis.node.kubelet.rotate-server-certificate",
    "kubelet's RotateKubeletServerCertificate feature gate is not off",
    "warning",
    "featureGates.RotateKubeletServerCertificate not false",
    kfix.set_rotate_server_certificate,
)
test_pod_pids_limit = _setting_check(
    "pod-max-pids",
    "cis.node.kubelet.pod-pids-limit",
    "kubelet limits the PIDs of each pod",
    "warning",
    "--pod-max-pids / podPidsLimit set",
    kfix.set_pod_pids_limit,
    params="kubelet_pod_pids_limit",
)
test_seccomp_default = _setting_check(
    "seccomp-default",
    "cis.node.kubelet.seccomp-default",
    "kubelet runs pods under the RuntimeDefault seccomp profile by default",
    "warning",
    "--seccomp-default / seccompDefault set to true",
    kfix.set_seccomp_default,
)

test_hostname_override = _setting_check(
    "hostname-override",
    "cis.node.kubelet.hostname-override",
    "kubelet is not given --hostname-override",
    "warning",
    "--hostname-override not set",
    None,  # the flag lives in the installer's files (kubespray's KUBELET_HOSTNAME): by hand
)
test_event_qps = _setting_check(
    "event-qps",
    "cis.node.kubelet.event-qps",
    "kubelet's eventRecordQPS captures events (0 or more, or the default)",
    "warning",
    "--event-qps / eventRecordQPS >= 0 if set",
    kfix.set_event_qps,
)
test_tls_cert_file = _setting_check(
    "tls-cert-file",
    "cis.node.kubelet.tls-cert-file",
    "kubelet serves TLS with a certificate and key it is given",
    "warning",
    "--tls-cert-file and --tls-private-key-file / tlsCertFile and tlsPrivateKeyFile set",
    None,  # a certificate must be issued for the node first: by hand
)
test_tls_cipher_suites = _setting_check(
    "tls-cipher-suites",
    "cis.node.kubelet.tls-cipher-suites",
    "kubelet offers only the benchmark's strong TLS cipher suites",
    "warning",
    "--tls-cipher-suites / tlsCipherSuites only strong ciphers",
    None,  # a list: which clients still connect is the operator's call
)


def proxy_reads(conn, facts, path: str) -> tuple[kfix.Process | None, kfix.FileRead]:
    """The running kube-proxy and the metricsBindAddress lines of path, from the gather's
    dump where it made them."""
    got = getattr(facts, "kubelet_files", None)
    dump = got.dump if got is not None else None
    if dump is None:
        return kfix.read_process(conn, "kube-proxy"), kfix.read_metrics(conn, path)
    metrics = kfix.parse_metrics(dump)
    config = metrics[path] if path in metrics else kfix.read_metrics(conn, path)
    return kfix.parse_process(dump, "kube-proxy"), config


@check(
    "cis.node.proxy.metrics-bind-address",
    "kube-proxy's metrics are bound to localhost",
    refs=_refs("4.3.1", "kube-proxy --metrics-bind-address / metricsBindAddress has 127.0.0.1"),
    params="proxy_kubeconfig",
    argnames="path",
    tags=("security",),
)
def test_proxy_metrics_bind_address(conn, facts, path):
    """kube-proxy runs as a DaemonSet on a kubeadm node: its flags are seen in the host's
    process table (as kube-bench's `ps -fC kube-proxy` sees them), its config file inside
    its pod is not read, as kube-bench does not. No fix: kube-proxy's configuration is the
    cluster's (the kube-proxy ConfigMap), not this host's."""
    choice = benchmark(facts, "4.3.1")
    verdict(kfix.proxy_metrics_problem(*proxy_reads(conn, facts, path)), choice)


@check(
    "cis.node.kubelet.protect-kernel-defaults",
    "kubelet protects kernel defaults, and the kernel has the tunables it requires",
    refs={
        "kube-bench": "cfg/cis-1.24/node.yaml 4.2.6: --protect-kernel-defaults true",
        "kubelet": "pkg/kubelet/cm/container_manager_linux.go setupKernelTunables",
    },
    fix=kfix.set_protect_kernel_defaults,
    params="kubelet_config",
    argnames="config",
    tags=("security",),
)
def test_protect_kernel_defaults(conn, facts, config):
    assert_setting(read_kubelet(conn, facts, config), "protect-kernel-defaults")
    problem = kernel_defaults_problem(conn, facts)
    assert problem is None, f"the kubelet will refuse to start: {problem}"


# -- cross-checks a single-item benchmark cannot make -----------------------------------------


@check(
    "k8s.kubelet.swap",
    "the kubelet's failSwapOn and memorySwap agree with the host's swap",
    refs={
        "kubelet": "failSwapOn (default true): exits at start with swap on; "
        "memorySwap.swapBehavior LimitedSwap needs failSwapOn false",
    },
)
def test_kubelet_swap(conn, facts):
    """Reads the kubelet as the CIS checks do (its running flags, unit, config file and
    drop-ins) and the host's active swap from the facts. No fix: whether swap goes or the
    kubelet tolerates it is the operator's choice (k8s.swap.off's fix turns swap off)."""
    kubelet = read_kubelet(conn, facts, kfix.DEFAULT_CONFIG)
    if not kubelet.config.exists and kubelet.process is None:
        # Installed but not joined (kubeadm writes the config on join), or not installed:
        # the kubelet is not configured yet, and k8s.swap.off judges the host's swap.
        pytest.skip("no kubelet configured on this host yet: k8s.swap.off judges its swap")
    problem = kfix.swap_problem(kubelet, facts.swaps)
    assert problem is None, problem
