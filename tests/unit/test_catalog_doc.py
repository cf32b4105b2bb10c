from kit.catalog import describe as catalog


def test_readme_lists_the_catalog_as_it_is():
    readme = (catalog.ROOT / "README.md").read_text(encoding="utf-8")
    section = catalog.markdown(catalog.ROOT / "checks")
    assert catalog.refreshed(readme, section) == readme, "run: python -m kit.catalog --write"


def test_every_profile_appears_with_its_checks():
    section = catalog.markdown(catalog.ROOT / "checks")
    assert "### kubernetes-node\n" in section
    assert "### kubernetes-control-plane\n" in section
    assert "`k8s.port.owner` | Port of a joined node is held by its expected owner" in section
    assert "(before kubeadm init/join): `10250=kubelet`, `6443=kube-apiserver`" in section
    ids = {meta.id for meta in catalog.checks(catalog.ROOT / "checks")}
    assert {"k8s.swap.off", "k8s.sysctl", "k8s.kernel.module", "k8s.port.free"} <= ids


def test_each_check_shows_its_fixs_disruption_and_reboot():
    section = catalog.markdown(catalog.ROOT / "checks")
    assert "| id | what | severity | fix | disruption | reboot | source |" in section
    # free_port declares high disruption and no reboot; a check without a fix shows neither.
    assert "| error | yes | high | no | kubeadm: checks.go PortOpenCheck.Check" in section
    assert "| error | - | - | - | kubeadm: checks.go FileAvailableCheck.Check" in section
