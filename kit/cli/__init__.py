"""The `hostkit` command: a thin front over pytest and the kit's own tools (kit.cli.main),
and the one set of exit codes they all share (kit.cli.codes)."""
