"""A missing Qt platform library is a readable message with the fix, not an abort."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import main
from ui.app import platform_check
from ui.app.platform_check import debian_package, uses_xcb, xcb_problem

ROOT = Path(__file__).resolve().parents[3]
PLUGIN = Path("/site-packages/PySide6/Qt/plugins/platforms/libqxcb.so")
X11 = {"DISPLAY": ":0"}


def test_missing_libraries_are_named_with_the_apt_get_line():
    message = xcb_problem(
        X11, find_plugin=lambda: PLUGIN,
        find_missing=lambda _plugin: ["libxcb-cursor.so.0", "libxcb-icccm.so.4",
                                      "libxcb-keysyms.so.1"],
    )
    assert message is not None
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4, libxcb-keysyms.so.1" in message
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1\n" in message


def test_nothing_to_say_when_every_library_is_there():
    assert xcb_problem(X11, find_plugin=lambda: PLUGIN, find_missing=lambda _p: []) is None


def test_no_display_is_said_in_words():
    message = xcb_problem({}, find_plugin=lambda: PLUGIN, find_missing=lambda _p: [])
    assert message is not None
    assert "DISPLAY is not set" in message


@pytest.mark.parametrize(("environ", "platform", "expected"), [
    ({}, "linux", True),
    ({"QT_QPA_PLATFORM": "xcb"}, "linux", True),
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
    ({"QT_QPA_PLATFORM": "wayland"}, "linux", False),
    ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, "linux", False),
    ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "x11"}, "linux", True),
    ({}, "win32", False),
    ({}, "darwin", False),
])
def test_only_the_xcb_platform_is_checked(environ, platform, expected):
    assert uses_xcb(environ, platform) is expected


@pytest.mark.parametrize(("soname", "package"), [
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libEGL.so.1", "libegl1"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
])
def test_debian_package_names_follow_the_soname(soname, package):
    assert debian_package(soname) == package


def test_main_prints_the_fix_and_exits_1_before_qt_starts(monkeypatch, capsys):
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(platform_check, "xcb_plugin", lambda: PLUGIN)
    monkeypatch.setattr(platform_check, "missing_libraries",
                        lambda _plugin: ["libxcb-cursor.so.0"])
    assert main.main([]) == 1
    err = capsys.readouterr().err
    assert "sudo apt-get install libxcb-cursor0" in err


def test_the_plugin_is_found_without_loading_qt():
    code = ("import sys; from ui.app.platform_check import xcb_plugin; p = xcb_plugin(); "
            "assert p is None or p.name == 'libqxcb.so', p; "
            "assert not any(m.startswith('PySide6.') for m in sys.modules), sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
