"""Root cannot log in over SSH: sshd_config sets `PermitRootLogin no`."""

from kit.catalog.check import check
from kit.catalog.remediation import Target, remediation
from kit.connection import Connection
from kit.edits import decode, encode, keyvalue
from kit.runner.change import Change
from kit.runner.files import stat_and_read, write_file

# As sshd reads its config: `Key value`, keywords in any case, the first value wins,
# and what follows the first Match applies only to the connections it matches.
SSHD = {"sep": " ", "fold_case": True, "until": "Match"}


@remediation(
    strategy="configure",
    disruption="low",
    reboot=False,
    persists=True,
    never="Match blocks; the running sshd, which reads the file when it next reloads",
)
def deny_root_login(target: Target, path: str) -> Change:
    """Set `PermitRootLogin no` in sshd_config, before any Match block."""
    old, _ = stat_and_read(target.conn, path, sudo=True)
    text = decode(old or b"")
    new = keyvalue.set_value(text, "PermitRootLogin", "no", **SSHD)
    return write_file(target.conn, path, encode(new), sudo=True, dry_run=target.dry_run)


@check(
    "site.sshd.root-login",
    "sshd does not let root log in",
    refs={"sshd_config(5)": "PermitRootLogin"},
    fix=deny_root_login,
    params="sshd_configs",
    argnames="path",
    tags=("security",),
)
def test_root_login(conn: Connection, path: str) -> None:
    """sshd's built-in default (prohibit-password) still lets root in with a key."""
    content, _ = stat_and_read(conn, path, sudo=True)
    assert content is not None, f"{path} does not exist"
    found = keyvalue.value_of(decode(content), "PermitRootLogin", **SSHD)
    assert found == "no", f"PermitRootLogin is {found or 'unset (prohibit-password)'} in {path}"
