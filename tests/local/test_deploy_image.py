"""The image, run as deploy/'s manifests run it, against a disposable node.

The image is built from this checkout (deploy/image.py, cached by its inputs); the node
is a disposable container with namespaces of its own (tests/local/enterable.py) whose
host name is planted. The pod's command line is read from the manifest, with only the
node's pid put for PID 1, which is what `hostPID: true` makes the node's init; it runs in
the image's root as such a pod would (tests/local/pod.py). Its standard output, the pod's
log, is the JSON report: it must name the planted host name's failure, and give each
check the verdict the same catalog gives through local:// inside that node.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from deploy import archive, image, manifests
from kit.testhosts.errors import TestHostError
from tests.local import enterable, pod
from tests.tiers import unavailable

pytestmark = pytest.mark.image

ROOT = Path(__file__).resolve().parents[2]
# Not a name the installers accept (k8s.hostname.installers fails on it), where this
# machine's own name passes: a failure here is the node's, not this machine's.
PLANTED = "Hk-Planted"
NODE_SPEC = "--hosts=nsenter://1"
OFFLINE = ("No matching distribution", "Could not find a version", "NewConnectionError")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> image.Image:
    if os.geteuid() != 0:
        unavailable("image", "building the image needs root")
    for tool in ("mmdebstrap", "unshare", "nsenter", "chroot"):
        if shutil.which(tool) is None:
            unavailable("image", f"{tool} is not installed")
    log = tmp_path_factory.mktemp("image") / "mmdebstrap.log"
    try:
        return image.ensure(log=log)
    except TestHostError as exc:
        if any(word in str(exc) for word in OFFLINE):
            unavailable("image", f"pip cannot reach a package index: {exc}")
        raise


@pytest.fixture
def node(tmp_path: Path) -> Any:
    with enterable.container(tmp_path, hostname=PLANTED) as found:
        yield found


def manifest(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A manifest's document and its pod's container."""
    (doc,) = manifests.load(ROOT / "deploy" / name)
    (container,) = manifests.pod_spec(doc)["containers"]
    return doc, container


def on_node(argv: list[str], leader: int) -> list[str]:
    """The pod's command line with the node's init, PID 1 under hostPID, as `leader`."""
    assert argv.count(NODE_SPEC) == 1, argv
    return [f"--hosts=nsenter://{leader}" if a == NODE_SPEC else a for a in argv]


def verdicts(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {
        (r["check"], json.dumps(r["params"], sort_keys=True)): r["outcome"]
        for r in report["results"]
    }


def planted_failure(report: dict[str, Any]) -> dict[str, Any]:
    (result,) = [r for r in report["results"] if r["check"] == "k8s.hostname.installers"]
    return result


def local_inside(node: Any, workdir: Path) -> dict[str, Any]:
    """The same catalog through local://, run by this checkout inside the node."""
    flags = ["--mount", "--uts", "--ipc", "--net", "--pid", "--cgroup"]
    done = subprocess.run(
        [
            "nsenter", f"--target={node.leader}", *flags, "--",
            "env", f"PYTHONPATH={ROOT}", "sh", "-c", 'cd "$0" && exec "$@"', str(workdir),
            sys.executable, "-m", "kit.cli", "check", "--hosts=local://",
            "--report-json", "-", "-p", "no:cacheprovider",
        ],
        capture_output=True, timeout=300,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr.decode()[-3000:]
    return json.loads(done.stdout)


def test_the_job_pod_reports_its_node_as_a_run_inside_it_does(built, node, tmp_path):
    doc, container = manifest("job.yaml")
    argv = on_node(manifests.pod_argv(doc), node.leader)
    done = pod.run(built.root, argv, manifests.env(container), container["workingDir"])
    log = done.stdout.decode("utf-8", "replace")
    assert done.returncode in (0, 1), log[-3000:]  # compliant, or not: a completed run
    report = json.loads(log)  # the pod's log is the report alone
    assert [h["name"] for h in report["hosts"]] == [node.spec]
    failure = planted_failure(report)
    assert failure["outcome"] == "failed" and PLANTED in failure["message"], failure
    inside = local_inside(node, tmp_path)
    assert planted_failure(inside)["outcome"] == "failed"
    assert verdicts(report) == verdicts(inside)


def test_a_run_that_does_not_complete_says_why_in_the_log(built, node):
    doc, container = manifest("job.yaml")
    argv = [*on_node(manifests.pod_argv(doc), node.leader), "--profile", "no-such-profile"]
    done = pod.run(built.root, argv, manifests.env(container), container["workingDir"])
    log = done.stdout.decode("utf-8", "replace")
    assert done.returncode == 4, log[-3000:]  # a usage error: the Job fails with it
    assert "no-such-profile" in log


def test_the_daemonset_pod_reports_again_after_each_interval(built, node, tmp_path):
    doc, container = manifest("daemonset.yaml")
    argv = on_node(manifests.pod_argv(doc), node.leader)
    env = manifests.env(container)
    assert int(env["HOSTKIT_INTERVAL"]) >= 60
    env["HOSTKIT_INTERVAL"] = "1"  # the loop's, shortened: two runs within the test
    proc = pod.start(built.root, argv, env, container["workingDir"], stderr=subprocess.STDOUT)
    try:
        reports = read_reports(proc, 2, timeout=240)
    finally:
        pod.stop(proc)
    for report in reports:
        assert [h["name"] for h in report["hosts"]] == [node.spec]
        assert planted_failure(report)["outcome"] == "failed"
    assert reports[0]["started"] <= reports[1]["started"]
    assert verdicts(reports[0]) == verdicts(reports[1])


def read_reports(proc: subprocess.Popen[bytes], count: int, timeout: float) -> list[Any]:
    """The first `count` JSON documents the pod writes to standard output, one per run."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    decoder = json.JSONDecoder()
    text, docs = "", []
    deadline = time.monotonic() + timeout
    while len(docs) < count:
        left = deadline - time.monotonic()
        assert left > 0, f"{len(docs)} of {count} reports within {timeout}s; got {text[-500:]!r}"
        ready, _, _ = select.select([fd], [], [], left)
        chunk = os.read(fd, 65536) if ready else b""
        assert chunk or not ready, f"the pod ended (exit {proc.wait()}) after {len(docs)} reports"
        text += chunk.decode()
        # The log holds reports and nothing else (both streams, as kubectl shows them).
        assert not text.strip() or text.lstrip().startswith("{"), text[:3000]
        while text.strip():
            try:
                doc, end = decoder.raw_decode(text.lstrip())
            except json.JSONDecodeError:
                break  # the rest of this report is still to come
            docs.append(doc)
            text = text.lstrip()[end:]
    return docs


def test_the_exported_image_is_one_a_container_tool_reads(built, tmp_path):
    """skopeo (what podman and CRI-O use to move images) copies the tarball into an OCI
    layout, checking each digest, and reads the entrypoint the manifests rely on."""
    if shutil.which("skopeo") is None:
        unavailable("image", "skopeo is not installed")
    tar = tmp_path / "hostkit.tar"
    archive.write(built.root, tar, tag="hostkit:0.1.0", entrypoint=image.ENTRYPOINT)
    config = subprocess.run(
        ["skopeo", "inspect", "--config", f"docker-archive:{tar}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert config.returncode == 0, config.stderr
    assert json.loads(config.stdout)["config"]["Entrypoint"] == ["hostkit"]
    copied = subprocess.run(
        ["skopeo", "copy", f"docker-archive:{tar}", f"oci:{tmp_path / 'oci'}:hostkit"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert copied.returncode == 0, copied.stderr
    assert (tmp_path / "oci" / "index.json").is_file()
