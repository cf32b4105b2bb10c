"""jinja2 templates rendered on the controller and written to the host atomically.

A `str` is template text; a `pathlib.Path` is a template file on the
controller. Undefined names raise instead of rendering as empty strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit.connection import Connection
from kit.errors import KitValueError
from kit.runner.change import Change
from kit.runner.files import write_file

if TYPE_CHECKING:
    import jinja2


def render_to_string(template: str | Path, data: Mapping[str, Any]) -> str:
    """The rendered text; KitValueError naming the missing name when data lacks one."""
    # Imported on first use: a run that renders no template does not load it.
    import jinja2

    if isinstance(template, Path):
        loader: jinja2.BaseLoader = jinja2.FileSystemLoader(str(template.parent))
        source_name = template.name
    else:
        loader = jinja2.DictLoader({"<template>": template})
        source_name = "<template>"
    # Configuration files, not HTML: escaping would corrupt them.
    env = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701
    )
    try:
        return env.get_template(source_name).render(dict(data))
    except jinja2.UndefinedError as exc:
        raise KitValueError(f"template {source_name}: {exc.message}") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise KitValueError(f"template {source_name}:{exc.lineno}: {exc.message}") from exc


def render(
    conn: Connection,
    template: str | Path,
    data: Mapping[str, Any],
    dest: str,
    *,
    mode: str | int | None = None,
    owner: str | None = None,
    group: str | None = None,
    sudo: bool = False,
    dry_run: bool = False,
) -> Change:
    """Render template with data into dest; nothing is written when dest already holds it."""
    text = render_to_string(template, data)
    return write_file(
        conn, dest, text, mode=mode, owner=owner, group=group, sudo=sudo, dry_run=dry_run
    )
