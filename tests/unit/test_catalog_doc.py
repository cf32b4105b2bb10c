from kit import catalog


def test_readme_lists_the_catalog_as_it_is():
    readme = (catalog.ROOT / "README.md").read_text(encoding="utf-8")
    section = catalog.markdown(catalog.ROOT / "checks")
    assert catalog.refreshed(readme, section) == readme, "run: python -m kit.catalog --write"


def test_every_profile_appears_with_its_checks():
    section = catalog.markdown(catalog.ROOT / "checks")
    assert "### kubernetes-node\n" in section
    assert "### kubernetes-control-plane\n" in section
    assert "`k8s.port.free` | Port Kubernetes needs is not in use: `6443`" in section
    ids = {meta.id for meta in catalog.checks(catalog.ROOT / "checks")}
    assert {"k8s.swap.off", "k8s.sysctl", "k8s.kernel.module", "k8s.port.free"} <= ids
