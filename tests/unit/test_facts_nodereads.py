"""The node checks' reads, recorded as the checks sent them, through the facts parser:
each check reaches the same state from the gather's section as from its own read."""

from __future__ import annotations

from hostkit_catalog.checks import test_cis_node as cis
from hostkit_catalog.checks import test_hostprep as hp
from hostkit_catalog.checks import test_network as net
from hostkit_catalog.checks import test_runtime as rt
from hostkit_catalog.remediations import kubelet as kfix
from kit.edits import containerd
from kit.facts import parse_facts
from kit.facts.parse import exact
from tests.unit import test_cis_node as cis_data
from tests.unit import test_hostprep as hp_data
from tests.unit import test_runtime as rt_data


def gathered(sections: dict[str, str]) -> str:
    """A gather's answer holding sections, each as the script prints it."""
    return "".join(f"\n@@hostkit:{name}\n{body}" for name, body in sections.items())


def read(text: str) -> str:
    # What b/e (and the privileged sections) print around a read's output.
    return f"@@begin\n{text}\n@@end\n"


def test_exact_keeps_a_reads_leading_and_trailing_blank_lines():
    facts = parse_facts(gathered({"hostprep-nm": read("\n\n@@active:x\n\n")}))
    assert facts.hostprep.nm == "\n\n@@active:x\n\n"
    assert exact("@@unprivileged") is None


def test_ufw_and_networkmanager_from_the_gather_as_from_their_reads():
    facts = parse_facts(
        gathered(
            {
                "executables": "ufw=/usr/sbin/ufw",
                "hostprep-ufw": read(hp_data.UBUNTU_UFW_STALE),
                "hostprep-selinux-config": read("SELINUX=enforcing\n"),
                "hostprep-nm": read(hp_data.ROCKY_NM + hp_data.KUBESPRAY_CALICO),
            }
        )
    )
    # No connection: a read through it would fail.
    assert hp.read_ufw(None, facts) == hp.parse_ufw(True, hp_data.UBUNTU_UFW_STALE)
    assert hp.read_selinux_config(None, facts) == "SELINUX=enforcing\n"
    state = hp.read_nm(None, facts)
    assert state == hp.parse_nm(hp_data.ROCKY_NM + hp_data.KUBESPRAY_CALICO)
    assert hp.verdict_nm(state, "calico", hp_data.CALICO) == ""


def test_absent_selinux_config_and_unprivileged_reads():
    facts = parse_facts(
        gathered(
            {
                "hostprep-selinux-config": read("@@absent\n"),
                "hostprep-nm": read(""),
                "hostprep-proxy": "@@unprivileged",
                "hostprep-resolv": "@@unprivileged",
                "ports": "@@unprivileged",
                "kubelet-files": "@@unprivileged",
            }
        )
    )
    assert facts.hostprep.selinux_config is None
    assert facts.hostprep.proxy is None and facts.hostprep.resolv is None
    assert facts.ports is None and facts.kubelet_files.dump is None


def test_containerd_config_and_cri_answer_from_the_gather():
    facts = parse_facts(
        gathered(
            {
                "runtime-containerd-path": read("/usr/bin/containerd\nrc=0\n"),
                "runtime-config": read("644 root root\n" + rt_data.DEBIAN_FILE),
                "runtime-config-default": read(rt_data.DEBIAN_DEFAULT),
                "runtime-cri": f"@@socket:{rt_data.SOCKET}\n"
                + read(rt_data.PLUGINS.rstrip("\n") + "\n@@rc=0\n"),
                "runtime-units": "containerd-active=0\ncontainerd-enabled=1\n"
                "LoadState=loaded\nUnitFileState=enabled\n@@kubelet-show-rc=0",
                "runtime-kubelet-version": read("Kubernetes v1.34.1\nrc=0\n"),
            }
        )
    )
    runtime = facts.runtime
    assert runtime.containerd_path == "/usr/bin/containerd"
    want = containerd.effective(rt_data.DEBIAN_FILE, rt_data.DEBIAN_DEFAULT)
    assert rt.read_config(None, facts) == want
    answer = runtime.sockets[rt_data.SOCKET]
    assert (answer.ok, answer.stdout) == (True, rt_data.PLUGINS.rstrip("\n") + "\n")
    assert rt.cri_problem(want, rt_data.SOCKET, True, (answer.ok, answer.stdout, "")) is None
    assert (runtime.containerd_active, runtime.containerd_enabled) == (True, False)
    assert runtime.kubelet_unit == ("loaded", "enabled")
    assert runtime.kubelet_version == (0, "Kubernetes v1.34.1")


def test_no_containerd_no_config_no_socket_and_a_failing_ctr():
    facts = parse_facts(
        gathered(
            {
                "runtime-containerd-path": read("rc=127\n"),
                "runtime-config": read("absent\n"),
                "runtime-config-default": read("@@absent\n"),
                "runtime-cri": "@@socket:/run/a.sock\n@@nosocket\n@@socket:/run/b.sock\n"
                + read("\n@@rc=1\n@@err:ctr: failed to dial\n"),
            }
        )
    )
    runtime = facts.runtime
    assert runtime.containerd_path is None and runtime.config_default is None
    assert rt.read_config(None, facts).version is None
    assert runtime.sockets["/run/a.sock"] is None
    failed = runtime.sockets["/run/b.sock"]
    assert (failed.ok, failed.stderr) == (False, "ctr: failed to dial")


def test_port_holders_from_the_gathered_listeners():
    listeners = (
        'LISTEN 0 4096 127.0.0.1:10248 0.0.0.0:* users:(("kubelet",pid=812,fd=21))\n'
        'LISTEN 0 4096 *:10250 *:* users:(("kubelet",pid=812,fd=25))\n'
        'LISTEN 0 4096 [::]:6443 [::]:* users:(("kube-apiserver",pid=90,fd=3))\n'
        "@@rc=0\n"
        "@@cgroup:812\t0::/system.slice/kubelet.service\n"
        "@@cgroup:90\t0::/kubepods/burstable/pod1/abc\n"
    )
    facts = parse_facts(gathered({"ports": read(listeners)}))
    kubelet = net.gathered_holders(facts.ports, 10250)
    assert [(h.pid, h.name, h.unit) for h in kubelet] == [("812", "kubelet", "kubelet.service")]
    api = net.gathered_holders(facts.ports, 6443)
    assert [(h.pid, h.name, h.unit) for h in api] == [("90", "kube-apiserver", None)]
    assert net.gathered_holders(facts.ports, 1024) == []
    failed = parse_facts(gathered({"ports": read("@@rc=1\n")}))
    assert failed.ports is None


def test_kubelet_from_the_gathered_dump_as_from_its_reads():
    unit, dropin = "/usr/lib/systemd/system/kubelet.service", "/etc/kubelet.d/10-kubeadm.conf"
    files = {
        unit: ("644 root root", cis_data.UNIT),
        dropin: ("644 root root", cis_data.DROPIN),
        "/var/lib/kubelet/kubeadm-flags.env": ("644 root root", cis_data.FLAGS_ENV),
        "/var/lib/kubelet/config.yaml": ("600 root root", cis_data.CONFIG),
    }
    dump = "".join(f"@@hostkit-kubelet {p} {head}\n{text}\n" for p, (head, text) in files.items())
    dump += "@@hostkit-kubelet /etc/default/kubelet absent\n"
    show = f"FragmentPath={unit}\nDropInPaths={dropin}"
    facts = parse_facts(gathered({"kubelet-files": f"@@show\n{show}\n" + read(dump)}))
    assert cis.unit_files(None, facts, kfix.UNIT) == [unit, dropin]
    reads = kfix.parse_dump(dump)
    kubelet = cis.read_kubelet(None, facts, "/var/lib/kubelet/config.yaml")
    want = kfix.build(
        [reads[unit], reads[dropin]],
        {p: reads[p] for p in ("/var/lib/kubelet/kubeadm-flags.env", "/etc/default/kubelet")},
        reads["/var/lib/kubelet/config.yaml"],
    )
    assert kubelet == want
    assert kubelet.flags["config"].value == "/var/lib/kubelet/config.yaml"
