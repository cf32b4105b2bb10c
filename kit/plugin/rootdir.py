"""The rootdir and ini file a run would have had, had pytest known hostkit's options.

pytest finds its rootdir and ini file from the run's path arguments before it loads the
plugins of entry points (hostkit's and testinfra's). Until then it does not know their
options, so the value of `--known-hosts FILE` (a space, not `=`) reads as one more path:
the rootdir becomes the common ancestor of FILE and the tests, every progress line starts
with `../`, and an ini file above FILE may be read instead of the project's.

Once the plugins are loaded, pytest parses again and the value is the option's. `settle`
runs then, before any conftest is loaded, and works the setup out again from the path
arguments of that parse; when it differs, the run takes it instead, with the right ini
file's addopts in place of the wrong one's.
"""

from __future__ import annotations

import pytest
from _pytest.config.findpaths import determine_setup


def settle(config: pytest.Config, args: list[str]) -> None:
    """Redo pytest's setup from the arguments as parsed with every plugin's options known.

    args is the list pytest parses next (in place: its ini addopts lead it).
    """
    ns = config.known_args_namespace
    if ns.inifilename:
        return  # -c FILE chose the ini file and rootdir, whatever the paths
    rootpath, inipath, inicfg, ignored = determine_setup(
        inifile=None,
        override_ini=ns.override_ini,
        args=ns.file_or_dir,
        rootdir_cmd_arg=ns.rootdir or None,
        invocation_dir=config.invocation_params.dir,
    )
    if (rootpath, inipath) == (config.rootpath, config.inipath):
        return
    old_root, old_ini = config.rootpath, config.inipath
    wrong_addopts = _addopts(config)
    # pytest keeps these in private attributes, and offers no way to set them again.
    config._rootpath = rootpath
    config._inipath = inipath
    config._inicfg = inicfg
    config._ignored_config_files = ignored
    config._inicache.clear()
    config._parser.extra_info["rootdir"] = str(rootpath)
    config._parser.extra_info["inifile"] = str(inipath)
    if wrong_addopts and args[: len(wrong_addopts)] == wrong_addopts:
        del args[: len(wrong_addopts)]
    args[:0] = _addopts(config)
    # pytest set confcutdir from the wrong setup, unless the command line gave it.
    given = config._parser.parse_known_args(args).confcutdir
    if given is None and ns.confcutdir in (str(old_root), str(old_ini.parent) if old_ini else None):
        ns.confcutdir = str(inipath.parent if inipath is not None else rootpath)


def _addopts(config: pytest.Config) -> list[str]:
    return list(config.getini("addopts"))
