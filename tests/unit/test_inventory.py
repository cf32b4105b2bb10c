import pytest

from kit import inventory
from kit.errors import KitValueError

INI = """
# web tier
[web]
web1 ansible_host=10.0.0.11 ansible_user=admin
web2 ansible_host=10.0.0.12 ansible_port=2222

[db]
db1 ansible_host=10.0.0.21 ansible_ssh_private_key_file=/keys/db

[prod:children]
web
db

[web:vars]
ansible_user=deploy
"""

YAML = """
all:
  vars:
    ansible_user: ops
  children:
    web:
      hosts:
        web1: {ansible_host: 10.0.0.11, ansible_port: 2200}
        web2:
    db:
      hosts:
        db1: {ansible_user: postgres, ansible_ssh_private_key_file: /keys/db}
"""


@pytest.fixture(params=["ini", "yaml"])
def hosts(request, tmp_path):
    path = tmp_path / ("hosts.ini" if request.param == "ini" else "hosts.yaml")
    path.write_text(INI if request.param == "ini" else YAML)
    return {h.name: h for h in inventory.load(path)}, request.param


def test_hosts_with_addresses_users_ports_and_keys(hosts):
    found, kind = hosts
    assert sorted(found) == ["db1", "web1", "web2"]
    assert found["db1"].identity_file == "/keys/db"
    if kind == "ini":
        assert str(found["web1"].spec) == "ssh://admin@10.0.0.11"  # host var beats group var
        assert str(found["web2"].spec) == "ssh://deploy@10.0.0.12:2222"
        assert found["web1"].groups == {"web", "prod", "all"}
    else:
        assert str(found["web1"].spec) == "ssh://ops@10.0.0.11:2200"
        assert str(found["web2"].spec) == "ssh://ops@web2"
        assert str(found["db1"].spec) == "ssh://postgres@db1"


def test_select_by_group_or_name(hosts):
    found, _ = hosts
    everyone = list(found.values())
    assert {h.name for h in inventory.select(everyone, ["web"])} == {"web1", "web2"}
    assert {h.name for h in inventory.select(everyone, ["db1", "web2"])} == {"db1", "web2"}
    with pytest.raises(KitValueError, match="nothere"):
        inventory.select(everyone, ["nothere"])


def test_bad_inventory_names_the_problem(tmp_path):
    path = tmp_path / "bad.ini"
    path.write_text("[web\nweb1\n")
    with pytest.raises(KitValueError, match=r"bad\.ini:1"):
        inventory.load(path)
    path.write_text("[web]\nweb1 ansible_host=bad;name\n")
    with pytest.raises(KitValueError, match="invalid host name"):
        inventory.load(path)
    with pytest.raises(KitValueError, match=r"missing\.ini"):
        inventory.load(tmp_path / "missing.ini")


def test_unbalanced_quote_names_the_file_and_line(tmp_path):
    path = tmp_path / "quoted.ini"
    path.write_text('[web]\nweb1 ansible_user="admin\n')
    with pytest.raises(KitValueError, match=r"quoted\.ini:2: no closing quotation"):
        inventory.load(path)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("all:\n  hosts: [web1]\n", "group all: hosts must be a mapping"),
        ("all:\n  hosts:\n    web1: 5\n", "host web1 must be a mapping"),
        ("all:\n  hosts:\n    web1: {ansible_port: [22]}\n", "invalid ansible_port"),
        ("all:\n  hosts:\n    web1: {ansible_port: ' 22'}\n", "invalid ansible_port"),
        # A group made its own child through an alias: refused as YAML, before any walk.
        (
            "all: &a\n  children:\n    g: *a\n",
            "line 1, column 6: an alias inside its own anchor: the value contains itself",
        ),
        ('all:\n  hosts:\n    "web1\\x0b": {}\n', "control character"),
    ],
)
def test_malformed_yaml_inventory_names_the_problem(tmp_path, text, complaint):
    path = tmp_path / "hosts.yaml"
    path.write_text(text)
    with pytest.raises(KitValueError, match=complaint) as caught:
        inventory.load(path)
    assert str(path) in str(caught.value)


def test_non_utf8_inventory_names_the_file(tmp_path):
    path = tmp_path / "latin.ini"
    path.write_bytes(b"[web]\nweb1 # caf\xe9\n")
    with pytest.raises(KitValueError, match=r"latin\.ini: not UTF-8"):
        inventory.load(path)


def test_become_settings_become_sudo_options_and_the_password_stays_hidden(tmp_path):
    path = tmp_path / "hosts.ini"
    path.write_text(
        "[web]\nweb1 ansible_become=true ansible_become_user=app\n\n"
        "[web:vars]\nansible_become_password=s3cr3t-pw\n"
    )
    (web1,) = inventory.load(path)
    assert web1.sudo_user == "app"
    assert web1.sudo_password.get().reveal() == "s3cr3t-pw"
    assert "s3cr3t-pw" not in repr(web1)
    assert "ansible_become_password" not in web1.vars


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ("w1 ansible_become_method=su", "ansible_become_method=su is not supported"),
        ("w1 ansible_connection=winrm", "ansible_connection=winrm is not supported"),
        ("w1 ansible_ssh_extra_args='-J x'", "ansible_ssh_extra_args is not supported"),
    ],
)
def test_connection_settings_hostkit_cannot_honour_are_refused(tmp_path, line, complaint):
    path = tmp_path / "hosts.ini"
    path.write_text(f"[web]\n{line}\n")
    with pytest.raises(KitValueError, match=complaint):
        inventory.load(path)


def test_ssh_named_variables_win_as_ansible_reads_them(tmp_path):
    # Ansible's ssh connection lists ansible_host then ansible_ssh_host (and so on) as the
    # variables of one option, and the last one set wins: whatever level set each.
    path = tmp_path / "hosts.ini"
    path.write_text(
        "[web]\n"
        "w1 ansible_host=a.example ansible_ssh_host=b.example ansible_port=22 "
        "ansible_ssh_port=2222 ansible_user=alice ansible_ssh_user=bob "
        "ansible_private_key_file=/keys/a ansible_ssh_private_key_file=/keys/b\n"
        "w2 ansible_host=a.example ansible_port=22 ansible_user=alice\n"
        "[web:vars]\nansible_ssh_host=group.example\n"
    )
    w1, w2 = inventory.load(path)
    assert (w1.spec.host, w1.spec.port, w1.spec.user) == ("b.example", 2222, "bob")
    assert w1.identity_file == "/keys/b"
    # The host's own ansible_host does not beat its group's ansible_ssh_host.
    assert (w2.spec.host, w2.spec.port, w2.spec.user) == ("group.example", 22, "alice")
