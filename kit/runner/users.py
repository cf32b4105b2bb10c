"""Users, groups, password hashes and sudoers drop-ins.

A password reaches the host only as a crypt hash, on `chpasswd -e`'s stdin;
it never appears in a command line, a Change or an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kit.connection import Connection, quote
from kit.edits import sudoers
from kit.errors import KitError, KitValueError
from kit.runner import journal, protect
from kit.runner.change import Change, private_diff
from kit.runner.files import stat_and_read
from kit.runner.validate import name as valid_name
from kit.runner.validate import path as valid_path

# $id$[params$]salt$hash, as crypt(3) writes it (yescrypt, sha512, sha256, bcrypt, md5).
_CRYPT_HASH = re.compile(r"^\$[0-9a-z]{1,2}\$[./0-9A-Za-z$=,]+$")

SUDOERS_DIR = "/etc/sudoers.d"

SUDOERS_FILE = "/etc/sudoers"

# Checks a sudoers drop-in (stdin) twice: alone, then as part of the whole
# configuration, so that a file valid on its own that clashes with another
# (a second `User_Alias ADMINS`, say) never lands and breaks sudo for everyone.
# The whole configuration is a copy under a private temporary directory: the
# main file and everything it includes, with the include paths rewritten into
# the copy and the new file in its place. Then, with $3 = install, the exact
# checked bytes are renamed into place from a temporary file beside the
# destination, whose name has a "." so sudo ignores it meanwhile.
# $1 destination, $2 main sudoers file, $3 install or check.
_CHECK_SUDOERS = r"""set -e
dest=$1 main=$2
work=$(mktemp -d)
stage=
trap 'rm -rf -- "$work"; [ -z "$stage" ] || rm -f -- "$stage"' EXIT
trap 'exit 129' HUP INT TERM PIPE
cat > "$work/new"
report() {
  A=$work/root C=$work/new D=$dest awk '{
    out = ""; s = $0
    while ((i = index(s, ENVIRON["C"])) > 0) {
      out = out substr(s, 1, i - 1) ENVIRON["D"]; s = substr(s, i + length(ENVIRON["C"]))
    }
    s = out s; out = ""
    while ((i = index(s, ENVIRON["A"])) > 0) {
      out = out substr(s, 1, i - 1); s = substr(s, i + length(ENVIRON["A"]))
    }
    print out s
  }' >&2
}
if ! out=$(visudo -cf "$work/new" 2>&1); then printf '%s\n' "$out" | report; exit 3; fi
real() { (cd -P -- "$(dirname -- "$1")" 2>/dev/null && printf '%s/%s\n' "$(pwd -P)" "${1##*/}"); }
if [ -f "$main" ]; then
  want=$(real "$dest") || want=$dest
  host=$(hostname 2>/dev/null | cut -d. -f1)
  tab=$(printf '\t')
  printf 'f\t%s\n' "$main" > "$work/queue"
  : > "$work/seen"
  n=0
  while :; do
    n=$((n + 1))
    item=$(sed -n "${n}p" "$work/queue")
    [ -n "$item" ] || break
    kind=${item%%"$tab"*} path=${item#*"$tab"}
    if grep -Fxq -- "$item" "$work/seen"; then continue; fi
    printf '%s\n' "$item" >> "$work/seen"
    mkdir -p -- "$work/root$(dirname -- "$path")"
    if [ "$kind" = d ]; then
      mkdir -p -- "$work/root$path"
      for f in "$path"/*; do
        case ${f##*/} in *.*|*~) continue;; esac
        if [ -f "$f" ]; then printf 'f\t%s\n' "$f" >> "$work/queue"; fi
      done
      if [ "$(cd -P -- "$path" 2>/dev/null && pwd -P)" = "${want%/*}" ]; then
        printf 'f\t%s/%s\n' "$path" "${dest##*/}" >> "$work/queue"
      fi
    elif [ "$(real "$path")" = "$want" ]; then
      cp -- "$work/new" "$work/root$path"
    elif [ -f "$path" ]; then
      R=$work/root H=$host F=$path Q=$work/queue awk '
        function abs(p) {
          gsub(/%h/, ENVIRON["H"], p)
          if (p !~ /^\//) { d = ENVIRON["F"]; sub(/\/[^\/]*$/, "", d); p = d "/" p }
          return p
        }
        /^[ \t]*[#@]include(dir)?[ \t]/ {
          line = $0; sub(/^[ \t]*/, "", line)
          word = line; sub(/[ \t].*$/, "", word)
          p = line; sub(/^[#@]include(dir)?[ \t]+/, "", p); sub(/[ \t]+$/, "", p)
          if (p ~ /^".*"$/) p = substr(p, 2, length(p) - 2)
          p = abs(p)
          printf "%s\t%s\n", (word ~ /dir$/ ? "d" : "f"), p >> ENVIRON["Q"]
          # Quoted only when it must be: sudo before 1.9 reads quotes as part of the path.
          q = (ENVIRON["R"] p ~ /[ \t]/) ? "\"" : ""
          printf "%s %s%s%s%s\n", word, q, ENVIRON["R"], p, q
          next
        }
        { print }
      ' "$path" > "$work/root$path"
    fi
  done
  if ! out=$(visudo -c -f "$work/root$main" 2>&1); then printf '%s\n' "$out" | report; exit 4; fi
fi
[ "$3" = install ] || exit 0
stage=$(mktemp "$(dirname -- "$dest")/.hostkit.XXXXXXXX")
cat -- "$work/new" > "$stage"
chmod 0440 "$stage"
mv -f -T -- "$stage" "$dest"
stage="""


class UserMissing(KitError):
    """The user an operation changes does not exist."""


class SudoersInvalid(KitValueError):
    """visudo rejected a sudoers drop-in; nothing was installed."""


@dataclass(frozen=True, slots=True)
class UserModifications:
    """What modify_user should make true; None leaves an attribute as it is."""

    group: str | None = None
    add_groups: tuple[str, ...] = ()
    shell: str | None = None
    home: str | None = None


def user_exists(conn: Connection, name: str) -> bool:
    """Whether the host knows the user (`getent passwd`, so NSS users count). Reads only."""
    return conn.read("getent passwd %s", valid_name("user name", name)).ok


def group_exists(conn: Connection, name: str) -> bool:
    """Whether the host knows the group (`getent group`). Reads only."""
    return conn.read("getent group %s", valid_name("group name", name)).ok


def add_group(
    conn: Connection, name: str, *, system: bool = False, dry_run: bool = False
) -> Change:
    """Add the group (`groupadd`, `-r` for a system group) unless the host has it."""
    if group_exists(conn, name):
        return Change.none(f"group {name} exists", dry_run=dry_run)
    if not dry_run:
        argv = ["groupadd", *(["-r"] if system else []), "--", name]
        conn.run(" ".join(quote(a) for a in argv), sudo=True).check()
    return Change.made(f"group {name} added", dry_run=dry_run)


def add_user(
    conn: Connection,
    name: str,
    *,
    group: str | None = None,
    shell: str | None = None,
    home: str | None = None,
    create_home: bool = True,
    system: bool = False,
    dry_run: bool = False,
) -> Change:
    """Create the user when missing; an existing user is left as it is (see modify_user)."""
    if user_exists(conn, name):
        return Change.none(f"user {name} exists", dry_run=dry_run)
    argv = ["useradd", "-m" if create_home else "-M"]
    if system:
        argv.append("-r")
    if group:
        argv += ["-g", valid_name("group name", group)]
    if shell:
        argv += ["-s", valid_path(shell)]
    if home:
        argv += ["-d", valid_path(home)]
    argv += ["--", name]
    if not dry_run:
        conn.run(" ".join(quote(a) for a in argv), sudo=True).check()
    return Change.made(f"user {name} added", dry_run=dry_run)


def _user_state(conn: Connection, name: str) -> tuple[str, str, str, set[str]]:
    """(home, shell, primary group, supplementary groups) in one round trip."""
    res = conn.read("getent passwd %s && id -gn -- %s && id -Gn -- %s", name, name, name)
    if not res.ok:
        raise UserMissing(f"user {name!r} does not exist")
    passwd, primary, groups = res.stdout.splitlines()[:3]
    fields = passwd.split(":")
    return fields[5], fields[6], primary, set(groups.split())


def modify_user(
    conn: Connection, name: str, changes: UserModifications, *, dry_run: bool = False
) -> Change:
    """Make the user's primary group, extra groups, shell and home what changes asks."""
    valid_name("user name", name)
    home, shell, primary, groups = _user_state(conn, name)
    argv = ["usermod"]
    what = []
    if changes.group and valid_name("group name", changes.group) != primary:
        argv += ["-g", changes.group]
        what.append(f"group {changes.group}")
    extra = [g for g in changes.add_groups if valid_name("group name", g) not in groups]
    if extra:
        argv += ["-a", "-G", ",".join(extra)]
        what.append(f"groups +{','.join(extra)}")
    if changes.shell and valid_path(changes.shell) != shell:
        argv += ["-s", changes.shell]
        what.append(f"shell {changes.shell}")
    if changes.home and valid_path(changes.home) != home:
        argv += ["-d", changes.home]
        what.append(f"home {changes.home}")
    if not what:
        return Change.none(f"user {name} already as wanted", dry_run=dry_run)
    if any(not w.startswith("groups +") for w in what):
        # Adding groups takes nothing away; a new shell, home or primary group can.
        protect.user(conn, name, "change the account of")
    if not dry_run:
        conn.run(" ".join(quote(a) for a in [*argv, "--", name]), sudo=True).check()
    return Change.made(f"user {name}: {', '.join(what)}", dry_run=dry_run)


def set_user_password(
    conn: Connection, name: str, password_hash: str, *, dry_run: bool = False
) -> Change:
    """Give the user this crypt(3) hash, unless the shadow file already holds it."""
    valid_name("user name", name)
    if not isinstance(password_hash, str) or not _CRYPT_HASH.match(password_hash):
        # The value is a secret even when malformed: never echo it.
        raise KitValueError(f"password for {name} is not a crypt hash ($id$salt$hash)")
    res = conn.read("getent shadow %s", name, sudo=True)
    if not res.ok:
        raise UserMissing(f"user {name!r} does not exist (or shadow is unreadable)")
    if res.stdout.split(":")[1:2] == [password_hash]:
        return Change.none(f"password of {name} already set", dry_run=dry_run)
    protect.user(conn, name, "change the password of")
    if not dry_run:
        result = conn.run("chpasswd -e", stdin=f"{name}:{password_hash}\n", sudo=True)
        if not result.ok:
            raise KitError(f"chpasswd failed for {name} (exit {result.rc})")
    return Change.made(f"password of {name} set", dry_run=dry_run)


def configure_sudoer(
    conn: Connection,
    name: str,
    content: str,
    *,
    directory: str = SUDOERS_DIR,
    sudoers_file: str = SUDOERS_FILE,
    dry_run: bool = False,
) -> Change:
    """Install content as directory/NAME (mode 0440) once visudo accepts it and the whole
    configuration (sudoers_file and what it includes) with it in place.

    Invalid content raises SudoersInvalid with visudo's message, and the file on
    the host is left as it was. Under dry run the content is checked the same
    way, so a plan never promises a file sudo would reject.
    """
    sudoers.check_file_name(name)
    dest = f"{valid_path(directory).rstrip('/')}/{name}"
    valid_path(sudoers_file)
    data = content if content.endswith("\n") else content + "\n"
    old, attrs = stat_and_read(conn, dest, sudo=True)
    if old == data.encode() and attrs is not None and attrs[0] == "440":
        return Change.none(f"{dest} already up to date", dry_run=dry_run)
    diff = private_diff(dest, old, data.encode(), readable=False)  # sudoers files are 0440
    protect.sudo_rights(conn, name, [data, (old or b"").decode(errors="replace")])
    mode = "check" if dry_run else "install"
    # The check leaves the host as it was (its copies live in a temporary directory).
    send = conn.read if mode == "check" else conn.run
    with journal.file_step(conn, "configure_sudoer", dest, dry_run=dry_run):
        res = send(
            "sh -c %s sh %s %s %s", _CHECK_SUDOERS, dest, sudoers_file, mode, stdin=data, sudo=True
        )
    if not res.ok:
        # visudo's first line names the file, line and problem; the rest repeats the line.
        detail = ((res.stderr or res.stdout).strip().splitlines() or ["no output"])[0]
        where = "with the rest of the configuration" if res.rc == 4 else "on its own"
        raise SudoersInvalid(f"sudoers drop-in {name} rejected by visudo {where}: {detail}")
    return Change.made(f"{dest}: {'created' if old is None else 'updated'}", diff, dry_run=dry_run)
