"""The fix benchmark's checks as a plain testinfra user writes them (testinfra fixes
nothing: it runs the check run only)."""

import pytest
from fix_profile import CONFIG, DATA_DIR, LINK, OWNED, SECRET, SYSCTLS


@pytest.mark.parametrize("key,value", SYSCTLS, ids=[f"{k}={v}" for k, v in SYSCTLS])
def test_sysctl(host, key, value):
    assert str(host.sysctl(key)) == value


@pytest.mark.parametrize("path,content", [CONFIG])
def test_config(host, path, content):
    f = host.file(path)
    assert f.exists and f.content_string == content


@pytest.mark.parametrize("path,mode", [SECRET])
def test_secret_mode(host, path, mode):
    f = host.file(path)
    assert f.exists and f.mode == int(mode, 8)


@pytest.mark.parametrize("to,link", [LINK])
def test_link(host, to, link):
    f = host.file(link)
    assert f.is_symlink and f.linked_to == to


@pytest.mark.parametrize("path,mode", [DATA_DIR])
def test_data_dir(host, path, mode):
    f = host.file(path)
    assert f.is_directory and f.mode == int(mode, 8)


@pytest.mark.parametrize("path,owner", [OWNED])
def test_owner(host, path, owner):
    assert host.file(path).user == owner
