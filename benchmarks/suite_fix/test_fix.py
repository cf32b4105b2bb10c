"""The fix benchmark's suite as hostkit checks, each with the fix that repairs it.

Facts answer the sysctls and the file kinds and modes; a file's content and a link's
target are read through `host`. The fixes are the runner's own operations, pointed at
the host's private tmpfs (benchmarks/fix_profile.py).
"""

import pytest
from fix_profile import CONFIG, DATA_DIR, LINK, OWNED, SECRET, SYSCTL_DIR, SYSCTL_FILE, SYSCTLS

from kit.catalog.check import check
from kit.catalog.remediation import Target, remediation
from kit.runner import files, kernel
from kit.runner.change import Change


@remediation(strategy="configure", disruption="low", persists=True)
def set_sysctl(target: Target, key: str, value: str) -> Change:
    return kernel.set_sysctl(
        target.conn,
        target.facts,
        key,
        value,
        dry_run=target.dry_run,
        managed_file=SYSCTL_FILE,
        dirs=(SYSCTL_DIR,),
    )


@remediation(strategy="configure", disruption="low", persists=True)
def write_config(target: Target, path: str, content: str) -> Change:
    return files.write_file(target.conn, path, content, mode="0644", dry_run=target.dry_run)


@remediation(strategy="restrict", disruption="low", persists=True)
def restrict_mode(target: Target, path: str, mode: str) -> Change:
    return files.chmod(target.conn, path, mode, dry_run=target.dry_run)


@remediation(strategy="configure", disruption="low", persists=True)
def link(target: Target, to: str, link: str) -> Change:
    return files.create_symlink(target.conn, to, link, dry_run=target.dry_run)


@remediation(strategy="configure", disruption="low", persists=True)
def make_dir(target: Target, path: str, mode: str) -> Change:
    return files.mkdirp(target.conn, path, mode=mode, dry_run=target.dry_run)


@check("benchfix.sysctl", "Kernel parameter has the wanted value", fix=set_sysctl)
@pytest.mark.parametrize("key,value", SYSCTLS, ids=[f"{k}={v}" for k, v in SYSCTLS])
def test_sysctl(facts, key, value):
    assert facts.sysctls.get(key) == value


@check("benchfix.config", "Config file has the wanted content", fix=write_config)
@pytest.mark.parametrize("path,content", [CONFIG])
def test_config(host, path, content):
    f = host.file(path)
    assert f.exists and f.content_string == content


@check("benchfix.secret", "Secret file is private", fix=restrict_mode, reads_file="path")
@pytest.mark.parametrize("path,mode", [SECRET])
def test_secret_mode(facts, path, mode):
    stat = facts.files[path]
    assert stat is not None and stat.mode == int(mode, 8)


@check("benchfix.link", "The current link names the config", fix=link)
@pytest.mark.parametrize("to,link", [LINK])
def test_link(host, to, link):
    f = host.file(link)
    assert f.is_symlink and f.linked_to == to


@check("benchfix.datadir", "Data directory exists with its mode", fix=make_dir, reads_file="path")
@pytest.mark.parametrize("path,mode", [DATA_DIR])
def test_data_dir(facts, path, mode):
    stat = facts.files[path]
    assert stat is not None and stat.kind == "directory" and stat.mode == int(mode, 8)


@check("benchfix.owner", "Secret file belongs to root", reads_file="path")
@pytest.mark.parametrize("path,owner", [OWNED])
def test_owner(facts, path, owner):
    stat = facts.files[path]
    assert stat is not None and stat.owner == owner
