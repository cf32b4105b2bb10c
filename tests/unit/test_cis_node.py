"""The CIS worker node checks over recorded inputs: unit files, environment files, the
kubelet's config file and stat output, as kubeadm writes them on a node.

kube-bench cannot run here (no Go toolchain, no kubelet), so the verdicts follow its code:
check/check.go Check.execute (the flag from `ps` first, the config file only when the flag
is absent), check/test.go testItem.evaluate (`set` true by default: a missing value fails
unless a `set: false` item says otherwise) and compareOp (`bitmask`, `eq`, `nothave`), with
its own cases from check/test_test.go where one applies.
"""

from __future__ import annotations

import dataclasses

import pytest

from hostkit_catalog.checks import test_cis_node as cis
from hostkit_catalog.remediations import cis_versions as versions
from hostkit_catalog.remediations import kubelet as kfix
from kit.catalog import describe
from kit.catalog import profile as profiles
from kit.catalog.shipped import shipped
from kit.edits import kubelet as units
from kit.edits import yamlset
from kit.errors import KitValueError
from kit.facts import parse_facts
from kit.facts.model import Runtime

# kubernetes/release cmd/krel/templates/latest/kubelet/kubelet.service
UNIT = """\
[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
"""

# kubernetes/release cmd/krel/templates/latest/kubeadm/10-kubeadm.conf
DROPIN = """\
# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the KUBELET_KUBEADM_ARGS variable dynamically
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# This is a file that the user can use for overrides of the kubelet args as a last resort. Preferably, the user should use
# the .NodeRegistration.KubeletExtraArgs object in the configuration files instead. KUBELET_EXTRA_ARGS should be sourced from this file.
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
"""  # noqa: E501

FLAGS_ENV = (
    'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/'
    'containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10"\n'
)

# What kubeadm 1.31 writes to /var/lib/kubelet/config.yaml on join.
CONFIG = """\
apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  anonymous:
    enabled: false
  webhook:
    cacheTTL: 0s
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: 0s
    cacheUnauthorizedTTL: 0s
cgroupDriver: systemd
clusterDNS:
- 10.96.0.10
clusterDomain: cluster.local
containerRuntimeEndpoint: ""
cpuManagerReconcilePeriod: 0s
evictionPressureTransitionPeriod: 0s
fileCheckFrequency: 0s
healthzBindAddress: 127.0.0.1
healthzPort: 10248
httpCheckFrequency: 0s
imageMaximumGCAge: 0s
imageMinimumGCAge: 0s
kind: KubeletConfiguration
logging:
  flushFrequency: 0
  options:
    json:
      infoBufferSize: "0"
    text:
      infoBufferSize: "0"
  verbosity: 0
memorySwap: {}
nodeStatusReportFrequency: 0s
nodeStatusUpdateFrequency: 0s
rotateCertificates: true
runtimeRequestTimeout: 0s
shutdownGracePeriod: 0s
shutdownGracePeriodCriticalPods: 0s
staticPodPath: /etc/kubernetes/manifests
streamingConnectionIdleTimeout: 0s
syncFrequency: 0s
volumeStatsAggPeriod: 0s
"""

UNIT_PATH = "/usr/lib/systemd/system/kubelet.service"
DROPIN_PATH = "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"
CONFIG_PATH = "/var/lib/kubelet/config.yaml"


def read(path: str, text: str, mode: int = 0o644) -> kfix.FileRead:
    return kfix.FileRead(path, mode, "root", "root", text)


def node(
    config: str | None = CONFIG, extra: str | None = None, flags_env: str = FLAGS_ENV
) -> kfix.Kubelet:
    env = {"/var/lib/kubelet/kubeadm-flags.env": read("/var/lib/kubelet/kubeadm-flags.env", "")}
    env["/var/lib/kubelet/kubeadm-flags.env"] = read(
        "/var/lib/kubelet/kubeadm-flags.env", flags_env
    )
    env["/etc/default/kubelet"] = (
        read("/etc/default/kubelet", extra)
        if extra is not None
        else kfix.FileRead("/etc/default/kubelet", None)
    )
    conf = (
        read(CONFIG_PATH, config, 0o600) if config is not None else kfix.FileRead(CONFIG_PATH, None)
    )
    return kfix.build([read(UNIT_PATH, UNIT), read(DROPIN_PATH, DROPIN)], env, conf)


def fails(name: str, kubelet: kfix.Kubelet, match: str) -> str:
    with pytest.raises(AssertionError) as info:
        cis.assert_setting(kubelet, name)
    assert match in str(info.value), str(info.value)
    return str(info.value)


def passes(name: str, kubelet: kfix.Kubelet) -> None:
    cis.assert_setting(kubelet, name)


# -- the command line systemd builds ----------------------------------------------------


def test_kubeadm_drop_in_gives_the_kubelet_its_flags_and_where_each_comes_from():
    flags = node().flags
    assert flags["config"] == units.Flag("config", CONFIG_PATH, DROPIN_PATH)
    assert flags["kubeconfig"].value == "/etc/kubernetes/kubelet.conf"
    endpoint = flags["container-runtime-endpoint"]
    assert endpoint.value == "unix:///var/run/containerd/containerd.sock"
    assert endpoint.origin == "/var/lib/kubelet/kubeadm-flags.env"


def test_an_empty_exec_start_in_a_drop_in_replaces_the_units_command():
    service = units.parse_units([(UNIT_PATH, UNIT), (DROPIN_PATH, DROPIN)])
    assert service.exec_start is not None
    assert "$KUBELET_EXTRA_ARGS" in service.exec_start.text
    # Without the drop-in, the unit's bare kubelet has no flags at all.
    alone = units.parse_units([(UNIT_PATH, UNIT)])
    assert units.parse_flags(units.command_line(alone, {})) == {}


def test_braced_variable_stays_one_word_and_bare_variable_splits():
    unit = '[Service]\nEnvironment="A=--x=1 --y=2"\nExecStart=/k ${A} $A\n'
    words = [w.text for w in units.command_line(units.parse_units([("u", unit)]), {})]
    assert words == ["/k", "--x=1 --y=2", "--x=1", "--y=2"]


def test_environment_file_quotes_and_comments():
    env = units.parse_env_file("# c\nA=\"--a=1 --b\"\nB='x y'\nC=plain\n bad line\n", "f")
    assert {k: w.text for k, w in env.items()} == {"A": "--a=1 --b", "B": "x y", "C": "plain"}


def test_flag_forms_as_pflag_reads_them():
    words = [units.Word(t, "o") for t in ["/k", "--anonymous-auth", "--pod-max-pids", "100"]]
    words += [units.Word(t, "o") for t in ["--read-only-port=1", "--read-only-port=0"]]
    flags = units.parse_flags(words)
    assert flags["anonymous-auth"].value == "true"  # a bool flag alone is true
    assert flags["pod-max-pids"].value == "100"  # a value flag takes the next word
    assert flags["read-only-port"].value == "0"  # the last occurrence wins


def test_feature_gates():
    assert units.feature_gates("A=true, RotateKubeletServerCertificate=False") == {
        "A": "true",
        "RotateKubeletServerCertificate": "false",
    }


# -- 4.2 settings over kubeadm's own files -----------------------------------------------


def test_kubeadm_defaults_pass_what_kubeadm_sets():
    kubelet = node()
    for name in ("anonymous-auth", "authorization-mode", "client-ca-file", "rotate-certificates"):
        passes(name, kubelet)


def test_kubeadm_defaults_fail_what_it_leaves_unset():
    kubelet = node()
    fails("pod-max-pids", kubelet, f"podPidsLimit is not set in {CONFIG_PATH}")
    fails("seccomp-default", kubelet, "seccompDefault is not set")
    fails("protect-kernel-defaults", kubelet, "protectKernelDefaults is not set")


def test_unset_settings_pass_where_kube_bench_has_a_set_false_item():
    # node.yaml 4.2.4, 4.2.6, 4.2.10, 4.2.11: `set: false` under `bin_op: or`.
    kubelet = node()
    for name in (
        "read-only-port",
        "make-iptables-util-chains",
        "rotate-kubelet-server-certificate",
    ):
        assert yamlset.get(kubelet.config_data, kfix.SETTINGS[name].path) is None
        passes(name, kubelet)


def test_settings_without_a_set_false_item_fail_when_unset():
    # 4.2.1: anonymous auth must be said to be off; the flag's default is on.
    fails("anonymous-auth", node(config="kind: KubeletConfiguration\n"), "want false")
    fails("authorization-mode", node(config="{}"), "authorization.mode is not set")


def test_kubeadms_zero_streaming_timeout_in_the_config_file_is_the_4h_default():
    # kubeadm writes `0s`; the kubelet's SetDefaults_KubeletConfiguration
    # (pkg/kubelet/apis/config/v1beta1/defaults.go) turns a zero
    # StreamingConnectionIdleTimeout into 4h, so the running kubelet has a timeout.
    passes("streaming-connection-idle-timeout", node())
    passes("streaming-connection-idle-timeout", node(config=CONFIG + "x: 1\n"))
    zero = CONFIG.replace("streamingConnectionIdleTimeout: 0s", "streamingConnectionIdleTimeout: 0")
    passes("streaming-connection-idle-timeout", node(config=zero))
    assert kfix.zero_duration("0m0s") and not kfix.zero_duration("5m")


def test_a_zero_streaming_timeout_flag_fails():
    # Flags are applied over the defaulted file: a zero flag is no timeout at all.
    for flag in ("0", "0s", "0m0s"):
        extra = f"KUBELET_EXTRA_ARGS=--streaming-connection-idle-timeout={flag}"
        message = fails("streaming-connection-idle-timeout", node(extra=extra), "flag --stream")
        assert "/etc/default/kubelet" in message
    passes(
        "streaming-connection-idle-timeout",
        node(extra="KUBELET_EXTRA_ARGS=--streaming-connection-idle-timeout=5m"),
    )


def test_a_flag_overrides_the_config_file_and_the_verdict_names_its_file():
    # /etc/default/kubelet's KUBELET_EXTRA_ARGS comes last on kubeadm's command line.
    kubelet = node(extra='KUBELET_EXTRA_ARGS="--read-only-port=10255"\n')
    message = fails("read-only-port", kubelet, "flag --read-only-port=10255")
    assert "/etc/default/kubelet" in message
    # And a good flag passes over a bad config value.
    bad_config = CONFIG.replace("enabled: false", "enabled: true", 1)
    passes(
        "anonymous-auth", node(config=bad_config, extra="KUBELET_EXTRA_ARGS=--anonymous-auth=false")
    )


def test_bool_flag_alone_means_true():
    # kube-bench check/test.go flagTestItem.findValue: a `--` flag without a value is "true".
    kubelet = node(extra="KUBELET_EXTRA_ARGS=--anonymous-auth")
    fails("anonymous-auth", kubelet, "flag --anonymous-auth=true")


def test_kube_bench_json_config_case():
    # check/test_test.go TestTestExecute: strConfig {"authentication": {"anonymous":
    # {"enabled": false}}} meets `'{.authentication.anonymous.enabled}' is equal to 'false'`.
    passes("anonymous-auth", node(config='{"authentication": {"anonymous": {"enabled": false}}}'))


def test_always_allow_fails_authorization_mode_wherever_it_appears():
    fails(
        "authorization-mode",
        node(extra="KUBELET_EXTRA_ARGS=--authorization-mode=Webhook,AlwaysAllow"),
        "AlwaysAllow",
    )


def test_rotate_server_certificate_gate_off_by_flag_or_config():
    extra = "KUBELET_EXTRA_ARGS=--feature-gates=A=true,RotateKubeletServerCertificate=false"
    fails(
        "rotate-kubelet-server-certificate",
        node(extra=extra),
        "RotateKubeletServerCertificate=false",
    )
    config = CONFIG + "featureGates:\n  RotateKubeletServerCertificate: false\n"
    fails("rotate-kubelet-server-certificate", node(config=config), "featureGates.")
    # A feature-gates flag that does not name this gate leaves the config file's answer.
    passes(
        "rotate-kubelet-server-certificate", node(extra="KUBELET_EXTRA_ARGS=--feature-gates=A=true")
    )


def test_pod_pids_limit_and_seccomp_default_only_need_to_be_set():
    # cfg/cis-1.12/node.yaml 4.2.13 and 4.2.14: one test item each, no `compare`: any
    # value passes (check/test.go: an item without compare passes once the flag is set).
    for value in ("-1", "0", "4096"):
        passes("pod-max-pids", node(config=CONFIG + f"podPidsLimit: {value}\n"))
    passes("pod-max-pids", node(extra="KUBELET_EXTRA_ARGS=--pod-max-pids 1024"))
    for value in ("false", "true"):
        passes("seccomp-default", node(config=CONFIG + f"seccompDefault: {value}\n"))
    passes("seccomp-default", node(extra="KUBELET_EXTRA_ARGS=--seccomp-default=false"))


def test_a_config_file_that_is_not_yaml_is_a_clear_error():
    with pytest.raises(KitValueError, match=f"{CONFIG_PATH}: invalid YAML"):
        node(config="kind: [unclosed\n")


def test_no_config_file_leaves_flags_only():
    kubelet = node(config=None, extra="KUBELET_EXTRA_ARGS=--anonymous-auth=false")
    passes("anonymous-auth", kubelet)
    fails("authorization-mode", kubelet, f"not set in {CONFIG_PATH}")


# -- 4.1 files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "most", "ok"),
    # kube-bench check/test_test.go TestCompareOp, op=bitmask against 644.
    [
        (0o640, 0o644, True),
        (0o777, 0o644, False),
        (0o444, 0o644, True),
        (0o211, 0o644, False),
        (0o600, 0o600, True),
        (0o400, 0o600, True),
        (0o640, 0o600, False),
        (0o4600, 0o600, False),
    ],
)
def test_mode_is_kube_bench_bitmask(mode, most, ok):
    assert (kfix.mode_problem("/f", mode, most) is None) is ok


def facts_with(*lines: str):
    return parse_facts(
        "@@hostkit:files\n" + "".join(f"{line}\n" for line in lines) + "@@hostkit:end\n"
    )


def gathered_kubelet(files: dict[str, tuple[str, str] | None], show: str, listing: str = ""):
    """The gather's kubelet-files section holding files: path -> (stat, text), None absent;
    listing: its --config-dir lines."""
    mark = "@@hostkit-kubelet"
    dump = listing + "".join(
        f"{mark} {p} {got[0]}\n{got[1]}\n" if got else f"{mark} {p} absent\n"
        for p, got in files.items()
    )
    return parse_facts(
        f"@@hostkit:kubelet-files\n@@show\n{show}\n@@begin\n{dump}\n@@end\n@@hostkit:end\n"
    )


def kubeadm_facts(
    config_head: str | None = "600 root root",
    config: str = CONFIG,
    extra: dict[str, tuple[str, str] | None] | None = None,
):
    files: dict[str, tuple[str, str] | None] = {
        **(extra or {}),
        UNIT_PATH: ("644 root root", UNIT),
        DROPIN_PATH: ("644 root root", DROPIN),
        "/var/lib/kubelet/kubeadm-flags.env": ("644 root root", FLAGS_ENV),
        "/etc/default/kubelet": None,
        CONFIG_PATH: (config_head, config) if config_head else None,
    }
    return gathered_kubelet(files, f"FragmentPath={UNIT_PATH}\nDropInPaths={DROPIN_PATH}")


def test_kubelet_config_mode_and_owner_from_stat_output():
    facts = kubeadm_facts("644 kube root")
    with pytest.raises(AssertionError, match="has mode 644, want 600 or more restrictive"):
        cis.test_kubelet_config_mode(None, facts, CONFIG_PATH)
    with pytest.raises(AssertionError, match="owned by kube:root, want root:root"):
        cis.test_kubelet_config_owner(None, facts, CONFIG_PATH)
    good = kubeadm_facts()
    cis.test_kubelet_config_mode(None, good, CONFIG_PATH)
    cis.test_kubelet_config_owner(None, good, CONFIG_PATH)


# kubespray roles/kubernetes/node/templates/kubelet.service.j2 and kubelet.env.v1beta1.j2,
# rendered with bin_dir=/usr/local/bin, kube_config_dir=/etc/kubernetes, containerd.
KUBESPRAY_UNIT = """\
[Unit]
Description=Kubernetes Kubelet Server
After=containerd.service
Wants=containerd.service

[Service]
EnvironmentFile=-/etc/kubernetes/kubelet.env
ExecStart=/usr/local/bin/kubelet \\
\t\t$KUBE_LOGTOSTDERR \\
\t\t$KUBE_LOG_LEVEL \\
\t\t$KUBELET_API_SERVER \\
\t\t$KUBELET_ADDRESS \\
\t\t$KUBELET_PORT \\
\t\t$KUBELET_HOSTNAME \\
\t\t$KUBELET_ARGS \\
\t\t$DOCKER_SOCKET \\
\t\t$KUBELET_NETWORK_PLUGIN \\
\t\t$KUBELET_VOLUME_PLUGIN \\
\t\t$KUBELET_CLOUDPROVIDER
Restart=always
RestartSec=10s

[Install]
WantedBy=multi-user.target
"""
KUBESPRAY_ENV = """\
KUBE_LOG_LEVEL="--v=2"
KUBELET_ADDRESS="--node-ip=10.0.0.11"
KUBELET_ARGS="--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf \\
--config=/etc/kubernetes/kubelet-config.yaml \\
--kubeconfig=/etc/kubernetes/kubelet.conf \\
--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock \\
--runtime-cgroups=/system.slice/containerd.service \\
 --node-labels= "
KUBELET_CLOUDPROVIDER=""
PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
"""
KUBESPRAY_UNIT_PATH = "/etc/systemd/system/kubelet.service"
KUBESPRAY_CONFIG_PATH = "/etc/kubernetes/kubelet-config.yaml"


def kubespray_facts(config_head: str = "600 root root", config: str = CONFIG):
    """The gather's answer on a kubespray node: no /var/lib/kubelet/config.yaml."""
    files: dict[str, tuple[str, str] | None] = {
        KUBESPRAY_UNIT_PATH: ("644 root root", KUBESPRAY_UNIT),
        "/etc/kubernetes/kubelet.env": ("644 root root", KUBESPRAY_ENV),
        KUBESPRAY_CONFIG_PATH: (config_head, config),
        CONFIG_PATH: None,
    }
    return gathered_kubelet(files, f"FragmentPath={KUBESPRAY_UNIT_PATH}\nDropInPaths=")


def test_config_file_checks_follow_the_kubelets_config_flag():
    # kubespray's layout: --config=/etc/kubernetes/kubelet-config.yaml, and no file at the
    # profile's /var/lib/kubelet/config.yaml (kube-bench's $kubeletconf is likewise the
    # file the running kubelet's --config names, else its confs list).
    good = kubespray_facts()
    cis.test_kubelet_config_mode(None, good, CONFIG_PATH)
    cis.test_kubelet_config_owner(None, good, CONFIG_PATH)
    bad = kubespray_facts("644 kube root")
    with pytest.raises(AssertionError, match=f"{KUBESPRAY_CONFIG_PATH} has mode 644"):
        cis.test_kubelet_config_mode(None, bad, CONFIG_PATH)
    with pytest.raises(AssertionError, match=f"{KUBESPRAY_CONFIG_PATH} is owned by kube:root"):
        cis.test_kubelet_config_owner(None, bad, CONFIG_PATH)


def test_missing_required_file_fails_as_kube_bench_empty_audit_does():
    facts = facts_with("absent\t/etc/kubernetes/kubelet.conf")
    with pytest.raises(AssertionError, match="does not exist"):
        cis.test_kubelet_kubeconfig_mode(facts, "/etc/kubernetes/kubelet.conf", "required")
    with pytest.raises(AssertionError, match=f"{CONFIG_PATH} does not exist"):
        cis.test_kubelet_config_owner(None, kubeadm_facts(None), CONFIG_PATH)


def test_missing_bootstrap_kubeconfig_is_skipped():
    facts = facts_with("absent\t/b.conf")
    with pytest.raises(pytest.skip.Exception):
        cis.test_kubelet_kubeconfig_owner(facts, "/b.conf", "if-present")


def test_missing_proxy_kubeconfig_warns_as_kube_bench_does():
    # 4.1.3/4.1.4: `stat` of a missing file prints nothing, the `permissions` item (set:
    # true) then fails, and the check is scored: false, so kube-bench reports WARN.
    facts = facts_with("absent\t/etc/kubernetes/proxy.conf")
    for test in (cis.test_proxy_kubeconfig_mode, cis.test_proxy_kubeconfig_owner):
        try:
            with pytest.raises(AssertionError, match=r"proxy\.conf does not exist"):
                test(facts, "/etc/kubernetes/proxy.conf")
        except pytest.skip.Exception as skipped:
            pytest.fail(f"skipped where kube-bench warns: {skipped}")
    assert _meta(cis.test_proxy_kubeconfig_mode).severity == "warning"


def _meta(test):
    return next(m.args[0] for m in test.pytestmark if m.name == "hostkit_check")


# The node items of kube-bench's cfg/cis-1.12/node.yaml (aquasecurity/kube-bench, 2026).
CIS_1_12_NODE = {f"4.1.{n}" for n in range(1, 11)} | {f"4.2.{n}" for n in range(1, 15)}
CIS_1_12_NODE |= {"4.3.1"}


def test_cis_profile_selects_only_items_of_its_benchmark():
    # protect-kernel-defaults left the benchmark after cis-1.24 (kube-bench cis-1.7 to
    # cis-1.12 have no such item): the CIS profile must not fail a node on it.
    prof = profiles.load("cis-kubernetes-node", shipped() / "profiles")
    cited = {}
    for entry in describe.entries(shipped()):
        if prof.order_of(entry.meta.id) is None:
            continue
        ref = entry.meta.refs.get("kube-bench", "")
        cited[entry.meta.id] = ref
    assert cited, "the profile selects no CIS check"
    wrong = {
        k: v
        for k, v in cited.items()
        if not v.startswith(kfix.KUBE_BENCH) or v.split()[1].rstrip(":") not in CIS_1_12_NODE
    }
    assert not wrong, wrong


def test_client_ca_path_follows_flag_then_config_then_profile():
    assert kfix.client_ca_path(node(), "/d") == "/etc/kubernetes/pki/ca.crt"
    assert kfix.client_ca_path(node(config="{}"), "/d") == "/d"
    flagged = node(extra="KUBELET_EXTRA_ARGS=--client-ca-file=/etc/ca.pem")
    assert kfix.client_ca_path(flagged, "/d") == "/etc/ca.pem"


# -- what the host prints --------------------------------------------------------------------


def test_parse_show_lists_unit_then_drop_ins():
    extra = "/etc/systemd/system/kubelet.service.d/20.conf"
    out = f"FragmentPath={UNIT_PATH}\nDropInPaths={DROPIN_PATH} {extra}\n"
    assert kfix.parse_show(out) == [
        UNIT_PATH,
        DROPIN_PATH,
        extra,
    ]
    assert kfix.parse_show("FragmentPath=\nDropInPaths=\n") == []


def test_parse_dump_keeps_content_and_stat():
    mark = "@@hostkit-kubelet"
    out = f"{mark} /a 640 root kube\nline1\nline2\n\n{mark} /b absent\n{mark} /c 600 root root\n\n"
    found = kfix.parse_dump(out)
    assert found["/a"] == kfix.FileRead("/a", 0o640, "root", "kube", "line1\nline2\n")
    assert not found["/b"].exists
    assert found["/c"].text == ""


# -- --config-dir drop-ins ------------------------------------------------------------------

DROPIN_DIR = "/etc/kubernetes/kubelet.conf.d"
HEAD = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"


def with_dropins(*dropins: tuple[str, str], config: str = CONFIG) -> kfix.Kubelet:
    """kubeadm's node with --config-dir and the given drop-ins (name, text), listed in any
    order: the kubelet sorts them."""
    base = node(config=config, extra=f"KUBELET_EXTRA_ARGS=--config-dir={DROPIN_DIR}")
    reads = [read(f"{DROPIN_DIR}/{name}", text) for name, text in dropins]
    return kfix.build(base.unit_files, base_env(base), base.config, reads)


def base_env(kubelet: kfix.Kubelet) -> dict[str, kfix.FileRead]:
    extra = f'KUBELET_EXTRA_ARGS="--config-dir={DROPIN_DIR}"\n'
    return {
        "/var/lib/kubelet/kubeadm-flags.env": read("/var/lib/kubelet/kubeadm-flags.env", FLAGS_ENV),
        "/etc/default/kubelet": read("/etc/default/kubelet", extra),
    }


def test_config_dir_drop_ins_merge_over_the_file_in_lexical_order_later_wins():
    # cmd/kubelet/app/server.go mergeKubeletConfigurations: *.conf files in lexical order,
    # each a JSON merge patch over what came before.
    early = ("10-open.conf", HEAD + "readOnlyPort: 10255\n")
    late = ("20-close.conf", HEAD + "readOnlyPort: 0\n")
    passes("read-only-port", with_dropins(late, early))
    message = fails("read-only-port", with_dropins(early), "readOnlyPort: 10255")
    assert f"{DROPIN_DIR}/10-open.conf" in message
    # Files without the .conf extension are not read.
    passes("read-only-port", with_dropins(("10-open.yaml", HEAD + "readOnlyPort: 10255\n")))


def test_a_drop_in_merges_into_nested_settings_and_keeps_the_rest():
    anon = ("50-anon.conf", HEAD + "authentication:\n  anonymous:\n    enabled: true\n")
    kubelet = with_dropins(anon)
    fails("anonymous-auth", kubelet, f"{DROPIN_DIR}/50-anon.conf")
    passes("client-ca-file", kubelet)  # authentication.x509 from the file stays


def test_a_zero_duration_in_a_drop_in_is_not_defaulted():
    # The file is defaulted before the drop-ins are merged over it; nothing defaults again.
    zero = ("50-zero.conf", HEAD + "streamingConnectionIdleTimeout: 0s\n")
    fails("streaming-connection-idle-timeout", with_dropins(zero), "50-zero.conf")


def test_gathered_drop_ins_are_read_without_a_connection():
    extra = f'KUBELET_EXTRA_ARGS="--config-dir={DROPIN_DIR}"\n'
    files: dict[str, tuple[str, str] | None] = {
        UNIT_PATH: ("644 root root", UNIT),
        DROPIN_PATH: ("644 root root", DROPIN),
        "/var/lib/kubelet/kubeadm-flags.env": ("644 root root", FLAGS_ENV),
        "/etc/default/kubelet": ("644 root root", extra),
        CONFIG_PATH: ("600 root root", CONFIG),
        f"{DROPIN_DIR}/20-b.conf": ("600 root root", HEAD + "readOnlyPort: 0\n"),
        f"{DROPIN_DIR}/10-a.conf": ("600 root root", HEAD + "readOnlyPort: 10255\n"),
    }
    listing = f"@@hostkit-kubelet-dir {DROPIN_DIR} {DROPIN_DIR}/20-b.conf {DROPIN_DIR}/10-a.conf\n"
    show = f"FragmentPath={UNIT_PATH}\nDropInPaths={DROPIN_PATH}"
    facts = gathered_kubelet(files, show, listing)
    kubelet = cis.read_kubelet(None, facts, CONFIG_PATH)  # None: a read would fail
    assert [r.path for r, _ in kubelet.dropins] == [
        f"{DROPIN_DIR}/10-a.conf",
        f"{DROPIN_DIR}/20-b.conf",
    ]
    passes("read-only-port", kubelet)


# -- fixes to files installers regenerate --------------------------------------------------


def dir_node(*dropins: tuple[str, str]) -> kfix.Kubelet:
    base = with_dropins(*dropins)
    reads = [r for r, _ in base.dropins]
    return kfix.build(base.unit_files, base_env(base), base.config, reads, DROPIN_DIR)


def test_with_a_config_dir_the_fix_writes_a_drop_in_not_the_config_file():
    kubelet = dir_node(("10-open.conf", HEAD + "readOnlyPort: 10255\n"))
    plan = kfix.plan_setting(kubelet, "read-only-port")
    assert plan is not None
    assert plan.path == f"{DROPIN_DIR}/{kfix.DROPIN_NAME}"
    assert yamlset.load(plan.text) == {**yamlset.load(HEAD), "readOnlyPort": 0}
    assert "kubeadm upgrade" not in plan.note


def test_a_later_drop_in_that_would_override_the_fix_is_refused_by_name():
    late = f"{DROPIN_DIR}/zz-late.conf"
    kubelet = dir_node(("zz-late.conf", HEAD + "readOnlyPort: 10255\n"))
    with pytest.raises(kfix.KubeletError, match=late):
        kfix.plan_setting(kubelet, "read-only-port")


def test_a_fix_to_a_regenerated_config_file_says_who_undoes_it():
    kubelet = node(config=CONFIG + "readOnlyPort: 10255\n")
    plan = kfix.plan_setting(kubelet, "read-only-port")
    assert plan is not None and plan.path == CONFIG_PATH
    assert "kubeadm upgrade" in plan.note and "kubelet-config ConfigMap" in plan.note
    facts = kubespray_facts(config=CONFIG + "readOnlyPort: 10255\n")
    spray = kfix.plan_setting(cis.read_kubelet(None, facts, CONFIG_PATH), "read-only-port")
    assert spray is not None and spray.path == KUBESPRAY_CONFIG_PATH
    assert "kubespray" in spray.note
    assert kfix.plan_setting(node(config=CONFIG + "readOnlyPort: 0\n"), "read-only-port") is None


def test_explain_says_which_fixes_an_upgrade_undoes():
    text = "\n".join(describe.explain(shipped(), "cis.node.kubelet.read-only-port"))
    assert "kubeadm upgrade" in text and "--config-dir" in text
    text = "\n".join(describe.explain(shipped(), "cis.node.kubelet-unit.mode"))
    assert "package" in text and "upgrade" in text
    note = kfix.package_note(["/usr/lib/systemd/system/kubelet.service", "/etc/x.conf"])
    assert "/usr/lib/systemd/system/kubelet.service" in note and "/etc/x.conf" not in note
    assert kfix.package_note(["/etc/systemd/system/kubelet.service"]) == ""


# -- the running kubelet ---------------------------------------------------------------------

# /proc/812/cmdline of the kubelet kubeadm's drop-in starts, one argument a line.
RUNNING = [
    "/usr/bin/kubelet",
    "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
    "--kubeconfig=/etc/kubernetes/kubelet.conf",
    f"--config={CONFIG_PATH}",
    "--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock",
    "--pod-infra-container-image=registry.k8s.io/pause:3.10",
]


def running(args: list[str], config: str = CONFIG) -> kfix.Kubelet:
    base = node(config=config)
    env = {
        "/var/lib/kubelet/kubeadm-flags.env": read("/var/lib/kubelet/kubeadm-flags.env", FLAGS_ENV)
    }
    return kfix.build(base.unit_files, env, base.config, process=kfix.Process("812", tuple(args)))


def test_the_running_kubelets_flags_decide_over_its_unit_files():
    # kube-bench reads `ps -fC kubelet`: a flag added to the unit but not yet restarted
    # into the kubelet is not the kubelet's, and one the process has is, wherever from.
    kubelet = running([*RUNNING, "--read-only-port=10255"])
    message = fails("read-only-port", kubelet, "flag --read-only-port=10255")
    assert "running kubelet (pid 812)" in message
    stale = node(extra="KUBELET_EXTRA_ARGS=--anonymous-auth=true")
    fails("anonymous-auth", stale, "flag --anonymous-auth=true")
    passes("anonymous-auth", running(RUNNING))  # not restarted with it: the file's false


def test_a_running_flag_that_the_unit_also_sets_keeps_the_units_file_as_origin():
    flag = running(RUNNING).flags["container-runtime-endpoint"]
    assert flag.origin == "/var/lib/kubelet/kubeadm-flags.env"
    assert running(RUNNING).flags["config"].origin == DROPIN_PATH


def test_the_gather_reads_the_running_kubelets_command_line_and_its_config():
    files: dict[str, tuple[str, str] | None] = {
        KUBESPRAY_UNIT_PATH: ("644 root root", KUBESPRAY_UNIT),
        "/etc/kubernetes/kubelet.env": ("644 root root", KUBESPRAY_ENV),
        KUBESPRAY_CONFIG_PATH: ("600 root root", CONFIG + "readOnlyPort: 0\n"),
        "/etc/kubernetes/other.yaml": ("600 root root", CONFIG + "readOnlyPort: 10255\n"),
        CONFIG_PATH: None,
    }
    args = ["/usr/local/bin/kubelet", "--config=/etc/kubernetes/other.yaml"]
    proc = "@@hostkit-kubelet-proc 4242\n" + "".join(f"{a}\n" for a in args)
    show = f"FragmentPath={KUBESPRAY_UNIT_PATH}\nDropInPaths="
    facts = gathered_kubelet(files, show, proc)
    kubelet = cis.read_kubelet(None, facts, CONFIG_PATH)  # None: a read would fail
    assert kubelet.config_path == "/etc/kubernetes/other.yaml"
    fails("read-only-port", kubelet, "readOnlyPort: 10255 in /etc/kubernetes/other.yaml")


# -- the node items kube-bench has and the catalog lacked --------------------------------------


def test_profile_covers_every_node_item_of_its_benchmark():
    prof = profiles.load("cis-kubernetes-node", shipped() / "profiles")
    covered = set()
    for entry in describe.entries(shipped()):
        ref = entry.meta.refs.get("kube-bench", "")
        if prof.order_of(entry.meta.id) is not None and ref.startswith(kfix.KUBE_BENCH):
            covered.add(ref.split()[1].rstrip(":"))
    assert covered == CIS_1_12_NODE, sorted(CIS_1_12_NODE - covered)


def _check(check_id: str):
    return next(e for e in describe.entries(shipped()) if e.meta.id == check_id).meta


def test_new_items_carry_kube_bench_severities():
    # Manual (scored: false) is kube-bench's WARN: a warning; 4.3.1 is scored: an error.
    for check_id in (
        "cis.node.kubelet.hostname-override",
        "cis.node.kubelet.event-qps",
        "cis.node.kubelet.tls-cert-file",
        "cis.node.kubelet.tls-cipher-suites",
    ):
        assert _check(check_id).severity == "warning", check_id
    assert _check("cis.node.proxy.metrics-bind-address").severity == "error"


def test_hostname_override_fails_wherever_the_flag_is_set():
    # 4.2.7: one item, `set: false`: the flag must be absent (it has no config key).
    passes("hostname-override", node())
    message = fails(
        "hostname-override", node(extra="KUBELET_EXTRA_ARGS=--hostname-override=n1"), "n1"
    )
    assert "/etc/default/kubelet" in message
    passes("hostname-override", node(config=CONFIG + "hostnameOverride: n1\n"))


def test_event_qps_zero_or_more_or_unset():
    # 4.2.8: `gte 0` or `set: false`.
    passes("event-qps", node())
    for value in ("0", "50"):
        passes("event-qps", node(config=CONFIG + f"eventRecordQPS: {value}\n"))
    fails("event-qps", node(config=CONFIG + "eventRecordQPS: -1\n"), "eventRecordQPS: -1")
    fails("event-qps", node(extra="KUBELET_EXTRA_ARGS=--event-qps=-5"), "flag --event-qps=-5")


def test_tls_cert_and_key_must_both_be_set():
    # 4.2.9: two items under the default `and`; kubeadm sets neither (its kubelet makes a
    # self-signed pair or bootstraps one), so kube-bench warns on a kubeadm node.
    fails("tls-cert-file", node(), "tlsCertFile is not set")
    both = CONFIG + "tlsCertFile: /var/lib/kubelet/pki/k.crt\n"
    fails("tls-cert-file", node(config=both), "tlsPrivateKeyFile is not set")
    both += "tlsPrivateKeyFile: /var/lib/kubelet/pki/k.key\n"
    passes("tls-cert-file", node(config=both))


STRONG = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"


def test_tls_cipher_suites_only_the_benchmarks_strong_ones():
    # 4.2.12: valid_elements against the benchmark's list; unset fails (no set: false).
    fails("tls-cipher-suites", node(), "tlsCipherSuites is not set")
    listed = "".join(f"- {c}\n" for c in STRONG.split(","))
    passes("tls-cipher-suites", node(config=CONFIG + "tlsCipherSuites:\n" + listed))
    weak = listed + "- TLS_RSA_WITH_AES_128_GCM_SHA256\n"
    fails(
        "tls-cipher-suites",
        node(config=CONFIG + "tlsCipherSuites:\n" + weak),
        "TLS_RSA_WITH_AES_128_GCM_SHA256",
    )
    passes("tls-cipher-suites", node(extra=f"KUBELET_EXTRA_ARGS=--tls-cipher-suites={STRONG}"))


def test_kube_proxy_metrics_bound_to_localhost_or_unset():
    # 4.3.1: the running kube-proxy's --metrics-bind-address, else metricsBindAddress in
    # $proxykubeconfig: `has 127.0.0.1`, or `set: false`.
    proxy = kfix.Process("900", ("/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/c"))
    assert kfix.proxy_metrics_problem(None, None) is None
    assert kfix.proxy_metrics_problem(proxy, None) is None
    local = kfix.Process("900", (*proxy.args, "--metrics-bind-address=127.0.0.1:10249"))
    assert kfix.proxy_metrics_problem(local, None) is None
    wide = kfix.Process("900", (*proxy.args, "--metrics-bind-address=0.0.0.0:10249"))
    assert "0.0.0.0:10249" in (kfix.proxy_metrics_problem(wide, None) or "")
    config = kfix.FileRead(
        "/etc/kubernetes/proxy.conf", 0o600, "root", "root", "metricsBindAddress: 0.0.0.0:10249\n"
    )
    assert "/etc/kubernetes/proxy.conf" in (kfix.proxy_metrics_problem(None, config) or "")
    # The flag decides over the file.
    assert kfix.proxy_metrics_problem(local, config) is None


def test_proxy_metrics_check_reads_the_gathered_process_and_kubeconfig_lines():
    proxy = "/etc/kubernetes/proxy.conf"
    wide = (
        "@@hostkit-kubelet-proc 900 kube-proxy\n/usr/local/bin/kube-proxy\n"
        "--metrics-bind-address=0.0.0.0:10249\n\n"
        f"@@hostkit-kubelet-metrics {proxy} @@absent\n"
    )
    facts = gathered_kubelet({}, "", wide)
    with pytest.raises(AssertionError, match="pid 900"):
        cis.test_proxy_metrics_bind_address(None, facts, proxy)  # None: a read would fail
    lines = f"@@hostkit-kubelet-metrics {proxy}\nmetricsBindAddress: 127.0.0.1:10249\n"
    cis.test_proxy_metrics_bind_address(None, gathered_kubelet({}, "", lines), proxy)


# -- failSwapOn and memorySwap against the host's swap ---------------------------------------


def test_swap_on_with_fail_swap_on_is_a_kubelet_that_will_not_start():
    # pkg/kubelet/cm/container_manager_linux.go: with failSwapOn (default true) and swap
    # on, the kubelet exits ("running with swap on is not supported").
    message = kfix.swap_problem(node(), ["/dev/sda2"])
    assert message and "will not start" in message and "failSwapOn" in message
    flagged = node(extra="KUBELET_EXTRA_ARGS=--fail-swap-on=true")
    assert "flag --fail-swap-on=true" in (kfix.swap_problem(flagged, ["/swap.img"]) or "")


def test_deliberate_swap_limited_swap_and_fail_swap_on_false_passes():
    limited = CONFIG + "failSwapOn: false\nmemorySwap:\n  swapBehavior: LimitedSwap\n"
    assert (
        kfix.swap_problem(node(config=limited.replace("memorySwap: {}\n", "")), ["/dev/sda2"])
        is None
    )
    # failSwapOn false with the default NoSwap: the kubelet runs, pods do not swap.
    assert kfix.swap_problem(node(config=CONFIG + "failSwapOn: false\n"), ["/dev/sda2"]) is None


def test_limited_swap_with_fail_swap_on_cannot_be_used():
    bad = CONFIG.replace("memorySwap: {}\n", "memorySwap:\n  swapBehavior: LimitedSwap\n")
    message = kfix.swap_problem(node(config=bad), ["/dev/sda2"])
    assert message and "LimitedSwap" in message and "will not start" in message


def test_no_swap_no_problem():
    assert kfix.swap_problem(node(), []) is None


def test_kubelet_swap_check_over_the_gathered_kubelet():
    swapping = dataclasses.replace(kubeadm_facts(), swaps=("/dev/sda2",))
    with pytest.raises(AssertionError, match="will not start"):
        cis.test_kubelet_swap(None, swapping)  # None: a read would fail
    deliberate = CONFIG + "failSwapOn: false\n"
    cis.test_kubelet_swap(
        None, dataclasses.replace(kubeadm_facts(config=deliberate), swaps=("/dev/sda2",))
    )
    # No kubelet configured (before kubeadm join writes its config): k8s.swap.off speaks.
    bare = dataclasses.replace(gathered_kubelet({CONFIG_PATH: None}, ""), swaps=("/dev/sda2",))
    unjoined = dataclasses.replace(kubeadm_facts(None), swaps=("/dev/sda2",))
    for facts in (bare, unjoined):
        with pytest.raises(pytest.skip.Exception, match="no kubelet configured"):
            cis.test_kubelet_swap(None, facts)


def test_fail_swap_on_is_a_bool_flag():
    flags = units.parse_flags([units.Word(t, "o") for t in ["/k", "--fail-swap-on", "false"]])
    assert flags["fail-swap-on"].value == "true"  # pflag: `false` is an argument here


# -- the benchmark a node is judged by ---------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "bench"),
    # kube-bench cmd/util_test.go-style cases over cfg/config.yaml's version_mapping.
    [
        ("1.34", "cis-1.12"),
        ("1.34.1", "cis-1.12"),
        ("v1.35.0", "cis-1.12"),  # not listed: the next lower minor that is
        ("1.31", "cis-1.11"),
        ("1.28", "cis-1.10"),
        ("1.27", "cis-1.9"),
        ("1.25", "cis-1.7"),
        ("1.24", "cis-1.24"),
        ("1.14", None),
        ("junk", None),
    ],
)
def test_benchmark_for_a_kubernetes_version(version, bench):
    assert versions.benchmark_for(version) == bench


def versioned(facts, version: str):
    """facts with the gather's `kubelet --version` answer."""
    runtime = Runtime(kubelet_version=(0, f"Kubernetes v{version}\n"))
    return dataclasses.replace(facts, runtime=runtime)


def test_ca_file_mode_follows_the_nodes_benchmark():
    # 4.1.7: bitmask 600 in cis-1.7 to cis-1.10, 644 from cis-1.11.
    ca = {"/etc/kubernetes/pki/ca.crt": ("644 root root", "-----BEGIN CERTIFICATE-----")}
    facts = kubeadm_facts(extra=ca)
    cis.test_client_ca_mode(None, versioned(facts, "1.34.0"), CONFIG_PATH, "/x")
    with pytest.raises(AssertionError, match="want 600") as info:
        cis.test_client_ca_mode(None, versioned(facts, "1.28.4"), CONFIG_PATH, "/x")
    assert "cis-1.10: kube-bench's benchmark for Kubernetes 1.28" in str(info.value)


def test_items_a_nodes_benchmark_lacks_are_skipped_naming_it():
    facts = versioned(kubeadm_facts(), "1.28.4")
    with pytest.raises(pytest.skip.Exception, match=r"4\.2\.14 is not in cis-1\.10"):
        cis.test_seccomp_default(None, facts, CONFIG_PATH)
    with pytest.raises(AssertionError, match="seccompDefault is not set"):
        cis.test_seccomp_default(None, versioned(kubeadm_facts(), "1.30.1"), CONFIG_PATH)


def test_cipher_suites_follow_the_nodes_benchmark():
    rsa = CONFIG + "tlsCipherSuites:\n- TLS_RSA_WITH_AES_128_GCM_SHA256\n"
    cis.test_tls_cipher_suites(None, versioned(kubeadm_facts(config=rsa), "1.31.0"), CONFIG_PATH)
    with pytest.raises(
        AssertionError, match=r"cis-1\.12: kube-bench's benchmark for Kubernetes 1\.33"
    ):
        cis.test_tls_cipher_suites(
            None, versioned(kubeadm_facts(config=rsa), "1.33.0"), CONFIG_PATH
        )
