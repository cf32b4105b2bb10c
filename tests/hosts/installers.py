"""Scenario builders: a container made to look exactly as an installer leaves a node.

Each builder writes what the installer writes, from the installer's own templates and
defaults (the source file and version named above each one), and returns the installer
files it wrote, so a test can compare every one's sha256 before and after a --fix.
No kubelet binary is served here: the running stand-in of tests/hosts/standins.py takes
its place, so /proc/PID/cmdline carries the installer's flags as a real kubelet's would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.hosts import standins

KUBELET_VERSION = "1.33.4"
# kubespray v2.28.1 (roles/kubespray-defaults): kube_version 1.32.8, its newest supported.
KUBESPRAY_KUBELET_VERSION = "1.32.8"


@dataclass
class Node:
    """What a builder made: the installer's files (path -> text) and packages."""

    files: dict[str, str] = field(default_factory=dict)
    packages: tuple[str, ...] = ()
    binaries: tuple[str, ...] = ()  # installed outside any package, as a binary install does

    @property
    def paths(self) -> list[str]:
        return sorted({*self.files, *self.binaries})


def write(conn, path: str, text: str, mode: str = "0644") -> None:
    conn.run("mkdir -p %s", path.rsplit("/", 1)[0]).check()
    conn.put(text.encode(), path, mode=mode, owner="root", group="root")


def sha256s(conn, paths: list[str]) -> dict[str, str]:
    """Each path's sha256 as the host has it now ("absent" when it is not there)."""
    found = {}
    for path in paths:
        done = conn.run("sha256sum %s", path)
        found[path] = done.stdout.split()[0] if done.ok else "absent"
    return found


def packages_installed(conn, names: tuple[str, ...]) -> dict[str, str]:
    """dpkg's status of each package: "install ok installed" when it is installed."""
    status = {}
    for name in names:
        done = conn.run("dpkg-query -W -f '${Status}' %s", name)
        status[name] = done.stdout.strip() if done.ok else "not installed"
    return status


def installed(conn, names: tuple[str, ...]) -> set[str]:
    """Which of names dpkg has installed (not merely unpacked, or removed with its
    configuration files left)."""
    return {n for n, s in packages_installed(conn, names).items() if s == "install ok installed"}


def apt_install(conn, *names: str) -> None:
    conn.run(
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq"
        " --no-install-recommends %s >/dev/null" + " %s" * (len(names) - 1),
        *names,
    ).check()


def install_running_kubelet(conn, path: str, version: str = KUBELET_VERSION) -> None:
    conn.put(standins.running_kubelet(version), path, mode="0755", owner="root")


# --- kubeadm ---------------------------------------------------------------------------
# The kubelet package's unit, as kubernetes/release packages it for pkgs.k8s.io
# (cmd/krel/templates/latest/kubelet/kubelet.service, v1.33).
KUBEADM_KUBELET_UNIT = """\
[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
"""
# The kubeadm package's drop-in (cmd/krel/templates/latest/kubeadm/10-kubeadm.conf,
# v1.33), installed under /usr/lib/systemd/system/kubelet.service.d.
KUBEADM_DROPIN = """\
# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the KUBELET_KUBEADM_ARGS variable dynamically
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# This is a file that the user can use for overrides of the kubelet args as a last resort. Preferably, the user should use
# the .NodeRegistration.KubeletExtraArgs object in the configuration files instead. KUBELET_EXTRA_ARGS should be sourced from this file.
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
"""  # noqa: E501
# What `kubeadm join` writes to /var/lib/kubelet/config.yaml: the cluster's
# KubeletConfiguration, defaulted by kubeadm (cmd/kubeadm/app/componentconfigs/kubelet.go,
# v1.33: authentication webhook, anonymous off, the CA, Webhook authorization,
# cgroupDriver systemd, healthz on localhost, rotateCertificates) and marshalled by
# phases/kubelet/config.go: every duration it leaves unset is written as `0s`, and the
# kubelet defaults a zero duration (streamingConnectionIdleTimeout among them) at start.
KUBEADM_CONFIG = """\
apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  anonymous:
    enabled: false
  webhook:
    cacheTTL: 0s
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: 0s
    cacheUnauthorizedTTL: 0s
cgroupDriver: systemd
clusterDNS:
- 10.96.0.10
clusterDomain: cluster.local
containerRuntimeEndpoint: ""
cpuManagerReconcilePeriod: 0s
crashLoopBackOff: {}
evictionPressureTransitionPeriod: 0s
fileCheckFrequency: 0s
healthzBindAddress: 127.0.0.1
healthzPort: 10248
httpCheckFrequency: 0s
imageMaximumGCAge: 0s
imageMinimumGCAge: 0s
kind: KubeletConfiguration
logging:
  flushFrequency: 0
  options:
    json:
      infoBufferSize: "0"
    text:
      infoBufferSize: "0"
  verbosity: 0
memorySwap: {}
nodeStatusReportFrequency: 0s
nodeStatusUpdateFrequency: 0s
rotateCertificates: true
runtimeRequestTimeout: 0s
shutdownGracePeriod: 0s
shutdownGracePeriodCriticalPods: 0s
staticPodPath: /etc/kubernetes/manifests
streamingConnectionIdleTimeout: 0s
syncFrequency: 0s
volumeStatsAggPeriod: 0s
"""
# phases/kubelet/flags.go (v1.33): the CRI endpoint and the pause image, written by join.
KUBEADM_FLAGS = (
    'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/'
    'containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10"\n'
)
# The kubelet package's /etc/default/kubelet (kubernetes/release, deb postinst): empty extras.
KUBELET_DEFAULT = "KUBELET_EXTRA_ARGS=\n"
# kubeadm's kubeconfig after the TLS bootstrap: a client certificate the kubelet rotates.
KUBELET_KUBECONFIG = """\
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: bm90IGEgcmVhbCBDQQ==
    server: https://10.0.0.1:6443
  name: default-cluster
contexts:
- context:
    cluster: default-cluster
    namespace: default
    user: default-auth
  name: default-context
current-context: default-context
kind: Config
preferences: {}
users:
- name: default-auth
  user:
    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem
    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem
"""
CA_CERT = "-----BEGIN CERTIFICATE-----\nnot a real certificate\n-----END CERTIFICATE-----\n"
# The Kubernetes documentation's containerd set-up for kubeadm ("Container Runtimes",
# v1.33): the distribution's package, `containerd config default` written as its
# config.toml, then SystemdCgroup switched on with sed, as the page shows. The sandbox
# image stays the package's default (pause:3.6 on Debian 12), as on such nodes.
KUBEADM_CONTAINERD_SETUP = (
    "mkdir -p /etc/containerd && containerd config default > /etc/containerd/config.toml"
    " && sed -i 's/SystemdCgroup = false/SystemdCgroup = true/' /etc/containerd/config.toml"
)


def kubeadm_worker(conn) -> Node:
    """A worker after `kubeadm join` (v1.33): the kubelet and kubeadm packages' files,
    join's config.yaml, flags file, kubeconfig and CA, an empty manifests directory
    (a worker runs no static pods), Debian's containerd set up as the docs say, and the
    kubelet running with the flags the unit and its drop-in give it."""
    apt_install(conn, "containerd")
    node = Node(
        files={
            "/usr/lib/systemd/system/kubelet.service": KUBEADM_KUBELET_UNIT,
            "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf": KUBEADM_DROPIN,
            "/var/lib/kubelet/config.yaml": KUBEADM_CONFIG,
            "/var/lib/kubelet/kubeadm-flags.env": KUBEADM_FLAGS,
            "/etc/default/kubelet": KUBELET_DEFAULT,
            "/etc/kubernetes/kubelet.conf": KUBELET_KUBECONFIG,
            "/etc/kubernetes/pki/ca.crt": CA_CERT,
        },
        packages=("containerd",),
        binaries=("/usr/bin/kubelet",),
    )
    modes = {"/etc/kubernetes/kubelet.conf": "0600", "/var/lib/kubelet/config.yaml": "0644"}
    for path, text in node.files.items():
        write(conn, path, text, modes.get(path, "0644"))
    conn.run(KUBEADM_CONTAINERD_SETUP).check()
    toml = conn.run("cat /etc/containerd/config.toml").check().stdout
    assert "SystemdCgroup = true" in toml, "containerd config default had no SystemdCgroup"
    node.files["/etc/containerd/config.toml"] = toml
    install_running_kubelet(conn, "/usr/bin/kubelet")
    conn.run(
        "mkdir -p /etc/kubernetes/manifests /var/lib/kubelet/pki"
        " && rm -f /etc/kubernetes/bootstrap-kubelet.conf"
        " && systemctl daemon-reload && systemctl enable -q kubelet containerd"
        " && systemctl restart containerd kubelet"
    ).check()
    return node


# --- kubespray -------------------------------------------------------------------------
# roles/kubernetes/node/templates/kubelet.service.j2 (kubespray v2.28).
KUBESPRAY_KUBELET_UNIT = """\
[Unit]
Description=Kubernetes Kubelet Server
Documentation=https://github.com/GoogleCloudPlatform/kubernetes
After=containerd.service
Wants=containerd.service

[Service]
EnvironmentFile=-/etc/kubernetes/kubelet.env
ExecStart=/usr/local/bin/kubelet \\
\t\t$KUBE_LOGTOSTDERR \\
\t\t$KUBE_LOG_LEVEL \\
\t\t$KUBELET_API_SERVER \\
\t\t$KUBELET_ADDRESS \\
\t\t$KUBELET_PORT \\
\t\t$KUBELET_HOSTNAME \\
\t\t$KUBELET_ARGS \\
\t\t$DOCKER_SOCKET \\
\t\t$KUBELET_NETWORK_PLUGIN \\
\t\t$KUBELET_VOLUME_PLUGIN \\
\t\t$KUBELET_CLOUDPROVIDER
Restart=always
RestartSec=10s

[Install]
WantedBy=multi-user.target
"""
# roles/kubernetes/node/templates/kubelet.env.v1beta1.j2 (v2.28.1), kubespray's defaults:
# the flags the config file cannot carry, --config naming kubespray's own path.
KUBESPRAY_KUBELET_ENV = """\
KUBE_LOG_LEVEL="--v=2"
KUBELET_ADDRESS="--node-ip=10.77.1.2"
KUBELET_HOSTNAME="--hostname-override=node1"


KUBELET_ARGS="--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf \\
--config=/etc/kubernetes/kubelet-config.yaml \\
--kubeconfig=/etc/kubernetes/kubelet.conf \\
--runtime-cgroups=/system.slice/containerd.service \\
 "
KUBELET_CLOUDPROVIDER=""

PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
"""
# roles/kubernetes/node/templates/kubelet-config.v1beta1.yaml.j2 (v2.28.1), rendered with
# kubespray's defaults (kube_cert_dir /etc/kubernetes/ssl, nodelocaldns 169.254.25.10,
# kubelet_protect_kernel_defaults true, kube_read_only_port 0).
KUBESPRAY_CONFIG = """\
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
nodeStatusUpdateFrequency: "10s"
failSwapOn: True
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: True
  x509:
    clientCAFile: /etc/kubernetes/ssl/ca.crt
authorization:
  mode: Webhook
staticPodPath: /etc/kubernetes/manifests
cgroupDriver: systemd
containerLogMaxFiles: 5
containerLogMaxSize: 10Mi
containerRuntimeEndpoint : unix:///var/run/containerd/containerd.sock
maxPods: 110
podPidsLimit: -1
address: "10.77.1.2"
readOnlyPort: 0
healthzPort: 10248
healthzBindAddress: "127.0.0.1"
kubeletCgroups: /system.slice/kubelet.service
clusterDomain: cluster.local
protectKernelDefaults: true
rotateCertificates: true
clusterDNS:
- 169.254.25.10
kubeReserved:
  cpu: "100m"
  memory: "256Mi"
  ephemeral-storage: "500Mi"
  pid: "1000"
systemReserved:
  cpu: "500m"
  memory: "512Mi"
  ephemeral-storage: "500Mi"
  pid: "1000"
resolvConf: "/etc/resolv.conf"
eventRecordQPS: 50
shutdownGracePeriod: 60s
shutdownGracePeriodCriticalPods: 20s
maxParallelImagePulls: 1
"""
# roles/kubernetes/node/templates/manifests/nginx-proxy.manifest.j2 (v2.28.1), written
# as manifests/nginx-proxy.yml: the static pod a worker runs to reach the API servers,
# written BEFORE `kubeadm join`. No probes: they render only when
# loadbalancer_apiserver_healthcheck_port is set, which the defaults leave unset. The
# annotation is the sha1 of the node's /etc/nginx/nginx.conf (any value here).
NGINX_PROXY = """\
apiVersion: v1
kind: Pod
metadata:
  name: nginx-proxy
  namespace: kube-system
  labels:
    addonmanager.kubernetes.io/mode: Reconcile
    k8s-app: kube-nginx
  annotations:
    nginx-cfg-checksum: "4bd5bb2c5b3bb2f1a0e3bb33be6c8f4bc4a0a1f2"
spec:
  hostNetwork: true
  dnsPolicy: ClusterFirstWithHostNet
  nodeSelector:
    kubernetes.io/os: linux
  priorityClassName: system-node-critical
  containers:
  - name: nginx-proxy
    image: docker.io/library/nginx:1.27.4-alpine
    imagePullPolicy: IfNotPresent
    resources:
      requests:
        cpu: 25m
        memory: 32M
    volumeMounts:
    - mountPath: /etc/nginx
      name: etc-nginx
      readOnly: true
  volumes:
  - name: etc-nginx
    hostPath:
      path: /etc/nginx
"""
# roles/container-engine/containerd/templates/config.toml.j2 (v2.28.1, containerd 2.0.6),
# rendered with kubespray's defaults: config version 3, the CRI runtime and image
# plugins under their containerd 2 names, runc from kubespray's binary install.
_KUBESPRAY_CONTAINERD_BODY = """\

root = "/var/lib/containerd"
state = "/run/containerd"
oom_score = 0



[grpc]
  max_recv_message_size = 16777216
  max_send_message_size = 16777216

[debug]
  address = ""
  level = "info"
  format = ""
  uid = 0
  gid = 0

[metrics]
  address = ""
  grpc_histogram = false

[plugins]
  [plugins."io.containerd.cri.v1.runtime"]
    max_container_log_line_size = 16384
    enable_unprivileged_ports = false
    enable_unprivileged_icmp = false
    enable_selinux = false
    disable_apparmor = false
    tolerate_missing_hugetlb_controller = true
    disable_hugetlb_controller = true

   [plugins."io.containerd.cri.v1.runtime".containerd]
     default_runtime_name = "runc"
     [plugins."io.containerd.cri.v1.runtime".containerd.runtimes]
       [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
         runtime_type = "io.containerd.runc.v2"
         runtime_engine = ""
         runtime_root = ""
         base_runtime_spec = "/etc/containerd/cri-base.json"

         [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
           SystemdCgroup = true
           BinaryName = "/usr/local/bin/runc"

  [plugins."io.containerd.cri.v1.images"]
    snapshotter = "overlayfs"
    discard_unpacked_layers = true
    image_pull_progress_timeout = "5m"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "registry.k8s.io/pause:3.10"
  [plugins."io.containerd.cri.v1.images".registry]
    config_path = "/etc/containerd/certs.d"

  [plugins."io.containerd.nri.v1.nri"]
    disable = false

"""


def kubespray_containerd_toml(version: int) -> str:
    """Version 3 as v2.28.1's template renders it; version 4 as the template at kubespray's
    main (a72ea49b2, in no release yet) renders it for containerd 2.3: the same plugin
    layout, without runtime_engine and runtime_root, and without discard_unpacked_layers,
    which it writes only for containerd before 2.1."""
    if version not in (3, 4):
        raise ValueError(f"kubespray writes containerd config version 3 or 4, not {version}")
    body = _KUBESPRAY_CONTAINERD_BODY
    if version == 4:
        dropped = ("runtime_engine = ", "runtime_root = ", "discard_unpacked_layers = ")
        body = "".join(
            line for line in body.splitlines(keepends=True) if not line.strip().startswith(dropped)
        )
    return f"version = {version}\n" + body


# roles/container-engine/containerd/templates/containerd.service.j2 (v2.28).
KUBESPRAY_CONTAINERD_UNIT = """\
[Unit]
Description=containerd container runtime
Documentation=https://containerd.io
After=network.target local-fs.target

[Service]
ExecStartPre=-/sbin/modprobe overlay
ExecStart=/usr/local/bin/containerd

Type=notify
Delegate=yes
KillMode=process
Restart=always
RestartSec=5
LimitNPROC=infinity
LimitCORE=infinity
LimitNOFILE=1048576
TasksMax=infinity
OOMScoreAdjust=-999

[Install]
WantedBy=multi-user.target
"""
# roles/kubernetes/preinstall/tasks/0080-system-configurations.yml (v2.28):
# sysctl_file_path's default, and the settings kubespray writes into it.
KUBESPRAY_SYSCTL_PATH = "/etc/sysctl.d/99-sysctl.conf"
KUBESPRAY_SYSCTL = """\
net.ipv4.ip_forward=1
kernel.keys.root_maxbytes=25000000
kernel.keys.root_maxkeys=1000000
kernel.panic=10
kernel.panic_on_oops=1
vm.overcommit_memory=1
vm.panic_on_oom=0
net.ipv4.ip_local_reserved_ports=30000-32767
net.bridge.bridge-nf-call-iptables=1
net.bridge.bridge-nf-call-arptables=1
net.bridge.bridge-nf-call-ip6tables=1
"""
# roles/container-engine/containerd-common / kubernetes/preinstall: modules-load file.
# Written by roles/kubernetes/node/tasks/main.yml with no newline at the end.
KUBESPRAY_MODULES = "br_netfilter"


# The modes kubespray's tasks give its files (v2.28.1: node/tasks/kubelet.yml,
# loadbalancer/nginx-proxy.yml, container-engine/containerd/tasks/main.yml); 0644 otherwise.
KUBESPRAY_MODES = {
    "/etc/systemd/system/kubelet.service": "0600",
    "/etc/kubernetes/kubelet.env": "0600",
    "/etc/kubernetes/kubelet-config.yaml": "0600",
    "/etc/kubernetes/manifests/nginx-proxy.yml": "0640",
    "/etc/containerd/config.toml": "0640",
}


def kubespray_sysctl_file(conn) -> tuple[str, str]:
    """Where kubespray's settings land and the file's whole text after it wrote them.

    Ansible's sysctl module writes to the real path of sysctl_file_path: on Debian 11
    and 12 /etc/sysctl.d/99-sysctl.conf is procps' link to /etc/sysctl.conf, so the
    settings are appended to the distribution's commented file; Debian 13 has neither,
    and the file is made."""
    done = conn.run("readlink -f %s", KUBESPRAY_SYSCTL_PATH).check()
    path = done.stdout.strip() or KUBESPRAY_SYSCTL_PATH
    existing = conn.run("cat %s", path)
    before = existing.stdout if existing.ok else ""
    if before and not before.endswith("\n"):
        before += "\n"
    return path, before + KUBESPRAY_SYSCTL


def kubespray_node(conn, containerd_version: int = 3) -> Node:
    """A kubespray node before `kubeadm join` (v2.28): containerd and runc as binaries in
    /usr/local/bin (kubespray downloads release binaries, no package: here Debian's own,
    unpacked from the image's repository), the kubelet's unit, env file and config at
    /etc/kubernetes/kubelet-config.yaml, the nginx-proxy static pod, kubespray's sysctl
    file, and no kubelet.conf yet; the kubelet enabled but not running (it starts when
    join hands it a kubeconfig)."""
    sysctl_path, sysctl_text = kubespray_sysctl_file(conn)
    node = Node(
        files={
            "/etc/systemd/system/kubelet.service": KUBESPRAY_KUBELET_UNIT,
            "/etc/kubernetes/kubelet.env": KUBESPRAY_KUBELET_ENV,
            "/etc/kubernetes/kubelet-config.yaml": KUBESPRAY_CONFIG,
            "/etc/kubernetes/manifests/nginx-proxy.yml": NGINX_PROXY,
            "/etc/kubernetes/ssl/ca.crt": CA_CERT,
            "/etc/containerd/config.toml": kubespray_containerd_toml(containerd_version),
            "/etc/systemd/system/containerd.service": KUBESPRAY_CONTAINERD_UNIT,
            sysctl_path: sysctl_text,
            "/etc/modules-load.d/kubespray-br_netfilter.conf": KUBESPRAY_MODULES,
        },
        binaries=(
            "/usr/local/bin/kubelet",
            "/usr/local/bin/containerd",
            "/usr/local/bin/containerd-shim-runc-v2",
            "/usr/local/bin/runc",
        ),
    )
    for path, text in node.files.items():
        write(conn, path, text, KUBESPRAY_MODES.get(path, "0644"))
    install_running_kubelet(conn, "/usr/local/bin/kubelet", KUBESPRAY_KUBELET_VERSION)
    conn.run(
        "set -e; d=$(mktemp -d); for p in /srv/hostkit-repo/containerd_*.deb"
        " /srv/hostkit-repo/runc_*.deb; do dpkg-deb -x $p $d; done;"
        " install -m 0755 $d/usr/bin/containerd $d/usr/bin/containerd-shim-runc-v2"
        " /usr/local/bin/; install -m 0755 $(ls $d/usr/sbin/runc $d/usr/bin/runc 2>/dev/null"
        " | head -n 1) /usr/local/bin/runc; rm -rf $d;"
        " rm -f /etc/kubernetes/kubelet.conf /etc/kubernetes/bootstrap-kubelet.conf;"
        " systemctl daemon-reload; systemctl enable -q kubelet containerd"
    ).check()
    return node


# --- Docker's packages ------------------------------------------------------------------
def docker_node(conn) -> Node:
    """A node whose containerd came with Docker: `apt-get install docker-ce` from the
    image's repository, which pulls in containerd.io (kit/testhosts/dockerpkg.py) and
    its /etc/containerd/config.toml with the CRI plugin disabled."""
    from kit.testhosts import dockerpkg

    apt_install(conn, "docker-ce")
    return Node(
        files={"/etc/containerd/config.toml": dockerpkg.CONTAINERD_TOML},
        packages=("containerd.io", "docker-ce"),
    )


# --- minimal, hardened, time daemons, cloud-init -----------------------------------------
def minimal_without_dbus(conn) -> Node:
    """A minimal image: no D-Bus (Debian's minimal cloud and container images leave it
    out; systemd runs without it, timedatectl and hostnamectl cannot)."""
    conn.run(
        "systemctl stop dbus.socket dbus.service 2>/dev/null;"
        " DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq dbus dbus-daemon dbus-bin"
        " dbus-system-bus-common dbus-session-bus-common >/dev/null 2>&1;"
        " ! dpkg-query -W -f '${Status}' dbus 2>/dev/null | grep -q 'ok installed'"
        # the socket file the stopped daemon left in /run; a boot makes none
        " && rm -f /run/dbus/system_bus_socket"
    ).check()
    return Node()


# What hardening guides write (CIS Debian Linux benchmark 1.1.1.x, "install NAME /bin/false"
# and "blacklist NAME" for each unneeded filesystem and protocol), plus a hardened image's
# line against bridge netfilter: modprobe still loads a blacklisted module by name, but
# systemd-modules-load, which loads /etc/modules-load.d at boot, does not.
HARDENING_PATH = "/etc/modprobe.d/hardening.conf"
HARDENING = """\
install cramfs /bin/false
blacklist cramfs
install freevxfs /bin/false
blacklist freevxfs
install dccp /bin/false
blacklist dccp
install sctp /bin/false
blacklist sctp
blacklist br_netfilter
install overlay /bin/false
"""


def hardened(conn) -> Node:
    node = Node(files={HARDENING_PATH: HARDENING})
    write(conn, HARDENING_PATH, HARDENING)
    return node


def time_daemon_stopped(conn, daemon: str) -> Node:
    """chrony or ntpsec installed (which removes systemd-timesyncd: all three provide and
    conflict with time-daemon) but stopped and disabled, as an image built with one and
    switched off leaves it."""
    units = {"chrony": "chrony.service", "ntpsec": "ntpsec.service"}
    if daemon not in units:
        raise ValueError(f"no time daemon {daemon!r}; one of {sorted(units)}")
    apt_install(conn, daemon)
    conn.run("systemctl disable -q --now %s", units[daemon]).check()
    return Node(packages=(daemon,))


# cloud-init's templates/hosts.debian.tmpl (cloud-init 25.1), rendered for the host's name
# as cc_update_etc_hosts does when manage_etc_hosts is true; it does so at every boot.
CLOUD_HOSTS_TEMPLATE = """\
## template:jinja
{#
This file (/etc/cloud/templates/hosts.debian.tmpl) is only utilized
if enabled in cloud-config.  Specifically, in order to enable it
you need to add the following to config:
   manage_etc_hosts: True
-#}
# Your system has configured 'manage_etc_hosts' as True.
# As a result, if you wish for changes to this file to persist
# then you will need to either
# a.) make changes to the master file in /etc/cloud/templates/hosts.debian.tmpl
# b.) change or remove the value of 'manage_etc_hosts' in
#     /etc/cloud/cloud.cfg or cloud-config from user-data
#
{# The value '{{hostname}}' will be replaced with the local-hostname -#}
127.0.1.1 {{fqdn}} {{hostname}}
127.0.0.1 localhost

# The following lines are desirable for IPv6 capable hosts
::1 localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
"""
CLOUD_CFG_PATH = "/etc/cloud/cloud.cfg.d/90-hostkit-manage-etc-hosts.cfg"
CLOUD_CFG = "manage_etc_hosts: true\n"


def render_cloud_hosts(hostname: str, template: str = CLOUD_HOSTS_TEMPLATE) -> str:
    """template as cloud-init renders it for hostname: its header line and jinja
    comments gone, {{fqdn}} and {{hostname}} filled in."""
    lines: list[str] = []
    skipping = False
    for line in template.splitlines():
        if line.startswith("## template:"):
            continue
        if line.startswith("{#"):
            skipping = not line.rstrip().endswith("#}")
            continue
        if skipping:
            skipping = not line.rstrip().endswith("#}")
            continue
        lines.append(line.replace("{{fqdn}}", hostname).replace("{{hostname}}", hostname))
    return "\n".join(lines) + "\n"


def cloud_init_hosts(conn) -> Node:
    hostname = conn.run("hostname").check().stdout.strip()
    node = Node(
        files={
            "/etc/cloud/templates/hosts.debian.tmpl": CLOUD_HOSTS_TEMPLATE,
            CLOUD_CFG_PATH: CLOUD_CFG,
            "/etc/hosts": render_cloud_hosts(hostname),
        }
    )
    for path, text in node.files.items():
        write(conn, path, text)
    return node
