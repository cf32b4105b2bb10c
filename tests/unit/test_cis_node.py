"""The CIS worker node checks over recorded inputs: unit files, environment files, the
kubelet's config file and stat output, as kubeadm writes them on a node.

kube-bench cannot run here (no Go toolchain, no kubelet), so the verdicts follow its code:
check/check.go Check.execute (the flag from `ps` first, the config file only when the flag
is absent), check/test.go testItem.evaluate (`set` true by default: a missing value fails
unless a `set: false` item says otherwise) and compareOp (`bitmask`, `eq`, `nothave`), with
its own cases from check/test_test.go where one applies.
"""

from __future__ import annotations

import pytest

from hostkit_catalog.checks import test_cis_node as cis
from hostkit_catalog.remediations import kubelet as kfix
from kit.edits import kubelet as units
from kit.edits import yamlset
from kit.errors import KitValueError
from kit.facts import parse_facts

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


def test_kubeadms_zero_streaming_timeout_fails_as_a_zero_duration():
    # kubeadm writes `0s`, which the kubelet reads as "use the default" only for a zero
    # in the Go struct; kube-bench's noteq compares the text with "0" and would pass it.
    fails("streaming-connection-idle-timeout", node(), "streamingConnectionIdleTimeout: 0s")
    passes(
        "streaming-connection-idle-timeout",
        node(config=CONFIG.replace("streamingConnectionIdleTimeout: 0s", "x: 1")),
    )
    assert kfix.zero_duration("0m0s") and not kfix.zero_duration("5m")


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


def test_pod_pids_limit_wants_a_real_limit():
    fails("pod-max-pids", node(config=CONFIG + "podPidsLimit: -1\n"), "podPidsLimit: -1")
    passes("pod-max-pids", node(config=CONFIG + "podPidsLimit: 4096\n"))
    passes("pod-max-pids", node(extra="KUBELET_EXTRA_ARGS=--pod-max-pids 1024"))


def test_seccomp_default_false_fails():
    fails("seccomp-default", node(config=CONFIG + "seccompDefault: false\n"), "want true")
    passes("seccomp-default", node(config=CONFIG + "seccompDefault: true\n"))


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


def test_kubelet_config_mode_and_owner_from_stat_output():
    facts = facts_with(f"644\tkube\troot\tregular file\t{CONFIG_PATH}")
    with pytest.raises(AssertionError, match="has mode 644, want 600 or more restrictive"):
        cis.test_kubelet_config_mode(facts, CONFIG_PATH)
    with pytest.raises(AssertionError, match="owned by kube:root, want root:root"):
        cis.test_kubelet_config_owner(facts, CONFIG_PATH)
    good = facts_with(f"600\troot\troot\tregular file\t{CONFIG_PATH}")
    cis.test_kubelet_config_mode(good, CONFIG_PATH)
    cis.test_kubelet_config_owner(good, CONFIG_PATH)


def test_missing_required_file_fails_as_kube_bench_empty_audit_does():
    facts = facts_with("absent\t/etc/kubernetes/kubelet.conf", f"absent\t{CONFIG_PATH}")
    with pytest.raises(AssertionError, match="does not exist"):
        cis.test_kubelet_kubeconfig_mode(facts, "/etc/kubernetes/kubelet.conf", "required")
    with pytest.raises(AssertionError, match="does not exist"):
        cis.test_kubelet_config_owner(facts, CONFIG_PATH)


def test_missing_optional_files_are_skipped():
    facts = facts_with("absent\t/etc/kubernetes/proxy.conf", "absent\t/b.conf")
    with pytest.raises(pytest.skip.Exception, match="asks only if it exists"):
        cis.test_proxy_kubeconfig_mode(facts, "/etc/kubernetes/proxy.conf")
    with pytest.raises(pytest.skip.Exception):
        cis.test_kubelet_kubeconfig_owner(facts, "/b.conf", "if-present")


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
