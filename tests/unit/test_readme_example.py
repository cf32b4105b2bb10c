from kit.catalog import describe as catalog

EXAMPLE = catalog.ROOT / "docs" / "examples" / "test_site_sshd.py"


def test_readme_shows_the_tested_example_verbatim():
    readme = (catalog.ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Writing a check\n", 1)[1].split("\n## ", 1)[0]
    assert f"```python\n{EXAMPLE.read_text(encoding='utf-8')}```\n" in section
