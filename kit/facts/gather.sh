# hostkit facts: one POSIX sh script, one answer. Every section starts with a
# line "@@hostkit:NAME"; the controller parses the raw text. Each probe is
# tolerant of a missing tool or file: it prints nothing and the fact is unknown.
#
# Processes are what a gather costs the host (issue 24): files are read with the
# shell's `read` and redirections, matched with `case`, cut with ${var#...}, listed
# with globs; a program runs only where no file holds the fact (ip, ss, nft,
# systemctl, package queries...), once for all the names it is asked about where it
# takes several. `$(...)` forks a subshell: it holds nothing but such a program, and
# helpers set variables rather than print into one.
# /proc/sys is grep's: dash's `read` takes a byte per read(2), and an integer sysctl
# answers a read at an offset past 0 with end of file (`read` would see 6 of 65536).
# A line "#@section NAME... [needs PART...]" starts the part that prints those sections,
# "#@state NAME [needs PART...]" one that only sets what later parts read: a gather of
# some sections runs the parts they are in and those they need (kit/facts/sections.py),
# after what comes before the first such line, which always runs.
export LC_ALL=C
# The login's own PATH, for the reads that must find what its commands would.
P0=$PATH
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
P1=$PATH
NL='
'
s() { printf '\n@@hostkit:%s\n' "$1"; }
# c FILE: the file's text exactly as cat prints it (a last line without its newline
# stays so); fails, printing nothing, when the file does not open.
c() {
    l=
    { while IFS= read -r l; do printf '%s\n' "$l"; done; } 2>/dev/null <"$1" || return
    [ -z "$l" ] || printf '%s' "$l"
}
# g PATTERN FILE: the file's lines a case pattern matches, as grep prints them.
g() {
    { while IFS= read -r l || [ -n "$l" ]; do
        # shellcheck disable=SC2254 # the pattern is meant to match
        case $l in $1) printf '%s\n' "$l" ;; esac
    done; } 2>/dev/null <"$2"
}
# v NAME FILE: the file's first line into variable NAME (empty when unreadable).
v() {
    eval "$1="
    { IFS= read -r "$1" || :; } 2>/dev/null <"$2"
}
# lc TEXT: into lc, how many lines TEXT holds (a program's answer, checked before use).
lc() {
    lc=0 t=$1
    while [ -n "$t" ]; do
        lc=$((lc + 1))
        case $t in *"$NL"*) t=${t#*"$NL"} ;; *) t= ;; esac
    done
}
# words LINE: its first and third words (split as `read` splits) into w1 and w3; a
# function's positional parameters are its own.
words() {
    unset IFS
    # shellcheck disable=SC2086
    case $- in *f*) set -- $1 ;; *) set -f && set -- $1 && set +f ;; esac
    w1=${1-} w3=${3-}
}
# The shell's own status: its effective uid as `id -u` says it, the CPUs it may run on.
uid= al=
{ while IFS= read -r l; do
    case $l in
        Uid:*) words "$l" && uid=$w3 ;;
        Cpus_allowed_list:*) al=${l#*:} ;;
    esac
done; } 2>/dev/null </proc/self/status
[ -n "$uid" ] || uid=$(id -u 2>/dev/null)
v kr /proc/sys/kernel/osrelease
[ -n "$kr" ] || kr=$(uname -r 2>/dev/null)
# Programs the host ships (kubelet, containerd, ctr) may hang; one that does must not hold
# the whole answer. 124 is timeout's exit code when it had to stop the program.
T=
command -v timeout >/dev/null 2>&1 && T="timeout -k 2 10"
# Whether chronyc may find a chronyd (see timesync): yes until the sections that read the
# processes (cy), the mounts (hp) and the UDP sockets (cu) have said otherwise.
cy=y hp=y cu=y

#@section os-release
s os-release
c /etc/os-release || c /usr/lib/os-release
#@section meminfo
s meminfo
g 'MemTotal:*' /proc/meminfo
#@section cpu
s cpu
# nproc's answer: the CPUs the process may run on that are online. OMP_NUM_THREADS and
# OMP_THREAD_LIMIT change it: then nproc answers.
cpus() { # LIST: into cpus, the CPU numbers of a kernel cpu list ("0-3,8"), space-separated
    cpus=' '
    IFS=,
    set -f
    for x in $1; do
        a=${x%-*} b=${x#*-}
        case $a$b in '' | *[!0-9]*) continue ;; esac
        while [ "$a" -le "$b" ]; do cpus="$cpus$a " a=$((a + 1)); done
    done
    set +f
    unset IFS
}
v on /sys/devices/system/cpu/online
words "$al"
al=$w1
if [ -z "${OMP_NUM_THREADS-}${OMP_THREAD_LIMIT-}" ] && [ -n "$al" ] && [ -n "$on" ]; then
    cpus "$on"
    on=$cpus
    cpus "$al"
    n=0
    for x in $cpus; do case $on in *" $x "*) n=$((n + 1)) ;; esac; done
    [ "$n" -gt 0 ] && echo "$n"
else
    nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null
fi
#@section init
s init
v x /proc/1/comm
echo "pid1=$x"
[ -d /run/systemd/system ] && echo systemd-booted
[ -d /run/openrc ] && echo openrc
[ -d /etc/init.d ] && echo init.d
#@section executables
s executables
for n in ip iptables mount nsenter ebtables ethtool socat tc touch conntrack crictl kubelet \
    swapoff modprobe sysctl systemctl chronyc timedatectl firewall-cmd ufw nft \
    apt-get dnf yum rpm dpkg-query update-rc.d chkconfig rc-service rc-update service \
    hostnamectl hostname visudo chpasswd useradd usermod groupadd ss curl wget; do
    printf '%s=' "$n"; command -v "$n" 2>/dev/null || echo
done
#@section selinux
s selinux
[ -d /sys/fs/selinux ] && [ -r /sys/fs/selinux/enforce ] &&
    { v x /sys/fs/selinux/enforce; echo "enforce=$x"; }
[ -e /etc/selinux/config ] && echo config
#@section apparmor
s apparmor
c /sys/module/apparmor/parameters/enabled
#@section procs
# The processes' names, read once: the time and firewall daemons here, the kubelet's
# and kube-proxy's pids for kubelet-files.
# fw: a firewalld runs (the firewall the facts name, whatever the rules say); cy: a chronyd
# runs, whom chronyc asks in timesync.
s procs
kp= fw= cy=
for d in /proc/[0-9]*; do
    x=
    { IFS= read -r x || :; } 2>/dev/null <"$d/comm"
    case $x in
        firewalld | chronyd | systemd-timesyn | ntpd)
            printf '%s\n' "$x"
            case $x in firewalld) fw=y ;; chronyd) cy=y ;; esac
            ;;
        kubelet | kube-proxy) kp="$kp ${d#/proc/}:$x" ;;
    esac
done
#@section ufw needs procs
# The firewall the facts name is the first that answers of firewalld, ufw (enabled in
# ufw.conf), nftables (a rule in a table iptables-nft does not make), iptables (a rule):
# parse.parse_firewall. A program whose answer cannot change that name is not asked.
s ufw
{ while IFS= read -r l || [ -n "$l" ]; do
    case $l in
        ENABLED=*)
            printf '%s\n' "$l"
            case $l in ENABLED=yes | 'ENABLED="yes"') command -v ufw >/dev/null 2>&1 && fw=y ;; esac
            ;;
    esac
done; } 2>/dev/null </etc/ufw/ufw.conf
#@section nft needs procs ufw
s nft
# nfd TEXT: whether an nft ruleset holds a rule in a table iptables-nft does not make, as
# parse._nft_tables_with_rules reads it. A line holding a byte other than a tab or a
# printable ASCII character, which Python may split into lines or words otherwise than
# the shell, ends the reading with "no": then iptables is asked, as before.
nfd() {
    tb=
    IFS=$NL
    set -f
    for l in $1; do
        case $l in *[![:print:]\	]*) break ;; esac
        unset IFS
        # shellcheck disable=SC2086 # its words, as parse splits them
        set -- $l
        IFS=$NL
        [ $# -gt 0 ] || continue
        case $1 in
            table)
                [ $# -lt 3 ] || tb="$2 $3"
                continue
                ;;
            chain | type | policy | '}' | set | map | elements* | flags* | comment*) continue ;;
        esac
        case $tb in
            '' | ip\ filter | ip\ nat | ip\ mangle | ip\ raw | ip\ security) ;;
            ip6\ filter | ip6\ nat | ip6\ mangle | ip6\ raw | ip6\ security) ;;
            *) set +f && unset IFS && return 0 ;;
        esac
    done
    set +f
    unset IFS
    return 1
}
nu=
if [ -z "$fw" ] && command -v nft >/dev/null 2>&1; then
    o=$(nft list ruleset 2>/dev/null)
    r=$?
    [ -z "$o" ] || printf '%s\n' "$o"
    echo "rc=$r"
    [ "$r" = 0 ] && nfd "$o" && fw=y
    # nu: nft answered and names no chain ufw-user-input (hostprep-ufw).
    case $r$o in 0*ufw-user-input*) ;; 0*) nu=y ;; esac
fi
#@section iptables needs procs ufw nft
s iptables
[ -z "$fw" ] && command -v iptables >/dev/null 2>&1 && { iptables -S 2>/dev/null; echo "rc=$?"; }
#@section swaps
s swaps
c /proc/swaps
#@section modules
s modules
if [ -r /proc/modules ]; then
    { while read -r x _; do printf '%s\n' "$x"; done; } 2>/dev/null </proc/modules
else echo "@absent"; fi
#@section modules-builtin
s modules-builtin
b="/lib/modules/$kr/modules.builtin"
if [ -r "$b" ]; then
    { while IFS= read -r l || [ -n "$l" ]; do printf '%s\n' "${l##*/}"; done; } 2>/dev/null <"$b"
else echo "@absent"; fi
#@section mounts
# The mounts; with them, the type of the file system /sys/fs/cgroup is on, as
# `stat -f` names it: that of the deepest of its mount points, the last mounted of equals;
# and hp when a /proc hides other users' processes from this login (hidepid), which the
# procs section then did not see.
s mounts
cg= cgd=0
[ -r /proc/self/mounts ] && hp=
{ while IFS= read -r l || [ -n "$l" ]; do
    printf '%s\n' "$l"
    case $l in *' proc '*hidepid=[!0o]*) [ "$uid" = 0 ] || hp=y ;; esac
    x=${l#* } y=${x#* }
    case ${x%% *} in
        /) x=1 ;; /sys) x=2 ;; /sys/fs) x=3 ;; /sys/fs/cgroup) x=4 ;; *) continue ;;
    esac
    [ "$x" -ge "$cgd" ] && cgd=$x cg=${y%% *}
done; } 2>/dev/null </proc/self/mounts
case $cg in cgroup2) cg=cgroup2fs ;; tmpfs | devtmpfs) cg=tmpfs ;; cgroup) cg=cgroupfs ;; esac
[ -e /sys/fs/cgroup ] || cg=
#@section cgroup needs mounts
s cgroup
[ -n "$cg" ] && echo "$cg"
#@section links
s links
for f in /sys/class/net/*; do
    { [ -e "$f" ] || [ -L "$f" ]; } && printf '%s\n' "${f##*/}"
done
#@section addrs route4 route6
# Addresses and the default routes from one ip, in batch mode: the IPv4 default route
# (`route show default`, the main table), the addresses, then the default routes of every
# table and family (`table all`, where `-6` cannot be said): those of other tables say
# "table", the main table's IPv4 ones come first, as the first answer printed them, and
# the IPv6 ones follow. -o, which the addresses need, also puts a multipath route's
# nexthops on its line after a backslash: they go back on lines of their own (nh), as
# `ip route` prints them. When the answers cannot be told apart (no address between
# them), each route is asked alone, as before.
nh() { # LINES: into nv, each line's nexthops on lines of their own
    nv=
    IFS=$NL
    for l in $1; do
        while :; do
            case $l in
                *\\*) nv="$nv${l%%\\*}$NL" l=${l#*\\} ;;
                *) nv="$nv$l$NL" && break ;;
            esac
        done
    done
    unset IFS
}
ad= r4= r6= r6a=
if command -v ip >/dev/null 2>&1; then
    o=$(ip -force -o -batch - 2>/dev/null <<'EOF'
route show default
address show
route show table all default
EOF
)
    x=1 y= z=
    IFS=$NL
    set -f
    for l in $o; do
        case $x$l in
            ?[0-9]*:*) ad="$ad$l$NL" x=2 ;;
            1*) y="$y$l$NL" ;;
            2*" table "*) ;;
            *) z="$z$l$NL" ;;
        esac
    done
    unset IFS
    if [ -n "$ad" ]; then
        case $z in
            "$y"*) nh "${z#"$y"}" && r6=$nv r6a=y ;;
        esac
    else
        y=$(ip -force -o route show default 2>/dev/null)
    fi
    nh "$y"
    set +f
    r4=$nv
fi
s addrs
printf '%s' "$ad"
s route4
printf '%s' "$r4"
s route6
if [ -n "$r6a" ]; then
    printf '%s' "$r6"
else
    ip -6 route show default 2>/dev/null
fi
#@section net-tcp net-tcp6 net-udp net-udp6
# cu: a UDP socket of port 323, chronyd's command port, which chronyc asks over loopback
# (a chronyd of another pid namespace may hold it).
for f in tcp tcp6 udp udp6; do
    s "net-$f"
    case $f in
        udp*)
            [ "$f" = udp ] && [ -r /proc/net/udp ] && cu=
            l=
            { while IFS= read -r l; do
                printf '%s\n' "$l"
                case $l in *:0143\ *) cu=y ;; esac
            done; } 2>/dev/null <"/proc/net/$f" || continue
            [ -z "$l" ] || printf '%s' "$l"
            ;;
        *) c "/proc/net/$f" ;;
    esac
done
#@state symlinks
# The links whose targets later sections print: /etc/localtime (its target as written, for
# the time zone), the boot files' links and /etc/resolv.conf for hostprep-resolv (where
# they lead in the end, as readlink -f says: canon). Their targets come from the stat of
# the probed and the kubelet's files (sk, below), which runs before they are printed.
BOOT="/etc/fstab /etc/modules /etc/modules-load.d/*.conf /run/modules-load.d/*.conf
    /usr/local/lib/modules-load.d/*.conf /usr/lib/modules-load.d/*.conf /lib/modules-load.d/*.conf
    /etc/sysctl.d/*.conf /run/sysctl.d/*.conf /usr/local/lib/sysctl.d/*.conf
    /usr/lib/sysctl.d/*.conf /lib/sysctl.d/*.conf /etc/sysctl.conf
    /etc/systemd/zram-generator.conf /run/systemd/zram-generator.conf
    /usr/local/lib/systemd/zram-generator.conf /usr/lib/systemd/zram-generator.conf
    /etc/systemd/zram-generator.conf.d/*.conf /run/systemd/zram-generator.conf.d/*.conf
    /usr/local/lib/systemd/zram-generator.conf.d/*.conf
    /usr/lib/systemd/zram-generator.conf.d/*.conf"
# canon LINK TARGET: into cv, what readlink -f LINK prints, TARGET being what the link
# holds: cd -P resolves the directories (every one but the last must exist); a last
# component that is a link again is readlink -f's own to follow.
canon() {
    case $2 in /*) cp=$2 ;; *) cp=${1%/*}/$2 ;; esac
    cb=${cp##*/} c0=$PWD cv=
    case $cb in
        '' | . | ..) cd -P "$cp" 2>/dev/null && cv=$PWD ;;
        *)
            if cd -P "${cp%/*}/" 2>/dev/null; then
                if [ -L "$cb" ]; then
                    cv=$(readlink -f -- "$1" 2>/dev/null)
                else
                    cv=${PWD%/}/$cb
                fi
            fi
            ;;
    esac
    cd "$c0" 2>/dev/null || cd /
}
rl= lz=
# shellcheck disable=SC2086 # the globs above
for f in $BOOT; do [ -L "$f" ] && rl="$rl$f$NL"; done
[ "$uid" = 0 ] && [ -L /etc/resolv.conf ] && rl="$rl/etc/resolv.conf$NL"
[ -L /etc/localtime ] && lz=/etc/localtime$NL
#@section timesync needs procs mounts net-udp
s timesync
# timedatectl asks timedated over the system bus (DBUS_SYSTEM_BUS_ADDRESS, or this
# socket): without one it fails, printing nothing.
if [ -d /run/systemd/system ] && command -v timedatectl >/dev/null 2>&1; then
    if [ -n "${DBUS_SYSTEM_BUS_ADDRESS-}" ] || [ -S /run/dbus/system_bus_socket ]; then
        echo "ntpsynchronized=$(timedatectl show -p NTPSynchronized --value 2>/dev/null)"
    else
        echo ntpsynchronized=
    fi
fi
# Without systemd, chrony still says whether it tracks a source (sed's
# s/^Leap status *: */chrony-leap=/p, by the shell). chronyc asks a chronyd through its
# socket or its command port: with neither, and none running, it prints nothing here.
if command -v chronyc >/dev/null 2>&1 && { [ -n "$cy$hp$cu" ] || [ -S /run/chrony/chronyd.sock ]; }; then
    o=$(chronyc -n tracking 2>/dev/null)
    IFS=$NL
    set -f
    for l in $o; do
        case $l in 'Leap status'*) ;; *) continue ;; esac
        l=${l#Leap status} l=${l#"${l%%[! ]*}"}
        case $l in :*) l=${l#:} && echo "chrony-leap=${l#"${l%%[! ]*}"}" ;; esac
    done
    set +f
    unset IFS
fi
# Issue 23: timedatectl needs D-Bus, which minimal images lack. systemd-timesyncd touches
# this file on each successful synchronisation (systemd-timesyncd.service(8)); /run is
# cleared at boot, so it says "synchronised since boot".
if [ -d /run/systemd/system ]; then
    if [ -e /run/systemd/timesync/synchronized ]; then echo timesyncd-synchronized=yes
    else echo timesyncd-synchronized=no; fi
fi
#@state systemd
# systemctl without a running systemd answers nothing, slowly: it is asked only under systemd.
sd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }
# The units' properties the sections below print and their unit file states, from one
# systemctl show: its answer has a block per unit, in their order, between empty lines.
# Each property prints as it would have alone (`systemctl is-active` prints ActiveState).
SU="containerd.service kubelet.service NetworkManager.service systemd-resolved.service
    firewalld.service chrony.service chronyd.service systemd-timesyncd.service ntp.service
    ntpd.service ntpsec.service openntpd.service swap.target"
sa= sr=
if sd; then
    # shellcheck disable=SC2086 # unit names are words
    sa=$(systemctl show -p Id -p LoadState -p ActiveState -p FragmentPath -p DropInPaths \
        -p UnitFileState -p Environment -p EnvironmentFiles -- $SU 2>/dev/null)
    sr=$?
fi
prop() { # UNIT PROPERTY...: into pv, the unit's lines of those properties, in order
    pb=$sa pv=
    for x in $SU; do
        [ "$x" = "$1" ] && break
        case $pb in *"$NL$NL"*) pb=${pb#*"$NL$NL"} ;; *) pb= ;; esac
    done
    pb=${pb%%"$NL$NL"*}
    shift
    IFS=$NL
    set -f
    for l in $pb; do
        for x; do case $l in "$x="*) pv="$pv$l$NL" ;; esac; done
    done
    set +f
    unset IFS
}
# Unit file states as `systemctl is-enabled` prints them, from the show above: the unit
# file's state; "alias" for a name that loads another unit (its Id), as systemd 240 and
# later say; "not-found" for a unit systemd does not know (an older is-enabled printed
# nothing: the parser leaves both out). A unit with an init script and no unit file is
# answered by sysv below, or asked alone as before: is-enabled answers for it through SysV
# compatibility (its systemd-sysv-install), which show does not; systemctl asks that only
# where no unit file of the name is found outside the generators' directories, and a unit
# whose file show names there (FragmentPath) has one.
# For such a unit and no unit file: systemctl runs LIBEXECDIR/systemd-sysv-install
# is-enabled NAME and prints "enabled" where it exits 0, "disabled" otherwise (systemd's
# src/systemctl/systemctl-sysv-compat.c, enable_sysv_units). Debian's and Ubuntu's script
# answers with its is-enabled arm, one command: `ls "$ROOT"/etc/rc[S5].d/S??"$NAME"`
# (ROOT is set by --root only, which systemctl passes only under --root). Where the script
# systemctl runs has that arm, the shell globs the same pattern; any other script (RHEL's
# runs chkconfig) is asked as before.
DA='ls "$ROOT"/etc/rc[S5].d/S??"$NAME" >/dev/null 2>&1'
# dsi: y where the script systemctl runs answers so (both paths Debian's systemctl may run
# it from, /lib/systemd and /usr/lib/systemd, hold such a script or nothing, one of them
# does) and the programs it runs (getopt, ls) are there; n otherwise; empty until read.
dsi=
dsr() {
    dsi=n
    # systemctl skips SysV compatibility where this is set (getenv_bool): asked as before.
    [ -z "${SYSTEMCTL_SKIP_SYSV+y}" ] || return 0
    command -v getopt >/dev/null 2>&1 && command -v ls >/dev/null 2>&1 || return 0
    for f in /lib/systemd/systemd-sysv-install /usr/lib/systemd/systemd-sysv-install; do
        [ -e "$f" ] || [ -L "$f" ] || continue
        # One file where /lib is usr/lib: read once.
        [ "$dsi" = y ] && [ "$f" -ef /lib/systemd/systemd-sysv-install ] && continue
        [ -f "$f" ] && [ -x "$f" ] || { dsi=n && return 0; }
        # da: the arm's commands, comments and blank lines aside, up to its ";;".
        da= l= x=
        { while IFS= read -r l; do
            l=${l#"${l%%[![:space:]]*}"}
            case $x:$l in
                :is-enabled\)) x=y ;;
                y: | y:\#*) ;;
                'y:;;') break ;;
                y:*) da=$da$l$NL ;;
            esac
        done; } 2>/dev/null <"$f"
        [ "$da" = "$DA$NL" ] || { dsi=n && return 0; }
        dsi=y
    done
}
# sysv UNIT: into l, the unit's state as systemctl's SysV compatibility prints it where the
# shell can tell; fails otherwise. systemctl goes there only for a NAME.service with no unit
# file, generated ones aside, in its search path (unit_file_exists), which may hold one
# systemd has not loaded yet (show does not name it): any file or link of the name there,
# or another search path (SYSTEMD_UNIT_PATH), asks systemctl. Its NAME's script is
# /etc/init.d/NAME (Debian's SYSTEM_SYSVINIT_PATH). A glob matching nothing stays the
# pattern, which ls and [ ] then look up alike; a link to nowhere is listed by ls (-L).
sysv() {
    case $1 in *.service) ;; *) return 1 ;; esac
    case $- in *f*) return 1 ;; esac
    [ -n "$dsi" ] || dsr
    [ "$dsi" = y ] && [ -z "${SYSTEMD_UNIT_PATH+y}" ] && [ -e "/etc/init.d/${1%.service}" ] ||
        return 1
    for d in /etc/systemd/system.control /run/systemd/system.control /run/systemd/transient \
        /etc/systemd/system.attached /etc/systemd/system /run/systemd/system.attached \
        /run/systemd/system /usr/local/lib/systemd/system /usr/lib/systemd/system \
        /lib/systemd/system; do
        [ -e "$d/$1" ] || [ -L "$d/$1" ] && return 1
    done
    set -- /etc/rc[S5].d/S??"${1%.service}"
    if [ -e "$1" ] || [ -L "$1" ]; then l=enabled; else l=disabled; fi
}
en() { # UNITS...: into ue, "unit=state" lines in their order
    ue=
    for u; do
        ev=
        if [ -e "/etc/init.d/${u%.service}" ] || [ -e "/etc/rc.d/init.d/${u%.service}" ]; then
            prop "$u" FragmentPath
            case $pv in
                FragmentPath=/run/systemd/generator* | FragmentPath=/run/systemd/transient*) ev=y ;;
                FragmentPath=/?*) ;;
                *) ev=y ;;
            esac
        fi
        if [ -n "$ev" ]; then
            sysv "$u" || l=$(systemctl is-enabled -- "$u" 2>/dev/null)
        else
            prop "$u" Id LoadState UnitFileState
            l=
            case $NL$pv in *"${NL}UnitFileState="*) l=${pv#*UnitFileState=} l=${l%%"$NL"*} ;; esac
            case $NL$pv in
                *"${NL}LoadState=not-found$NL"*) l=not-found ;;
                *"${NL}Id=$u$NL"*) ;;
                *"${NL}Id="?*) l=alias ;;
            esac
        fi
        ue="$ue$u=$l$NL"
    done
}
#@section units needs systemd
ue=
s units
if sd; then
    en firewalld.service chrony.service chronyd.service systemd-timesyncd.service \
        ntp.service ntpd.service ntpsec.service openntpd.service swap.target containerd.service
    printf '%s' "${ue%containerd.service=*}"
fi
#@section swap-units
s swap-units
# Swap units something pulls in at boot: enabled ones, and generators' (fstab, GPT
# auto-swap, zram) links under the targets' .wants and .requires directories.
for f in /etc/systemd/system/*.wants/*.swap /etc/systemd/system/*.requires/*.swap \
    /run/systemd/system/*.wants/*.swap /run/systemd/system/*.requires/*.swap \
    /run/systemd/generator*/*.wants/*.swap /run/systemd/generator*/*.requires/*.swap \
    /usr/local/lib/systemd/system/*.wants/*.swap /usr/lib/systemd/system/*.wants/*.swap \
    /lib/systemd/system/*.wants/*.swap; do
    [ -L "$f" ] || [ -e "$f" ] && echo "unit=$f"
done
for g in /usr/lib/systemd/system-generators/zram-generator \
    /lib/systemd/system-generators/zram-generator; do
    [ -x "$g" ] && echo "generator=$g"
done
#@section sysctls
# /proc/sys in one pass: its files this login may open (`true <FILE` opens it: busybox's
# `test -r` says yes to root for a file no one may read; `:`, a special built-in, would
# end the script when the file does not open), then one paste for them all, a
# line per file (its lines joined by tabs; an empty file's is empty), then what paste
# could not read. The shell's `read` takes a byte per read(2), and an integer sysctl
# answers a read at an offset past 0 with end of file: it would see 6 of 65536.
sw() { # DEPTH DIR: into variable sDEPTH, the files under DIR, one a line. A level's list
    # is its own variable, so that a file is copied once per level, not once per file.
    eval "s$1="
    for f in "$2"/*; do
        if [ -d "$f" ]; then
            [ -L "$f" ] && continue
            sw $(($1 + 1)) "$f"
            eval "s$1=\$s$1\$s$(($1 + 1))"
        elif [ -L "$f" ]; then
            :
        elif { true <"$f"; } 2>/dev/null; then
            eval "s$1=\$s$1\$f\$NL"
        fi
    done
}
s sysctls
sw 0 /proc/sys
echo @@paths
printf '%s' "$s0"
echo @@values
x=
if [ -n "$s0" ]; then
    IFS=$NL
    set -f
    # shellcheck disable=SC2086 # split on newlines only
    { x=$(paste -s -- $s0 2>&1 >&3); } 3>&1
    set +f
    unset IFS
fi
echo @@errors
[ -z "$x" ] || printf '%s\n' "$x"
s0=
#@section hostname-addresses
s hostname-addresses
# kubeadm's HostnameCheck resolves the host name with Go's resolver (net.LookupHost; the
# Kubernetes binaries are built without cgo). Where nsswitch.conf's hosts line names files
# first, it answers with the address of every /etc/hosts line naming the host (net/hosts.go:
# comments cut at #, fields split at blanks, a line whose address does not parse left out).
# Those lines are printed as getent prints one: the address padded to 15, then the line's
# names. getent answers, as before, where the file does not name the host, or Go may read it
# otherwise: another hosts line, or a name Go takes for the host's (another case, a last
# dot), or an address it would print otherwise (v4 and v6 below), or a carriage return.
# v4 ADDR: whether ADDR is an IPv4 address as Go parses and prints it (no leading zeros).
v4() {
    q1=$1. c1=0
    while [ -n "$q1" ]; do
        q2=${q1%%.*} q1=${q1#*.} c1=$((c1 + 1))
        case $q2 in [0-9] | [1-9][0-9] | 1[0-9][0-9] | 2[0-4][0-9] | 25[0-5]) ;; *) return 1 ;; esac
    done
    [ "$c1" = 4 ]
}
# v6 ADDR: whether ADDR is an IPv6 address as Go's netip.Addr.String prints it: lower-case
# hex groups without leading zeros, the first longest run of two or more zero groups as
# "::"; no zone, no dotted quad, not IPv4-mapped (Go prints those dotted).
v6() {
    case $1 in '' | : | *[!0-9a-f:]* | *:::* | *::*::* | :[!:]* | *[!:]: | ::ffff:*) return 1 ;; esac
    q1=$1: q2= c1=0
    while [ -n "$q1" ]; do
        c2=${q1%%:*} q1=${q1#*:}
        case $c2 in
            '') case $q2 in *C) ;; *) q2=${q2}C ;; esac && continue ;;
            0) q2=${q2}z ;;
            0* | ?????*) return 1 ;;
            *) q2=${q2}x ;;
        esac
        c1=$((c1 + 1))
    done
    case $q2 in
        *C*)
            # the run "::" stands for: two groups or more, not next to another zero group,
            # longer than any run before it and no shorter than any after it
            c2=z
            while [ "$c1" -lt 7 ]; do c2=${c2}z c1=$((c1 + 1)); done
            [ "$c2" != z ] || return 1
            case ${q2%C*} in *z | *"$c2"*) return 1 ;; esac
            case ${q2#*C} in z* | *"${c2}z"*) return 1 ;; esac
            ;;
        *) [ "$c1" = 8 ] && case $q2 in *zz*) return 1 ;; esac ;;
    esac
}
AZ=' aA bB cC dD eE fF gG hH iI jJ kK lL mM nN oO pP qQ rR sS tT uU vV wW xX yY zZ'
# same A B: whether Go's table of /etc/hosts names takes A and B for one name (ASCII case
# aside, a last dot aside: its absDomainName).
same() {
    q1=${1%.} q2=${2%.}
    [ "${#q1}" = "${#q2}" ] || return 1
    while [ -n "$q1" ]; do
        c1=${q1%"${q1#?}"} c2=${q2%"${q2#?}"} q1=${q1#?} q2=${q2#?}
        [ "$c1" = "$c2" ] && continue
        case $AZ in *" $c1$c2"* | *" $c2$c1"*) ;; *) return 1 ;; esac
    done
}
# hline NAME ADDR NAMES...: a line of /etc/hosts naming NAME into ha; hu=y where Go may read
# it otherwise.
hline() {
    hn=$1 h1=${2-} hm=
    [ "$#" -ge 3 ] || return 0
    shift 2
    for hw; do
        if [ "$hw" = "$hn" ]; then
            hm=y
        elif same "$hw" "$hn"; then
            hu=y
        fi
    done
    [ -n "$hm" ] || return 0
    if v4 "$h1" || v6 "$h1"; then
        hx=$h1
        while [ "${#hx}" -lt 15 ]; do hx="$hx "; done
        ha="$ha$hx $*$NL"
    else
        # not an address (Go leaves the line out) only without a dot or colon
        case $h1 in *[.:]*) hu=y ;; esac
    fi
}
v x /proc/sys/kernel/hostname
hf= hk=0 ha= hu=
[ -z "$x" ] || { while IFS= read -r l || [ -n "$l" ]; do
    l=${l%%#*}
    case $l in *:*) ;; *) continue ;; esac
    hn=${l%%:*} l=${l#*:}
    hn=${hn#"${hn%%[![:space:]]*}"} l=${l#"${l%%[![:space:]]*}"}
    [ "${hn%"${hn##*[![:space:]]}"}" = hosts ] || continue
    hk=$((hk + 1))
    case $l in files | "files "*) hf=y ;; *) hf= ;; esac
done; } 2>/dev/null </etc/nsswitch.conf
if [ "$hk" = 1 ] && [ -n "$hf" ]; then
    unset IFS
    set -f
    { while IFS= read -r l || [ -n "$l" ]; do
        # a carriage return (Go splits at it too), or a byte neither blank nor printed
        case $l in *[![:blank:][:graph:]]*) hu=y ;; esac
        # shellcheck disable=SC2086 # split at blanks, as Go's getFields
        hline "$x" ${l%%#*}
    done; } 2>/dev/null </etc/hosts
    set +f
fi
if [ -n "$ha" ] && [ -z "$hu" ]; then
    printf '%s' "$ha"
else
    getent hosts "$x" 2>/dev/null
fi
#@state probes
# Probes come as arguments: files to stat, then "--", then packages to query. Those that
# exist go to one stat with the kubelet's and containerd's files (sk, below), where the
# section is printed; a path holding a newline, which that stat's list cannot hold, has
# them asked here, as before.
fa= pf= pn=0 skd=
#@section packages files needs probes
for a; do
    [ "$a" = "--" ] && break
    if [ -e "$a" ] || [ -L "$a" ]; then
        case $a in *"$NL"*) pf=@@nl ;; esac
        [ "$pf" = @@nl ] || pf="$pf$a$NL" pn=$((pn + 1))
    else
        fa="${fa}absent	$a$NL"
    fi
done
if [ "$pf" = @@nl ]; then
    s files
    i=0 refs= n=0
    for a; do
        i=$((i + 1))
        [ "$a" = "--" ] && break
        if [ -e "$a" ] || [ -L "$a" ]; then
            refs="$refs \"\${$i}\"" n=$((n + 1))
        else
            printf 'absent\t%s\n' "$a"
        fi
    done
    if [ "$n" -gt 0 ]; then
        # refs names the parameters, "${1}" "${3}"...: no path goes through eval.
        eval "o=\$(stat --printf '%a\t%U\t%G\t%F\t%n\n' --$refs 2>/dev/null)"
        lc "$o"
        if [ "$lc" = "$n" ]; then
            printf '%s\n' "$o"
        else
            for a; do
                [ "$a" = "--" ] && break
                [ -e "$a" ] || [ -L "$a" ] || continue
                stat --printf '%a\t%U\t%G\t%F\t%n\n' -- "$a" 2>/dev/null || printf 'absent\t%s\n' "$a"
            done
        fi
    fi
    pf= pn=0 fa=@@done
fi
while [ $# -gt 0 ] && [ "$1" != "--" ]; do shift; done
[ "${1:-}" = "--" ] && shift
s packages
if [ $# -gt 0 ]; then
    if command -v dpkg-query >/dev/null 2>&1; then
        dpkg-query -W -f='${Package}\t${Status}\t${Version}\n' "$@" 2>/dev/null
    elif command -v rpm >/dev/null 2>&1; then
        rpm -q --qf '%{NAME}\tinstall ok installed\t%{VERSION}-%{RELEASE}\n' "$@" 2>/dev/null
    fi
    for p in "$@"; do printf 'asked\t%s\n' "$p"; done
fi
#@section kernelprep-config
# Kernel preparation: the kernel config options kubeadm's validator reads and those that
# show a module built in (kit.runner.kernel.modules.MODULE_CONFIG), from the first config
# where it looks: read once, for both, free space under the node's state directories, cgroup
# controllers with the running and next boot's command lines. A plain config is grep's
# to read: a few hundred kilobytes, which `read` would take a byte at a time (0.12 s of
# CPU for 100 kB under dash, grep 3 ms). gzip's answer is in memory: the shell picks its
# lines (kc), so that it costs one process too.
s kernelprep-config
KC='^[[:space:]]*CONFIG_(NAMESPACES|[A-Z]+_NS|CGROUPS|CGROUP_[A-Z0-9_]+|CPUSETS|MEMCG|INET|EXT4_FS|PROC_FS|NETFILTER_XT_[A-Z0-9_]+|IP_NF_[A-Z0-9_]+|FAIR_GROUP_SCHED|OVERLAY_FS|OVERLAYFS_FS|AUFS_FS|BLK_DEV_DM|CFS_BANDWIDTH|SECCOMP|SECCOMP_FILTER|BRIDGE_NETFILTER|IP_VS|IP_VS_RR|IP_VS_WRR|IP_VS_SH|NF_CONNTRACK)='
kc() { # LINE: whether it is a line KC matches
    x=${1#"${1%%[![:space:]]*}"}
    case $x in CONFIG_*=*) x=${x#CONFIG_} x=${x%%=*} ;; *) return 1 ;; esac
    case $x in
        NAMESPACES | CGROUPS | CPUSETS | MEMCG | INET | EXT4_FS | PROC_FS | FAIR_GROUP_SCHED | \
            OVERLAY_FS | OVERLAYFS_FS | AUFS_FS | BLK_DEV_DM | CFS_BANDWIDTH | SECCOMP | \
            SECCOMP_FILTER | BRIDGE_NETFILTER | IP_VS | IP_VS_RR | IP_VS_WRR | IP_VS_SH | NF_CONNTRACK)
            return 0
            ;;
        CGROUP_?* | NETFILTER_XT_?* | IP_NF_?*)
            x=${x#CGROUP_} x=${x#NETFILTER_XT_} x=${x#IP_NF_}
            case $x in *[!A-Z0-9_]*) return 1 ;; esac
            ;;
        [A-Z]*_NS) case ${x%_NS} in *[!A-Z]*) return 1 ;; esac ;;
        *) return 1 ;;
    esac
}
for p in /proc/config.gz "/boot/config-$kr" "/usr/src/linux-$kr/.config" /usr/src/linux/.config \
    "/usr/lib/modules/$kr/config" "/usr/lib/ostree-boot/config-$kr" "/usr/lib/kernel/config-$kr" \
    "/usr/src/linux-headers-$kr/.config" "/lib/modules/$kr/build/.config"; do
    if [ -e "$p" ]; then
        echo "@path=$p"
        case $p in
            *.gz)
                o=$(gzip -dc -- "$p" 2>/dev/null)
                IFS=$NL
                set -f
                # The names kc may take first, by case alone: a call per line costs more.
                for l in $o; do
                    case $l in
                        CONFIG_NAMESPACES=* | CONFIG_*_NS=* | CONFIG_CGROUP* | CONFIG_CPUSETS=* | \
                            CONFIG_MEMCG=* | CONFIG_INET=* | CONFIG_EXT4_FS=* | CONFIG_PROC_FS=* | \
                            CONFIG_NETFILTER_XT_* | CONFIG_IP_NF_* | CONFIG_FAIR_GROUP_SCHED=* | \
                            CONFIG_OVERLAY* | CONFIG_AUFS_FS=* | CONFIG_BLK_DEV_DM=* | \
                            CONFIG_CFS_BANDWIDTH=* | CONFIG_SECCOMP* | CONFIG_BRIDGE_NETFILTER=* | \
                            CONFIG_IP_VS* | CONFIG_NF_CONNTRACK=* | [[:space:]]*)
                            kc "$l" && printf '%s\n' "$l"
                            ;;
                    esac
                done
                set +f
                unset IFS
                ;;
            *) grep -E "$KC" -- "$p" 2>/dev/null ;;
        esac
        break
    fi
done
#@section kernelprep-df
# The free space under each directory, or under its nearest existing parent: one df for
# the three when it prints a line for each.
s kernelprep-df
dp=
for d in /var/lib/kubelet /var/lib/containerd /var/lib/etcd; do
    p=$d
    while [ ! -e "$p" ] && [ "$p" != / ]; do
        p=${p%/*}
        [ -n "$p" ] || p=/
    done
    dp="$dp$p$NL"
done
IFS=$NL
set -f
# shellcheck disable=SC2086 # split on newlines only
o=$(df -P -k -- $dp 2>/dev/null)
set +f
unset IFS
lc "$o"
hd=
[ "$lc" = 4 ] && hd=${o%%"$NL"*} o=${o#*"$NL"}
for d in /var/lib/kubelet /var/lib/containerd /var/lib/etcd; do
    p=${dp%%"$NL"*} dp=${dp#*"$NL"}
    printf '@path=%s\t%s\n' "$d" "$p"
    if [ -n "$hd" ]; then
        printf '%s\n%s\n' "$hd" "${o%%"$NL"*}"
        o=${o#*"$NL"}
    else
        df -P -k -- "$p" 2>/dev/null
    fi
done
#@section kernelprep-cgroup needs mounts
s kernelprep-cgroup
printf '@@fs\n'; [ -n "$cg" ] && echo "$cg"
printf '@@controllers\n'; c /sys/fs/cgroup/cgroup.controllers
printf '@@freezer\n'
for f in /sys/fs/cgroup/*/cgroup.freeze; do [ -e "$f" ] && { echo yes; break; }; done
printf '@@proc-cgroups\n'; c /proc/cgroups
printf '@@cmdline\n'; c /proc/cmdline
printf '@@grubby\n'; command -v grubby >/dev/null 2>&1 && grubby --info=DEFAULT 2>/dev/null
for f in /boot/grub/grub.cfg /boot/grub2/grub.cfg; do
    if [ -f "$f" ]; then
        printf '@@grub-cfg:%s\n' "$f"
        { while IFS= read -r l || [ -n "$l" ]; do
            x=${l#"${l%%[![:space:]]*}"}
            case $x in
                menuentry[[:space:]]* | linux[[:space:]]* | linuxefi[[:space:]]* | linux16[[:space:]]*)
                    printf '%s\n' "$l"
                    ;;
            esac
        done; } 2>/dev/null <"$f"
        break
    fi
done
#@state node
# Reads the node checks used to send one by one: each section prints what that read
# printed, between "@@begin" and "@@end" lines so that its text stays exact. The reads
# those checks make as root are made only when the gather runs as root; otherwise their
# section says "@@unprivileged" and the checks read through sudo themselves.
b() { s "$1"; echo @@begin; }
e() { printf '\n@@end\n'; }
priv() { [ "$uid" = 0 ] || { echo @@unprivileged; return 1; }; }
d() {
    for f in "$@"; do
        [ -f "$f" ] && [ -r "$f" ] && { printf '@@file:%s\n' "$f"; c "$f"; echo; }
    done
}
active() { # UNIT: into pv, its state as `systemctl is-active` prints it
    prop "$1" ActiveState
    pv=${pv#ActiveState=} pv=${pv%"$NL"}
}
envfiles() { # UNIT: into ef, its environment files (show -p EnvironmentFiles --value | read f _)
    prop "$1" EnvironmentFiles
    ef=
    IFS=$NL
    set -f
    for l in $pv; do
        words "${l#EnvironmentFiles=}"
        ef="$ef$w1$NL"
    done
    set +f
    unset IFS
}
uenv() {
    echo "@@unit:$1"
    sd || return 0
    prop "$1" Environment
    printf '%s' "$pv"
    envfiles "$1"
    IFS=$NL
    set -f
    for f in $ef; do
        unset IFS
        f=${f#-}
        [ -r "$f" ] && { printf '@@envfile:%s\n' "$f"; c "$f"; echo; }
    done
    set +f
    unset IFS
}
#@section hostprep-ufw needs node nft
# `ufw status` says "Status: inactive" where `iptables -L ufw-user-input -n` exits 1 (ufw's
# src/backend_iptables.py, get_status; its iptables is /usr/sbin/iptables). No such chain
# can exist where nft's ruleset names none (nu), ufw's iptables is iptables-nft (whose
# chains are nft's: it exits 1 for one nft does not hold) and no legacy table is loaded in
# this network namespace (ip_tables_names empty or absent): that is printed without
# starting ufw. Elsewhere ufw is asked: nft not asked or failing, a legacy table, or a
# legacy iptables, which loads its table first (exit 1) or cannot (exit 3: ufw's error).
# ufw stops with an error before its status where one of its files is not a file (its
# backend.py, _do_checks): then it is asked too, and says so. (The warnings it prints
# there, of owners and modes, are not said: they do not change "Status: inactive".)
UF="/etc/default/ufw /etc/ufw/ufw.conf /etc/ufw/user.rules /etc/ufw/before.rules
    /etc/ufw/after.rules /etc/ufw/user6.rules /etc/ufw/before6.rules /etc/ufw/after6.rules
    /lib/ufw/ufw-init"
s hostprep-ufw
priv && command -v ufw >/dev/null 2>&1 && {
    echo @@begin
    g 'ENABLED=*' /etc/ufw/ufw.conf
    echo @@status
    it=$nu
    if [ -n "$it" ] && [ -e /proc/net/ip_tables_names ]; then
        it= l=
        { IFS= read -r l || :; } 2>/dev/null </proc/net/ip_tables_names && [ -z "$l" ] && it=y
    fi
    [ -n "$it" ] && for f in $UF; do [ -f "$f" ] || it=; done
    if [ -n "$it" ] && [ /usr/sbin/iptables -ef /usr/sbin/xtables-nft-multi ]; then
        echo 'Status: inactive'
        echo rc=0
    else
        ufw status 2>&1
        echo "rc=$?"
    fi
    e
}
#@section hostprep-selinux-config needs node
b hostprep-selinux-config
c /etc/selinux/config || echo @@absent
e
#@section hostprep-nm needs node systemd
b hostprep-nm
PATH=$P0:/usr/sbin:/sbin
command -v NetworkManager >/dev/null 2>&1 && echo @@installed:yes
pv=
sd && active NetworkManager.service
echo "@@active:$pv"
d /etc/NetworkManager/NetworkManager.conf /etc/NetworkManager/conf.d/*.conf \
    /run/NetworkManager/conf.d/*.conf /usr/lib/NetworkManager/conf.d/*.conf
PATH=$P1
e
#@section hostprep-proxy needs node systemd
s hostprep-proxy
priv && {
    echo @@begin
    d /etc/environment /etc/profile /etc/profile.d/*.sh
    uenv containerd.service
    uenv kubelet.service
    e
}
#@section runtime-containerd-path needs node
# containerd: where it is, its config file (as root: it may hold registry credentials)
# and defaults, whether the CRI plugin answers on the default socket; the kubelet's unit
# and version.
b runtime-containerd-path
PATH=$P0
command -v containerd 2>/dev/null; echo "rc=$?"
PATH=$P1
e
#@state runtime
# containerd's defaults, the CRI plugin's answer and the kubelet's version come from the
# host's own programs, which may hang: one sub-shell runs those the host has, under one
# timeout for all (timeout signals its whole process group), and ends in the kubelet,
# which it execs. Each earlier answer ends in a line "@@rt=STATUS"; those the timeout cut
# short have none, and their status is the sub-shell's (124: timed out).
RT='
if [ -n "$3" ]; then PATH=$1; containerd config default 2>/dev/null; printf "\n@@rt=%s\n" "$?"; fi
if [ -n "$4" ]; then
    PATH=$2
    ctr --address "$4" plugins ls 2>/dev/null
    r=$?
    printf "\n@@rt=%s\n" "$r"
    [ "$r" = 0 ] || { ctr --address "$4" plugins ls 2>&1 >/dev/null; printf "\n@@rt=%s\n" "$?"; }
fi
[ -z "$5" ] || { PATH=$1; exec kubelet --version 2>/dev/null; }
'
rcd= rkb= rsk= ro= rr=0
PATH=$P0
command -v containerd >/dev/null 2>&1 && rcd=y
command -v kubelet >/dev/null 2>&1 && rkb=y
PATH=$P1
# The CRI plugin is asked as root only, where the socket is and ctr is.
[ "$uid" = 0 ] && [ -S /run/containerd/containerd.sock ] && command -v ctr >/dev/null 2>&1 &&
    rsk=/run/containerd/containerd.sock
if [ -n "$rcd$rsk$rkb" ]; then
    # shellcheck disable=SC2086 # T is the timeout command and its options
    ro=$($T sh -c "$RT" hostkit-runtime "$P0" "$P1" "$rcd" "$rsk" "$rkb")
    rr=$?
fi
rtp() { # into rv and rs, the sub-shell's next answer and its exit status
    case $ro in
        *"$NL@@rt="*)
            rv=${ro%%"$NL@@rt="*} ro=${ro#*"$NL@@rt="}
            rs=${ro%%"$NL"*}
            case $ro in *"$NL"*) ro=${ro#*"$NL"} ;; *) ro= ;; esac
            ;;
        *) rv=$ro rs=$rr ro= ;;
    esac
}
#@section runtime-config-default needs node runtime
b runtime-config-default
if [ -n "$rcd" ]; then
    rtp
    printf '%s' "$rv"
    [ "$rs" = 0 ] || echo @@absent
else
    echo @@absent
fi
e
#@section runtime-cri needs node runtime runtime-config-default
s runtime-cri
priv && {
    for p in /run/containerd/containerd.sock; do
        printf '@@socket:%s\n' "$p"
        if [ "$rsk" = "$p" ]; then
            echo @@begin
            rtp
            o=$rv r=$rs
            # as $(...) would have kept it: without its last newlines
            while :; do case $o in *"$NL") o=${o%"$NL"} ;; *) break ;; esac; done
            printf '%s\n@@rc=%s\n' "$o" "$r"
            if [ "$r" != 0 ]; then
                rtp
                o=$rv
                x=0
                IFS=$NL
                set -f
                for l in $o; do
                    x=$((x + 1))
                    [ "$x" -le 5 ] && printf '@@err:%s\n' "$l"
                done
                set +f
                unset IFS
            fi
            e
        elif [ -S "$p" ]; then
            echo @@noctr
        else
            echo @@nosocket
        fi
    done
}
#@section runtime-units needs node systemd units
s runtime-units
if sd; then
    active containerd.service
    case $pv in
        active | reloading | refreshing) echo containerd-active=0 ;;
        *) echo containerd-active=3 ;;
    esac
    case ${ue##*"${NL}containerd.service="} in
        enabled"$NL" | enabled-runtime"$NL" | static"$NL" | alias"$NL" | indirect"$NL" | generated"$NL")
            echo containerd-enabled=0
            ;;
        *) echo containerd-enabled=1 ;;
    esac
    prop kubelet.service LoadState UnitFileState
    printf '%s' "$pv"
    echo "@@kubelet-show-rc=$sr"
fi
#@section runtime-kubelet-version needs node runtime runtime-cri
b runtime-kubelet-version
# No kubelet: the 127 the shell (or timeout) would have said, without starting timeout.
if [ -n "$rkb" ]; then
    rtp
    [ -z "$rv" ] || printf '%s\n' "$rv"
    echo "rc=$rs"
else
    echo rc=127
fi
e
#@section ports needs node
# TCP listeners with their processes (ss as root sees every process), and the cgroup
# of each process, which names its systemd unit.
s ports
priv && command -v ss >/dev/null 2>&1 && {
    echo @@begin
    o=$(ss -Hltnp 2>/dev/null)
    r=$?
    printf '%s\n@@rc=%s\n' "$o" "$r"
    # grep -o 'pid=[0-9]*' | sort -u, and each one's last cgroup line.
    seen=' '
    while :; do
        case $o in *pid=*) o=${o#*pid=} ;; *) break ;; esac
        p=${o%%[!0-9]*}
        case $seen in *" $p "*) continue ;; esac
        seen="$seen$p "
        x=
        { while IFS= read -r l || [ -n "$l" ]; do x=$l; done; } 2>/dev/null <"/proc/$p/cgroup"
        printf '@@cgroup:%s\t%s\n' "$p" "$x"
    done
    e
}
#@section kubelet-files needs node systemd procs stat
# The kubelet as the CIS checks read it: its unit files, the environment files they may
# name, its config file and the client CA it names, in kit/remediations' dump format.
s kubelet-files
k=
if sd; then
    prop kubelet.service FragmentPath DropInPaths
    k=${pv%"$NL"}
    [ "$sr" = 0 ] && printf '@@show\n%s\n' "$k"
fi
#@state stat needs probes symlinks
# cfg TEXT: the words of TEXT that grep -o '--config\(-dir\)\{0,1\}[= ][^ "'\''\\]*' |
# tr ' ' '=' printed, added to cf (--config) and cdir (--config-dir).
cfg() {
    rest=$1
    while :; do
        case $rest in *--config*) rest=${rest#*--config} ;; *) return ;; esac
        case $rest in
            -dir[=\ ]*) w=--config-dir rest=${rest#-dir} ;;
            [=\ ]*) w=--config ;;
            *) continue ;;
        esac
        rest=${rest#?}
        x=${rest%%[ \"\'\\]*}
        rest=${rest#"$x"}
        # The word split as `for w in $(...)` split it (under the caller's set -f).
        # shellcheck disable=SC2086
        for w in $w=$x; do
            case $w in
                --config-dir=*) cdir="$cdir ${w#--config-dir=}" ;;
                --config=*) cf="$cf ${w#--config=}" ;;
            esac
        done
    done
}
# The stat lines of the probed files (pf), of each path of kf and the links' targets (lk),
# from one stat: GNU stat's %N under QUOTING_STYLE=literal is NAME -> TARGET for a link,
# NAME for any other file. Each line must be its file's in that shape; "/" last ends the
# answer with a line of its own (a capture drops the last newlines, a last target's
# too). Where the probed and kubelet's files' lines are not so, a stat with %n is asked
# for them, as before; where the links' are not, readlink (section targets). A kf line is
# "MODE OWNER GROUP".
FMT='%a\t%U\t%G\t%F\t%n\n'
# sl PATH: o's next line, stat's for PATH: its first four fields into sq, the target into
# sy (empty for a file that is no link); fails when the line is not PATH's.
sl() {
    l=${o%%"$NL"*} o=${o#*"$NL"}
    case $l in *"	"*"	"*"	"*"	"*) ;; *) return 1 ;; esac
    sy=${l#*"	"*"	"*"	"*"	"}
    sq=${l%"	$sy"}
    case $sy in
        "$1") sy= ;;
        "$1 -> "*) sy=${sy#"$1 -> "} ;;
        *) return 1 ;;
    esac
}
sk() {
    st= ps= lk= skd=y
    [ -n "$pf$kf$lz$rl" ] || return 0
    IFS=$NL
    set -f
    # shellcheck disable=SC2086 # split on newlines only
    o=$(QUOTING_STYLE=literal stat --printf '%a\t%U\t%G\t%F\t%N\n' -- $pf $kf $lz$rl / 2>/dev/null)
    o="$o$NL" sf= lf=
    for p in $pf; do sl "$p" && ps="$ps$sq	$p$NL" || sf=y; done
    for p in $kf; do
        sl "$p" || sf=y
        a=${sq%%"	"*} x=${sq#*"	"}
        l=${x#*"	"}
        st="$st$a ${x%%"	"*} ${l%%"	"*}$NL"
    done
    for p in $lz$rl; do { sl "$p" && [ -n "$sy" ] && lk="$lk$sy$NL"; } || lf=y; done
    { sl / && [ -z "$o" ]; } || lf=y
    [ -z "$lf" ] || lk=
    if [ -n "$sf" ] && [ -n "$pf$kf" ]; then
        st= ps=
        # shellcheck disable=SC2086 # split on newlines only
        o=$(stat --printf "$FMT" -- $pf $kf 2>/dev/null)
        lc "$pf$kf"
        sn=$lc
        lc "$o"
        if [ "$lc" = "$sn" ]; then
            o="$o$NL" x=$pn
            while [ "$x" -gt 0 ]; do ps="$ps${o%%"$NL"*}$NL" o=${o#*"$NL"} x=$((x - 1)); done
            for l in $o; do
                a=${l%%"	"*} l=${l#*"	"}
                x=${l%%"	"*} l=${l#*"	"}
                st="$st$a $x ${l%%"	"*}$NL"
            done
        else
            kf=
        fi
    fi
    set +f
    unset IFS
}
fp() { # the files section, from sk's answer or each file's own stat
    [ "$fa" = @@done ] && return 0
    s files
    printf '%s%s' "$fa" "$ps"
    [ -z "$ps" ] || return 0
    IFS=$NL
    set -f
    for a in $pf; do
        unset IFS
        stat --printf "$FMT" -- "$a" 2>/dev/null || printf 'absent\t%s\n' "$a"
    done
    set +f
    unset IFS
}
mode() { # PATH: its stat line, from sk's answer or its own stat
    tl=$kf tt=$st
    while [ -n "$tl" ]; do
        [ "${tl%%"$NL"*}" = "$1" ] && printf '%s\n' "${tt%%"$NL"*}" && return
        tl=${tl#*"$NL"} tt=${tt#*"$NL"}
    done
    stat -c '%a %U %G' -- "$1"
}
#@section kubelet-files
# walk DIR/: appends to dw, a line each, what `find DIR/ ! -type d -name '*.conf'` prints,
# spelled as it spells it: every entry under DIR, hidden ones too, whose name ends in .conf
# and that is not a directory (a link is not followed: one to a directory is listed), the
# directories' contents walked; an unreadable directory is empty to both. An entry the
# shell cannot tell is there (in a directory it may list but not search, where find knows
# types from the listing) sets du: find is asked. The globs are sorted; `set -f` is on
# where it is called. Recursive: a function's positional parameters are its own.
walk() {
    set +f
    set -- "$1" "$1"* "$1".*
    set -f
    for x; do
        [ "$x" != "$1" ] || continue
        case ${x##*/} in . | ..) continue ;; esac
        if [ -d "$x" ] && [ ! -L "$x" ]; then
            walk "$x/"
        elif [ -e "$x" ] || [ -L "$x" ]; then
            case ${x##*/} in *.conf) dw="$dw$x$NL" ;; esac
        else
            # a glob that matched nothing stays itself
            case $x in "$1*" | "$1.*") ;; *) du=y ;; esac
        fi
    done
}
kf=
priv && {
    echo @@begin
    u=
    IFS=$NL
    set -f
    for l in $k; do
        case $l in
            FragmentPath=*) u="$u${l#FragmentPath=}$NL" ;;
            DropInPaths=*) u="$u${l#DropInPaths=}$NL" ;;
        esac
    done
    set +f
    unset IFS
    ef=
    sd && envfiles kubelet.service
    vf=$ef
    # The running kubelet's and kube-proxy's command lines, one argument a line
    # (remediations.kubelet's _PROC; kube-bench reads `ps -fC`): tr turns their NULs
    # into newlines, which the shell cannot read. Two of them (a kubelet and a kube-proxy)
    # from one paste -z instead: each file's arguments joined by newlines, then a NUL,
    # which the capture drops (dash, bash and busybox ash do; bash says so, on stderr);
    # its stdin, a line of its own between the two, tells them apart. Without that line
    # (busybox's paste has no -z, a process ended), tr reads each.
    pa= ka= pc= i=0
    for x in $kp; do i=$((i + 1)); done
    if [ "$i" = 2 ]; then
        x=${kp# } y=${kp##* }
        { pc=$(paste -z -s -d '\n' -- "/proc/${x%%:*}/cmdline" - "/proc/${y%%:*}/cmdline" <<'EOF'

@@hostkit-next
EOF
); } 2>/dev/null || pc=
        case $pc in *"$NL@@hostkit-next$NL"*) ;; *) pc= ;; esac
    fi
    i=0
    for x in $kp; do
        p=${x%%:*} n=${x#*:} i=$((i + 1))
        if [ -z "$pc" ]; then
            a=$(tr '\000' '\n' <"/proc/$p/cmdline" 2>/dev/null)
        elif [ "$i" = 1 ]; then
            a=${pc%%"$NL@@hostkit-next$NL"*}
            # as $(...) would have kept it: without its last newlines
            while :; do case $a in *"$NL") a=${a%"$NL"} ;; *) break ;; esac; done
        else
            a=${pc#*"$NL@@hostkit-next$NL"}
        fi
        pa="$pa@@hostkit-kubelet-proc $p $n$NL$a$NL$NL"
        [ "$n" = kubelet ] || continue
        j=$a ka="$ka @@hostkit-kubelet-proc $p $n "
        while :; do
            case $j in
                *"$NL"*) ka="$ka${j%%"$NL"*} " j=${j#*"$NL"} ;;
                *) ka="$ka$j " && break ;;
            esac
        done
    done
    while :; do case $pa in *"$NL") pa=${pa%"$NL"} ;; *) break ;; esac; done
    [ -n "$pa" ] && printf '%s\n' "$pa"
    # kube-bench's $proxykubeconfig, only its metricsBindAddress lines (_METRICS): the rest
    # may hold kube-proxy's client key.
    if [ -e /etc/kubernetes/proxy.conf ]; then
        printf '@@hostkit-kubelet-metrics %s\n' /etc/kubernetes/proxy.conf
        { while IFS= read -r l || [ -n "$l" ]; do
            case ${l#"${l%%[![:space:]]*}"} in metricsBindAddress:*) printf '%s\n' "$l" ;; esac
        done; } 2>/dev/null </etc/kubernetes/proxy.conf
    else
        printf '@@hostkit-kubelet-metrics %s @@absent\n' /etc/kubernetes/proxy.conf
    fi
    # The config file the kubelet's --config names (kubespray: /etc/kubernetes/kubelet-config.yaml)
    # and its --config-dir, from the unit and environment files that may set them and the
    # running kubelet.
    set -f
    cf= cdir=
    # shellcheck disable=SC2086 # unit paths and env files are words without spaces
    for f in $u $vf /var/lib/kubelet/kubeadm-flags.env /etc/default/kubelet /etc/sysconfig/kubelet; do
        { while IFS= read -r l || [ -n "$l" ]; do cfg "$l"; done; } 2>/dev/null <"$f"
    done
    cfg "$ka"
    # The client CA file the config files name, as sed -n 's/^[[:space:]]*clientCAFile:
    # [[:space:]]*["']\{0,1\}\([^"' ]*\).*/\1/p' prints it.
    ca=
    # shellcheck disable=SC2086
    for f in /var/lib/kubelet/config.yaml $cf; do
        { while IFS= read -r l || [ -n "$l" ]; do
            l=${l#"${l%%[![:space:]]*}"}
            case $l in clientCAFile:*) ;; *) continue ;; esac
            l=${l#clientCAFile:} l=${l#"${l%%[![:space:]]*}"}
            case $l in [\"\']*) l=${l#?} ;; esac
            ca="$ca ${l%%[\"\' ]*}"
        done; } 2>/dev/null <"$f"
    done
    # The --config-dir drop-ins: the directory's *.conf files (remediations.kubelet's _LIST),
    # as find "$d"/ ! -type d -name '*.conf' lists them, in the walk's order (every reader
    # sorts them as the kubelet does: kubelet.dropin_order).
    dd=
    for d in $cdir; do
        printf '@@hostkit-kubelet-dir %s' "$d"
        if [ -d "$d" ]; then
            dw= du=
            walk "$d"/
            f=${dw%"$NL"}
            [ -z "$du" ] || f=$(find "$d"/ ! -type d -name '*.conf' 2>/dev/null)
            # shellcheck disable=SC2086
            for x in $f; do printf ' %s' "$x"; done
            dd="$dd $f"
        else
            printf ' @@absent'
        fi
        echo
    done
    # shellcheck disable=SC2086 # unit paths and env files are words without spaces
    for p in /etc/containerd/config.toml $u $vf /var/lib/kubelet/kubeadm-flags.env \
        /etc/default/kubelet /etc/sysconfig/kubelet /var/lib/kubelet/config.yaml $cf $dd \
        /etc/kubernetes/pki/ca.crt $ca; do
        case $p in /*) [ -e "$p" ] && kf="$kf$p$NL" ;; esac
    done
    sk
    set -f
    # shellcheck disable=SC2086 # unit paths and env files are words without spaces
    for p in $u $vf /var/lib/kubelet/kubeadm-flags.env /etc/default/kubelet /etc/sysconfig/kubelet \
        /var/lib/kubelet/config.yaml $cf $dd /etc/kubernetes/pki/ca.crt $ca; do
        case $p in /*) ;; *) continue ;; esac
        if [ -e "$p" ]; then
            printf '@@hostkit-kubelet %s ' "$p"
            mode "$p"
            c "$p"
            echo
        else
            printf '@@hostkit-kubelet %s absent\n' "$p"
        fi
    done
    set +f
    e
}
#@section files needs stat
# The probed files' stat (and the links' targets), when the kubelet's files were not read.
[ -n "$skd" ] || sk
fp
#@state targets needs symlinks stat
# Where the links lead: from sk's stat (lk, a line per link in their order); where that
# could not say (busybox's stat quotes names, a target holds a newline), from one readlink
# for all of them, as it prints a line per link; where that does not either (busybox's
# takes one link), each is asked alone when printed (target).
[ -n "$skd" ] || sk
rt= tz= ra= rv=/etc/resolv.conf
if [ -n "$lz$rl" ]; then
    lc "$lz$rl"
    x=$lc
    if [ -n "$lk" ]; then
        o=${lk%"$NL"} lc=$x
    else
        IFS=$NL
        set -f
        # shellcheck disable=SC2086 # split on newlines only
        o=$(readlink -- $lz$rl 2>/dev/null)
        set +f
        unset IFS
        lc "$o"
    fi
    if [ "$lc" = "$x" ]; then
        o="$o$NL"
        [ -z "$lz" ] || tz=${o%%"$NL"*} o=${o#*"$NL"}
        tl=$rl
        while [ -n "$tl" ]; do
            canon "${tl%%"$NL"*}" "${o%%"$NL"*}"
            # A path holding a newline (readlink -f's, for a link to a link), which this
            # list cannot hold.
            case $cv in *"$NL"*) rt= ra=y && break ;; esac
            rt="$rt$cv$NL" tl=${tl#*"$NL"} o=${o#*"$NL"}
        done
    else
        [ -z "$lz" ] || tz=$(readlink /etc/localtime 2>/dev/null)
        ra=y
    fi
fi
target() { # LINK: into tv, where it leads, from the answer above or its own readlink -f
    if [ -n "$ra" ]; then
        tv=$(readlink -f -- "$1" 2>/dev/null)
        return 0
    fi
    tl=$rl tt=$rt tv=
    while [ -n "$tl" ]; do
        [ "${tl%%"$NL"*}" = "$1" ] && tv=${tt%%"$NL"*} && return
        tl=${tl#*"$NL"} tt=${tt#*"$NL"}
    done
}
#@section timezone needs targets
s timezone
echo "link=$tz"
c /etc/timezone
#@section boot-files needs targets
s boot-files
# shellcheck disable=SC2086 # the globs above
for f in $BOOT; do
    # A link is named with its target: /dev/null masks a file, 99-sysctl.conf leads to
    # /etc/sysctl.conf.
    [ -L "$f" ] && target "$f" && printf '@@link:%s\t%s\n' "$f" "$tv"
    [ -f "$f" ] && [ -r "$f" ] && { printf '@@file:%s\n' "$f"; c "$f"; echo; }
done
#@section hostprep-resolv needs node systemd targets
s hostprep-resolv
priv && {
    echo @@begin
    # readlink -f: a link's target, or the file's own canonical path.
    if [ -L "$rv" ]; then target "$rv"; else
        tv=$rv x=$PWD
        cd -P /etc 2>/dev/null && tv=${PWD%/}/resolv.conf
        cd "$x" 2>/dev/null || cd /
    fi
    echo "@@link:$tv"
    pv=
    sd && active systemd-resolved.service
    echo "@@resolved:$pv"
    d /etc/resolv.conf /run/systemd/resolve/resolv.conf /var/lib/kubelet/config.yaml
    e
}
#@section runtime-config needs node stat
# containerd's config file, with its mode from the stat above.
s runtime-config
priv && {
    echo @@begin
    p=/etc/containerd/config.toml
    if [ -e "$p" ]; then mode "$p" && c "$p"; else echo absent; fi
    e
}
#@section modules-boot
# Kernel modules at boot (checks/test_kernel.py k8s.kernel.module): whether /proc/modules
# reads, /sys/module (built-in modules with parameters are there too), the running kernel's
# config lines for the options kit.runner.kernel.modules.MODULE_CONFIG names, and the
# modprobe.d files libkmod reads (systemd-modules-load applies their blacklist and install
# lines at boot).
s modules-boot
[ -r /proc/modules ] && echo @@proc-modules-readable
echo @@sys-module
for f in /sys/module/*; do
    { [ -e "$f" ] || [ -L "$f" ]; } && printf '%s\n' "${f##*/}"
done
for f in /etc/modprobe.d/*.conf /run/modprobe.d/*.conf /usr/local/lib/modprobe.d/*.conf \
    /usr/lib/modprobe.d/*.conf /lib/modprobe.d/*.conf; do
    [ -f "$f" ] && [ -r "$f" ] && { printf '@@file:%s\n' "$f"; c "$f"; echo; }
done
#@section end
s end
