"""On this machine, the node checks read the same from the facts gather as through their
own commands (the gather runs as root here, so it makes every read)."""

from __future__ import annotations

from hostkit_catalog.checks import test_cis_node as cis
from hostkit_catalog.checks import test_hostprep as hp
from hostkit_catalog.checks import test_network as net
from hostkit_catalog.checks import test_runtime as rt
from hostkit_catalog.remediations import hostprep as hp_fixes
from hostkit_catalog.remediations import kubelet as kfix
from hostkit_catalog.remediations import network
from hostkit_catalog.remediations import runtime as rt_fixes
from kit.facts import gather_facts
from tests.local.recording import RecordingConnection
from tests.local.test_port_owner import listener  # noqa: F401 - a fixture


def test_gathered_reads_match_the_checks_own(listener):  # noqa: F811
    port, _name = listener
    conn = RecordingConnection()
    facts = gather_facts(conn)
    assert hp.read_selinux_config(conn, facts) == hp.read_selinux_config(conn)
    assert hp.read_nm(conn, facts) == hp_fixes.read_nm(conn)
    assert hp.read_proxy(conn, facts) == hp.read_proxy(conn)
    assert hp.read_resolv(conn, facts) == hp.read_resolv(conn)
    assert rt.read_config(conn, facts) == rt_fixes.read_config(conn)
    assert net.gathered_holders(facts.ports, port) == network.port_holders(conn, port)
    assert cis.unit_files(conn, facts, kfix.UNIT) == kfix.unit_files(conn)
    config = "/var/lib/kubelet/config.yaml"
    assert cis.read_kubelet(conn, facts, config) == kfix.read(conn, config)
    assert cis.kernel_defaults_problem(conn, facts) == kfix.kernel_defaults_problem(conn)
