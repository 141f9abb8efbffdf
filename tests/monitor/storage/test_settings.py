"""The tablet's own settings: its name kept in a private file, and which name wins."""

from __future__ import annotations

import json
import os
import stat

import pytest

from monitor.storage.settings import (
    MAX_TABLET_NAME,
    TABLET_ENV,
    choose_tablet_name,
    default_tablet_name,
    keep_tablet_name,
    kept_tablet_name,
    read_settings,
    tablet_name_problem,
    write_settings,
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_kept_name_reads_back_and_other_settings_stay(tmp_path):
    path = tmp_path / "config" / "settings.json"
    assert kept_tablet_name(path) is None
    write_settings(path, {"theme": "dim"})
    assert keep_tablet_name(path, "  Room-2 ") == "Room-2"
    assert kept_tablet_name(path) == "Room-2"
    assert read_settings(path) == {"theme": "dim", "tablet_name": "Room-2"}
    assert keep_tablet_name(path, "Salle 3 – fenêtre") == "Salle 3 – fenêtre"
    assert kept_tablet_name(path) == "Salle 3 – fenêtre"
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"], "no temporary left"


@posix_only
def test_the_settings_file_is_0600_in_a_0700_folder_whatever_the_umask(tmp_path):
    path = tmp_path / "config" / "ChairSide" / "settings.json"
    old = os.umask(0o022)
    try:
        keep_tablet_name(path, "Room-2")
    finally:
        os.umask(old)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    path.chmod(0o644)
    keep_tablet_name(path, "Room-3")
    assert mode(path) == 0o600, "a file loosened by hand is tightened on the next write"


def test_a_damaged_or_foreign_file_is_no_name_and_is_set_again(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("{not json", encoding="utf-8")
    assert kept_tablet_name(path) is None
    path.write_text(json.dumps({"tablet_name": "x" * 40}), encoding="utf-8")
    assert kept_tablet_name(path) is None, "too long: asked again, not cut"
    path.write_text(json.dumps(["Room-2"]), encoding="utf-8")
    assert kept_tablet_name(path) is None
    keep_tablet_name(path, "Room-2")
    assert kept_tablet_name(path) == "Room-2"


@pytest.mark.parametrize(("name", "problem"), [
    ("", "Tablet name: 1 to 32 characters; it is empty"),
    ("   ", "Tablet name: 1 to 32 characters; it is empty"),
    ("R" * 33, "Tablet name: 1 to 32 characters, not 33"),
    ("Room\t2", "Tablet name: 1 to 32 printable characters (letters, digits, spaces, "
                "punctuation); no tabs or control characters"),
    ("Room\x002", "Tablet name: 1 to 32 printable characters (letters, digits, spaces, "
                  "punctuation); no tabs or control characters"),
])
def test_a_name_that_is_not_one_is_refused_naming_the_field_and_range(name, problem):
    assert tablet_name_problem(name) == problem


def test_names_of_one_to_32_printable_characters_are_taken():
    for name in ("A", "R" * MAX_TABLET_NAME, "Room-2", "Chair 4 tablet (spare)", "Raum 2 – Ü"):
        assert tablet_name_problem(name) is None, name


def test_the_host_name_offered_is_a_valid_name():
    assert tablet_name_problem(default_tablet_name()) is None


def test_the_given_name_wins_and_is_kept_the_environment_wins_for_one_run(tmp_path):
    path = tmp_path / "settings.json"
    assert choose_tablet_name(path, environ={}) is None, "nothing kept: the app must ask"
    keep_tablet_name(path, "Room-1")
    assert choose_tablet_name(path, environ={}) == "Room-1"
    assert choose_tablet_name(path, environ={TABLET_ENV: " Kiosk-7 "}) == "Kiosk-7"
    assert kept_tablet_name(path) == "Room-1", "the environment's name is not kept"
    assert choose_tablet_name(path, given="Room-2", environ={TABLET_ENV: "Kiosk-7"}) == "Room-2"
    assert kept_tablet_name(path) == "Room-2", "--tablet sets the tablet's name"
    assert choose_tablet_name(path, environ={TABLET_ENV: ""}) == "Room-2"


def test_a_bad_given_or_environment_name_names_where_it_came_from(tmp_path):
    path = tmp_path / "settings.json"
    with pytest.raises(ValueError, match=r"^--tablet: Tablet name: 1 to 32 characters, not 40$"):
        choose_tablet_name(path, given="x" * 40, environ={})
    with pytest.raises(ValueError, match=f"^{TABLET_ENV}: Tablet name: 1 to 32 printable"):
        choose_tablet_name(path, environ={TABLET_ENV: "a\nb"})
    assert not path.exists()
