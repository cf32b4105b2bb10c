import os
import stat
from pathlib import Path

import pytest

from kit.errors import KitValueError
from kit.runner import templates
from tests.local.recording import RecordingConnection

TEMPLATE = "listen {{ port }}\n{% for h in hosts %}server {{ h }}\n{% endfor %}"


def test_render_to_string_from_text_and_from_a_file(tmp_path):
    data = {"port": 8080, "hosts": ["a", "b"]}
    assert templates.render_to_string(TEMPLATE, data) == "listen 8080\nserver a\nserver b\n"
    path = tmp_path / "conf.j2"
    path.write_text("{% include 'part.j2' %}x={{ x }}\n")
    (tmp_path / "part.j2").write_text("# <not escaped> & kept\n")
    assert templates.render_to_string(path, {"x": 0}) == "# <not escaped> & kept\nx=0\n"


def test_an_undefined_name_is_an_error_naming_it():
    with pytest.raises(KitValueError, match="hosts"):
        templates.render_to_string(TEMPLATE, {"port": 1})
    with pytest.raises(KitValueError, match="template"):
        templates.render_to_string("{% if %}", {})


def test_render_writes_once_with_mode_and_honours_dry_run(tmp_path):
    conn = RecordingConnection()
    dest = tmp_path / "app.conf"
    data = {"port": 1, "hosts": []}
    plan = templates.render(conn, TEMPLATE, data, str(dest), mode="0640", dry_run=True)
    # Not world-readable, so the plan shows digests, not the content.
    assert plan.changed and "not world-readable; sha256 (absent) -> " in plan.diff
    assert "listen" not in plan.diff and not dest.exists()
    public = templates.render(conn, TEMPLATE, data, str(dest), mode="0644", dry_run=True)
    assert "+listen 1" in public.diff
    assert not conn.writes()
    assert templates.render(conn, TEMPLATE, data, str(dest), mode="0640").changed
    assert dest.read_text() == "listen 1\n" and stat.S_IMODE(os.stat(dest).st_mode) == 0o640
    conn.reset()
    assert not templates.render(conn, TEMPLATE, data, str(dest), mode="0640").changed
    assert not conn.writes()
    source = tmp_path / "app.conf.j2"
    source.write_text("listen {{ port }}\n")
    change = templates.render(conn, Path(source), {"port": 2}, str(dest))
    assert change.changed and dest.read_text() == "listen 2\n"
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o640
