"""Before Qt starts on Linux/X11: are the system libraries of Qt's xcb platform there?

Without them Qt prints a plugin error and aborts the process (exit 134), which a nurse or
clinic IT cannot act on. :func:`xcb_problem` finds what is missing before the
``QApplication`` is made, and says which Debian/Ubuntu packages to install. Nothing here
imports Qt: the plugin is found on disk and its libraries are looked up with ``ldd`` (or, where
there is no ``ldd``, by loading the plugin with ``ctypes``, which names the first missing
library). Windows and macOS wheels carry what they need, so there is nothing to check there.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)
_DLOPEN_ERROR = re.compile(r"(\S+\.so[.\d]*): cannot open shared object file")


def uses_xcb(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether Qt will pick its xcb (X11) platform."""
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").split(":", 1)[0].split(";", 1)[0].strip()
    if chosen:
        return chosen == "xcb"
    wayland = environ.get("WAYLAND_DISPLAY") and environ.get("XDG_SESSION_TYPE") == "wayland"
    return not wayland


def xcb_plugin() -> Path | None:
    """PySide6's xcb platform plugin, found without importing Qt."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        plugin = Path(folder) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.exists():
            return plugin
    return None


def missing_libraries(plugin: Path) -> list[str]:
    """The shared libraries ``plugin`` needs that the system cannot find (sonames)."""
    ldd = shutil.which("ldd")
    if ldd is not None:
        result = subprocess.run([ldd, str(plugin)], capture_output=True, text=True,
                                check=False, timeout=30)
        return list(dict.fromkeys(_NOT_FOUND.findall(result.stdout)))
    try:
        ctypes.CDLL(str(plugin), mode=os.RTLD_LAZY)
    except OSError as exc:
        found = _DLOPEN_ERROR.search(str(exc))
        return [found.group(1)] if found else []
    return []


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that ships a library, by Debian's naming rule:
    ``libxcb-cursor.so.0`` → ``libxcb-cursor0``, ``libxkbcommon-x11.so.0`` →
    ``libxkbcommon-x11-0``."""
    stem, _, version = soname.partition(".so")
    version = version.lstrip(".").split(".", 1)[0]
    joiner = "-" if stem[-1:].isdigit() else ""
    return f"{stem}{joiner}{version}".lower().replace("_", "-")


def xcb_problem(
    environ: Mapping[str, str] | None = None,
    *,
    find_plugin: Callable[[], Path | None] | None = None,
    find_missing: Callable[[Path], list[str]] | None = None,
) -> str | None:
    """A message saying what to install (or which display to use), or None when Qt can
    start. ``find_plugin`` and ``find_missing`` (default :func:`xcb_plugin` and
    :func:`missing_libraries`) are replaceable for tests."""
    environ = os.environ if environ is None else environ
    if not uses_xcb(environ):
        return None
    plugin = (find_plugin or xcb_plugin)()
    if plugin is None:
        return None
    missing = (find_missing or missing_libraries)(plugin)
    if missing:
        packages = dict.fromkeys(debian_package(lib) for lib in missing)
        return (
            "ChairSide cannot open its window: Qt's X11 (xcb) platform needs system "
            f"libraries that are not installed: {', '.join(missing)}.\n"
            "On Debian or Ubuntu install them with:\n"
            f"    sudo apt-get install {' '.join(packages)}\n"
            "then start ChairSide again. (On other Linux systems install the packages that "
            "provide those libraries.)"
        )
    if not environ.get("DISPLAY"):
        return ("ChairSide cannot open its window: there is no X display (DISPLAY is not "
                "set). Start it from the desktop session, or set QT_QPA_PLATFORM=wayland "
                "on a Wayland desktop.")
    return None
