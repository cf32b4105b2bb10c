"""The manifests of deploy/: every document parses, each pod is what the README says it
is (the node's PID namespace, privileged, no API token, no host network, bounded), and
each command line is one hostkit accepts: a typo in an option name fails here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from deploy import image, manifests
from kit.cli.main import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
KINDS = {"daemonset.yaml": "DaemonSet", "job.yaml": "Job", "cronjob.yaml": "CronJob"}


@pytest.fixture(params=sorted(KINDS))
def doc(request: pytest.FixtureRequest) -> dict:
    (found,) = manifests.load(ROOT / "deploy" / request.param)
    assert found["kind"] == KINDS[request.param]
    return found


def test_every_manifest_is_a_document_kubernetes_reads(doc):
    assert doc["apiVersion"] in {"apps/v1", "batch/v1"}
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", doc["metadata"]["name"])
    pod = manifests.pod_spec(doc)
    (container,) = pod["containers"]
    assert container["image"].startswith("hostkit:")
    # A pod's labels are its selector's (a DaemonSet whose selector does not match is refused).
    if doc["kind"] == "DaemonSet":
        selector = doc["spec"]["selector"]["matchLabels"]
        assert selector.items() <= doc["spec"]["template"]["metadata"]["labels"].items()


def test_the_pod_enters_its_node_with_nothing_more_than_it_needs(doc):
    pod = manifests.pod_spec(doc)
    assert pod["hostPID"] is True  # PID 1 of the pod's PID namespace is the node's init
    assert pod["automountServiceAccountToken"] is False  # no API access: RBAC-free
    assert "serviceAccountName" not in pod
    assert not pod.get("hostNetwork") and not pod.get("hostIPC")
    assert "volumes" not in pod or all("hostPath" not in v for v in pod["volumes"])
    (container,) = pod["containers"]
    assert container["securityContext"]["privileged"] is True
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}
    tolerated = {t["key"] for t in pod["tolerations"] if t["effect"] == "NoSchedule"}
    assert "node-role.kubernetes.io/control-plane" in tolerated


def test_the_command_line_runs_the_images_hostkit_on_its_node(doc):
    argv = manifests.hostkit_argv(doc)
    assert argv[0] in COMMANDS
    assert "--hosts=nsenter://1" in argv
    assert argv[argv.index("--report-json") + 1] == "-"  # the pod's log is the report
    (container,) = manifests.pod_spec(doc)["containers"]
    shell, flag, script, _name = container["command"]
    assert (shell, flag) == ("/bin/sh", "-c")
    # The log is the report: pytest's terminal lines kept apart unless the run broke.
    assert 'hostkit "$@" 2>/tmp/hostkit.err' in script
    assert "cat /tmp/hostkit.err >&2" in script
    if doc["kind"] == "DaemonSet":
        assert script.startswith("while :; do ") and 'sleep "$HOSTKIT_INTERVAL"' in script
        interval = manifests.env(container)["HOSTKIT_INTERVAL"]
        assert interval.isdigit() and int(interval) > 0
    else:
        assert "exit $rc" in script  # the Job's status is hostkit's verdict
    assert "/tmp" in {m["mountPath"] for m in container["volumeMounts"]}


def test_the_command_line_parses_as_hostkits(doc, tmp_path):
    """Collecting with the manifest's own arguments: an unknown option is a usage error."""
    argv = manifests.hostkit_argv(doc)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "kit.cli", *argv, "--collect-only", "-q"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert " tests collected" in done.stdout + done.stderr


def test_a_typo_in_an_option_is_caught(tmp_path):
    """The check above fails on a misspelt option, as a pod with it would."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "kit.cli", "check", "--report-jsn", "-", "--collect-only"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 4, done.stderr


def test_the_containerfile_builds_the_image_the_script_builds():
    text = (ROOT / "deploy" / "Containerfile").read_text()
    assert text.startswith("FROM debian:bookworm-slim")
    words = text.split("apt-get install", 1)[1].split("&&", 1)[0].split()
    assert {w for w in words if not w.startswith("-") and w != "\\"} == set(image.PACKAGES)
    assert f"python3 -m venv {image.VENV}" in text
    assert f"ln -s {image.VENV}/bin/hostkit {image.COMMAND}" in text
    assert 'ENTRYPOINT ["hostkit"]' in text
