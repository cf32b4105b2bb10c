"""docs/runner-operations.md is the runner's operations as the code has them: regenerate it
with `python -m kit.runner.reference --write` when this fails."""

from kit import runner
from kit.runner import reference


def test_the_page_is_current():
    assert reference.PAGE.read_text(encoding="utf-8") == reference.page(), (
        "docs/runner-operations.md is stale: run python -m kit.runner.reference --write"
    )


def test_every_operation_has_its_section_with_its_docstring():
    text = reference.page()
    names = [name for name, _ in reference.operations()]
    assert {"set_sysctl", "write_file", "disable_swap", "install_packages"} <= set(names)
    for name, function in reference.operations():
        assert f"## `{name}`" in text
        if function.__doc__ and function.__doc__.strip():
            assert function.__doc__.strip().splitlines()[0].strip() in text
    assert "dry run: same reads, no write" in text
    classes = {n for n in runner._HOMES if isinstance(getattr(runner, n), type)}
    assert set(names) == set(runner._HOMES) - classes


def test_every_operation_says_what_it_does():
    # The page is all a remediation author reads: an operation without a docstring is a
    # hole in it.
    bare = [
        name for name, function in reference.operations() if not (function.__doc__ or "").strip()
    ]
    assert bare == []
