# hostkit facts: one POSIX sh script, one answer. Every section starts with a
# line "@@hostkit:NAME"; the controller parses the raw text. Each probe is
# tolerant of a missing tool or file: it prints nothing and the fact is unknown.
export LC_ALL=C
# The login's own PATH, for the reads that must find what its commands would.
P0=$PATH
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
s() { printf '\n@@hostkit:%s\n' "$1"; }

s os-release
cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
s meminfo
grep '^MemTotal:' /proc/meminfo 2>/dev/null
s cpu
nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null
s init
echo "pid1=$(cat /proc/1/comm 2>/dev/null)"
[ -d /run/systemd/system ] && echo systemd-booted
[ -d /run/openrc ] && echo openrc
[ -d /etc/init.d ] && echo init.d
s executables
for n in ip iptables mount nsenter ebtables ethtool socat tc touch conntrack crictl kubelet \
    swapoff modprobe sysctl systemctl chronyc timedatectl firewall-cmd ufw nft \
    apt-get dnf yum rpm dpkg-query update-rc.d chkconfig rc-service rc-update service \
    hostnamectl hostname visudo chpasswd useradd usermod groupadd ss curl wget; do
    printf '%s=' "$n"; command -v "$n" 2>/dev/null || echo
done
s selinux
[ -d /sys/fs/selinux ] && [ -r /sys/fs/selinux/enforce ] && echo "enforce=$(cat /sys/fs/selinux/enforce)"
[ -e /etc/selinux/config ] && echo config
s apparmor
cat /sys/module/apparmor/parameters/enabled 2>/dev/null
s procs
grep -hx -e firewalld -e chronyd -e systemd-timesyn -e ntpd /proc/[0-9]*/comm 2>/dev/null
s ufw
grep -s '^ENABLED=' /etc/ufw/ufw.conf
s nft
command -v nft >/dev/null 2>&1 && { nft list ruleset 2>/dev/null; echo "rc=$?"; }
s iptables
command -v iptables >/dev/null 2>&1 && { iptables -S 2>/dev/null; echo "rc=$?"; }
s swaps
cat /proc/swaps 2>/dev/null
s modules
if [ -r /proc/modules ]; then cut -d' ' -f1 /proc/modules; else echo "@absent"; fi
s modules-builtin
b="/lib/modules/$(uname -r 2>/dev/null)/modules.builtin"
if [ -r "$b" ]; then sed 's#.*/##' "$b"; else echo "@absent"; fi
s cgroup
stat -fc %T /sys/fs/cgroup 2>/dev/null
s links
ls -1 /sys/class/net 2>/dev/null
s addrs
ip -o addr show 2>/dev/null
s route4
ip -4 route show default 2>/dev/null
s route6
ip -6 route show default 2>/dev/null
for f in tcp tcp6 udp udp6; do
    s "net-$f"
    cat "/proc/net/$f" 2>/dev/null
done
s timezone
echo "link=$(readlink /etc/localtime 2>/dev/null)"
cat /etc/timezone 2>/dev/null
s timesync
[ -d /run/systemd/system ] && command -v timedatectl >/dev/null 2>&1 &&
    echo "ntpsynchronized=$(timedatectl show -p NTPSynchronized --value 2>/dev/null)"
# Without systemd, chrony still says whether it tracks a source.
command -v chronyc >/dev/null 2>&1 &&
    chronyc -n tracking 2>/dev/null | sed -n 's/^Leap status *: */chrony-leap=/p'
# Issue 23: timedatectl needs D-Bus, which minimal images lack. systemd-timesyncd touches
# this file on each successful synchronisation (systemd-timesyncd.service(8)); /run is
# cleared at boot, so it says "synchronised since boot".
if [ -d /run/systemd/system ]; then
    if [ -e /run/systemd/timesync/synchronized ]; then echo timesyncd-synchronized=yes
    else echo timesyncd-synchronized=no; fi
fi
s units
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    for u in firewalld.service chrony.service chronyd.service systemd-timesyncd.service \
        ntp.service ntpd.service ntpsec.service openntpd.service swap.target; do
        printf '%s=%s\n' "$u" "$(systemctl is-enabled -- "$u" 2>/dev/null)"
    done
fi
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
s mounts
cat /proc/self/mounts 2>/dev/null
s sysctls
grep -r . /proc/sys 2>/dev/null
s hostname-addresses
getent hosts "$(cat /proc/sys/kernel/hostname 2>/dev/null)" 2>/dev/null
s boot-files
for f in /etc/fstab /etc/modules /etc/modules-load.d/*.conf /run/modules-load.d/*.conf \
    /usr/local/lib/modules-load.d/*.conf /usr/lib/modules-load.d/*.conf /lib/modules-load.d/*.conf \
    /etc/sysctl.d/*.conf /run/sysctl.d/*.conf /usr/local/lib/sysctl.d/*.conf \
    /usr/lib/sysctl.d/*.conf /lib/sysctl.d/*.conf /etc/sysctl.conf \
    /etc/systemd/zram-generator.conf /run/systemd/zram-generator.conf \
    /usr/local/lib/systemd/zram-generator.conf /usr/lib/systemd/zram-generator.conf \
    /etc/systemd/zram-generator.conf.d/*.conf /run/systemd/zram-generator.conf.d/*.conf \
    /usr/local/lib/systemd/zram-generator.conf.d/*.conf \
    /usr/lib/systemd/zram-generator.conf.d/*.conf; do
    # A link is named with its target: /dev/null masks a file, 99-sysctl.conf leads to
    # /etc/sysctl.conf.
    [ -L "$f" ] && printf '@@link:%s\t%s\n' "$f" "$(readlink -f -- "$f" 2>/dev/null)"
    [ -f "$f" ] && [ -r "$f" ] && { printf '@@file:%s\n' "$f"; cat "$f"; echo; }
done
# Probes come as arguments: files to stat, then "--", then packages to query.
s files
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    stat --printf '%a\t%U\t%G\t%F\t%n\n' -- "$1" 2>/dev/null || printf 'absent\t%s\n' "$1"
    shift
done
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
# Kernel preparation: the kernel config options kubeadm's validator reads and those that
# show a module built in (kit.runner.kernel.modules.MODULE_CONFIG), from the first config
# where it looks: read once, for both, free space under the node's state directories, cgroup
# controllers with the running and next boot's command lines, and sysctls whose value is
# empty (which the grep of /proc/sys above leaves out).
s kernelprep-config
r=$(uname -r 2>/dev/null)
for p in /proc/config.gz "/boot/config-$r" "/usr/src/linux-$r/.config" /usr/src/linux/.config \
    "/usr/lib/modules/$r/config" "/usr/lib/ostree-boot/config-$r" "/usr/lib/kernel/config-$r" \
    "/usr/src/linux-headers-$r/.config" "/lib/modules/$r/build/.config"; do
    if [ -e "$p" ]; then
        echo "@path=$p"
        case $p in *.gz) gzip -dc -- "$p" ;; *) cat -- "$p" ;; esac 2>/dev/null |
            grep -E '^[[:space:]]*CONFIG_(NAMESPACES|[A-Z]+_NS|CGROUPS|CGROUP_[A-Z0-9_]+|CPUSETS|MEMCG|INET|EXT4_FS|PROC_FS|NETFILTER_XT_[A-Z0-9_]+|IP_NF_[A-Z0-9_]+|FAIR_GROUP_SCHED|OVERLAY_FS|OVERLAYFS_FS|AUFS_FS|BLK_DEV_DM|CFS_BANDWIDTH|SECCOMP|SECCOMP_FILTER|BRIDGE_NETFILTER|IP_VS|IP_VS_RR|IP_VS_WRR|IP_VS_SH|NF_CONNTRACK)='
        break
    fi
done
s kernelprep-df
for d in /var/lib/kubelet /var/lib/containerd /var/lib/etcd; do
    p=$d
    while [ ! -e "$p" ] && [ "$p" != / ]; do p=$(dirname -- "$p"); done
    printf '@path=%s\t%s\n' "$d" "$p"
    df -P -k -- "$p" 2>/dev/null
done
s kernelprep-cgroup
printf '@@fs\n'; stat -fc %T /sys/fs/cgroup 2>/dev/null
printf '@@controllers\n'; cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null
printf '@@freezer\n'
for f in /sys/fs/cgroup/*/cgroup.freeze; do [ -e "$f" ] && { echo yes; break; }; done
printf '@@proc-cgroups\n'; cat /proc/cgroups 2>/dev/null
printf '@@cmdline\n'; cat /proc/cmdline 2>/dev/null
printf '@@grubby\n'; command -v grubby >/dev/null 2>&1 && grubby --info=DEFAULT 2>/dev/null
for c in /boot/grub/grub.cfg /boot/grub2/grub.cfg; do
    if [ -f "$c" ]; then
        printf '@@grub-cfg:%s\n' "$c"
        grep -E '^[[:space:]]*(menuentry|linux|linuxefi|linux16)[[:space:]]' -- "$c" 2>/dev/null
        break
    fi
done
s kernelprep-sysctl-empty
grep -rL . /proc/sys 2>/dev/null | while read -r f; do cat -- "$f" >/dev/null 2>&1 && echo "$f"; done
# Reads the node checks used to send one by one: each section prints what that read
# printed, between "@@begin" and "@@end" lines so that its text stays exact. The reads
# those checks make as root are made only when the gather runs as root; otherwise their
# section says "@@unprivileged" and the checks read through sudo themselves.
b() { s "$1"; echo @@begin; }
e() { printf '\n@@end\n'; }
# systemctl without a running systemd answers nothing, slowly: it is asked only under systemd.
sd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }
priv() { [ "$(id -u 2>/dev/null)" = 0 ] || { echo @@unprivileged; return 1; }; }
# Programs the host ships (kubelet, containerd, ctr) may hang; one that does must not hold
# the whole answer. 124 is timeout's exit code when it had to stop the program.
tm() {
    if command -v timeout >/dev/null 2>&1; then timeout -k 2 10 "$@"; else "$@"; fi
}
d() {
    for f in "$@"; do
        [ -f "$f" ] && [ -r "$f" ] && { printf '@@file:%s\n' "$f"; cat "$f"; echo; }
    done
}
uenv() {
    echo "@@unit:$1"
    sd || return 0
    systemctl show -p Environment "$1" 2>/dev/null
    systemctl show -p EnvironmentFiles --value "$1" 2>/dev/null | while read -r f _; do
        f=${f#-}
        [ -r "$f" ] && { printf '@@envfile:%s\n' "$f"; cat "$f"; echo; }
    done
}
s hostprep-ufw
priv && command -v ufw >/dev/null 2>&1 && {
    echo @@begin
    grep -s '^ENABLED=' /etc/ufw/ufw.conf; echo @@status; ufw status 2>&1; echo "rc=$?"
    e
}
b hostprep-selinux-config
cat /etc/selinux/config 2>/dev/null || echo @@absent
e
b hostprep-nm
(PATH=$P0:/usr/sbin:/sbin
    command -v NetworkManager >/dev/null 2>&1 && echo @@installed:yes
    echo "@@active:$(sd && systemctl is-active NetworkManager 2>/dev/null)"
    d /etc/NetworkManager/NetworkManager.conf /etc/NetworkManager/conf.d/*.conf \
        /run/NetworkManager/conf.d/*.conf /usr/lib/NetworkManager/conf.d/*.conf)
e
s hostprep-proxy
priv && {
    echo @@begin
    d /etc/environment /etc/profile /etc/profile.d/*.sh
    uenv containerd.service
    uenv kubelet.service
    e
}
s hostprep-resolv
priv && {
    echo @@begin
    echo "@@link:$(readlink -f /etc/resolv.conf)"
    echo "@@resolved:$(sd && systemctl is-active systemd-resolved 2>/dev/null)"
    d /etc/resolv.conf /run/systemd/resolve/resolv.conf /var/lib/kubelet/config.yaml
    e
}
# containerd: where it is, its config file (as root: it may hold registry credentials)
# and defaults, whether the CRI plugin answers on the default socket; the kubelet's unit
# and version.
b runtime-containerd-path
(PATH=$P0; command -v containerd 2>/dev/null; echo "rc=$?")
e
s runtime-config
priv && {
    echo @@begin
    c=/etc/containerd/config.toml
    if [ -e "$c" ]; then stat -c "%a %U %G" -- "$c" && cat -- "$c"; else echo absent; fi
    e
}
b runtime-config-default
(PATH=$P0; command -v containerd >/dev/null 2>&1 && tm containerd config default 2>/dev/null) ||
    echo @@absent
e
s runtime-cri
priv && {
    for p in /run/containerd/containerd.sock; do
        printf '@@socket:%s\n' "$p"
        if [ -S "$p" ] && command -v ctr >/dev/null 2>&1; then
            echo @@begin
            o=$(tm ctr --address "$p" plugins ls 2>/dev/null); r=$?
            printf '%s\n@@rc=%s\n' "$o" "$r"
            [ "$r" = 0 ] || tm ctr --address "$p" plugins ls 2>&1 >/dev/null | sed -n 's/^/@@err:/;1,5p'
            e
        elif [ -S "$p" ]; then
            echo @@noctr
        else
            echo @@nosocket
        fi
    done
}
s runtime-units
if sd; then
    systemctl is-active --quiet -- containerd; echo "containerd-active=$?"
    systemctl is-enabled --quiet -- containerd; echo "containerd-enabled=$?"
    systemctl show -p LoadState -p UnitFileState -- kubelet.service 2>/dev/null
    echo "@@kubelet-show-rc=$?"
fi
b runtime-kubelet-version
(PATH=$P0; tm kubelet --version 2>/dev/null; echo "rc=$?")
e
# TCP listeners with their processes (ss as root sees every process), and the cgroup
# of each process, which names its systemd unit.
s ports
priv && command -v ss >/dev/null 2>&1 && {
    echo @@begin
    o=$(ss -Hltnp 2>/dev/null); r=$?
    printf '%s\n@@rc=%s\n' "$o" "$r"
    printf '%s\n' "$o" | grep -o 'pid=[0-9]*' | sort -u | while read -r p; do
        p=${p#pid=}
        printf '@@cgroup:%s\t%s\n' "$p" "$(cat "/proc/$p/cgroup" 2>/dev/null | tail -n 1)"
    done
    e
}
# The kubelet as the CIS checks read it: its unit files, the environment files they may
# name, its config file and the client CA it names, in kit/remediations' dump format.
s kubelet-files
k=
if sd; then
    k=$(systemctl show -p FragmentPath -p DropInPaths -- kubelet.service 2>/dev/null) &&
        printf '@@show\n%s\n' "$k"
fi
priv && {
    echo @@begin
    u=$(printf '%s\n' "$k" | sed -n 's/^FragmentPath=//p;s/^DropInPaths=//p')
    v=$(sd && systemctl show -p EnvironmentFiles --value kubelet.service 2>/dev/null |
        while read -r f _; do printf '%s\n' "${f#-}"; done)
    # The running kubelet's and kube-proxy's command lines, one argument a line
    # (remediations.kubelet's _PROC; kube-bench reads `ps -fC`); `read` is a builtin, so
    # no process is started per /proc entry.
    pa=$(for d in /proc/[0-9]*; do
        c=; read -r c 2>/dev/null <"$d/comm"
        case $c in kubelet | kube-proxy)
            printf '@@hostkit-kubelet-proc %s %s\n' "${d#/proc/}" "$c"
            tr '\000' '\n' <"$d/cmdline"; echo ;;
        esac
    done)
    ka=
    if [ -n "$pa" ]; then
        printf '%s\n' "$pa"
        ka=$(printf '%s\n' "$pa" | sed -n '/^@@hostkit-kubelet-proc [0-9]* kubelet$/,/^@@hostkit-kubelet-proc/p' | tr '\n' ' ')
    fi
    # kube-bench's $proxykubeconfig, only its metricsBindAddress lines (_METRICS): the rest
    # may hold kube-proxy's client key.
    if [ -e /etc/kubernetes/proxy.conf ]; then
        printf '@@hostkit-kubelet-metrics %s\n' /etc/kubernetes/proxy.conf
        sed -n '/^[[:space:]]*metricsBindAddress:/p' -- /etc/kubernetes/proxy.conf
    else
        printf '@@hostkit-kubelet-metrics %s @@absent\n' /etc/kubernetes/proxy.conf
    fi
    # The config file the kubelet's --config names (kubespray: /etc/kubernetes/kubelet-config.yaml)
    # and its --config-dir, from the running kubelet and the unit and environment files that
    # may set them: one pipeline, split by the shell.
    set -f
    cf= cdir=
    # shellcheck disable=SC2086 # unit paths and env files are words without spaces
    for w in $({ cat -- $u $v /var/lib/kubelet/kubeadm-flags.env /etc/default/kubelet \
        /etc/sysconfig/kubelet 2>/dev/null; printf '%s\n' "$ka"; } |
        grep -o -- '--config\(-dir\)\{0,1\}[= ][^ "'\''\\]*' | tr ' ' '='); do
        case $w in
            --config-dir=*) cdir="$cdir ${w#--config-dir=}" ;;
            --config=*) cf="$cf ${w#--config=}" ;;
        esac
    done
    # shellcheck disable=SC2086
    ca=$(sed -n 's/^[[:space:]]*clientCAFile:[[:space:]]*["'\'']\{0,1\}\([^"'\'' ]*\).*/\1/p' \
        /var/lib/kubelet/config.yaml $cf 2>/dev/null)
    # The --config-dir drop-ins: the directory's *.conf files (remediations.kubelet's _LIST).
    dd=
    for d in $cdir; do
        printf '@@hostkit-kubelet-dir %s' "$d"
        if [ -d "$d" ]; then
            f=$(find "$d"/ ! -type d -name '*.conf' 2>/dev/null | tr '\n' ' ')
            for x in $f; do printf ' %s' "$x"; done
            dd="$dd $f"
        else
            printf ' @@absent'
        fi
        echo
    done
    # shellcheck disable=SC2086 # unit paths and env files are words without spaces
    for p in $u $v /var/lib/kubelet/kubeadm-flags.env /etc/default/kubelet /etc/sysconfig/kubelet \
        /var/lib/kubelet/config.yaml $cf $dd /etc/kubernetes/pki/ca.crt $ca; do
        case $p in /*) ;; *) continue ;; esac
        if [ -e "$p" ]; then
            printf '@@hostkit-kubelet %s ' "$p"; stat -c '%a %U %G' -- "$p"
            cat -- "$p" 2>/dev/null; echo
        else
            printf '@@hostkit-kubelet %s absent\n' "$p"
        fi
    done
    set +f
    e
}
# Kernel modules at boot (checks/test_kernel.py k8s.kernel.module): whether /proc/modules
# reads, /sys/module (built-in modules with parameters are there too), the running kernel's
# config lines for the options kit.runner.kernel.modules.MODULE_CONFIG names, and the
# modprobe.d files libkmod reads (systemd-modules-load applies their blacklist and install
# lines at boot).
s modules-boot
[ -r /proc/modules ] && echo @@proc-modules-readable
echo @@sys-module
ls -1 /sys/module 2>/dev/null
for f in /etc/modprobe.d/*.conf /run/modprobe.d/*.conf /usr/local/lib/modprobe.d/*.conf \
    /usr/lib/modprobe.d/*.conf /lib/modprobe.d/*.conf; do
    [ -f "$f" ] && [ -r "$f" ] && { printf '@@file:%s\n' "$f"; cat "$f"; echo; }
done
s end
