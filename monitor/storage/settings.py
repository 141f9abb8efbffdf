"""What a tablet keeps about itself: its name, in a small settings file of its own.

In clinic mode several tablets share one database; each has a name ("Room-2") so that the
others, the audit trail and the server (``application_name`` in ``pg_stat_activity``) can tell
them apart. The name is set at the first start and kept on the tablet, in ``settings.json``
in the user configuration directory (beside the key file of
:func:`monitor.service.auth.load_secret`): the folder 0700, the file 0600, written atomically
(a temporary file, synced, then renamed over the old one), so a crash leaves the old settings
or the new ones.

:func:`choose_tablet_name` decides the name at start-up: ``python main.py --tablet NAME``
first (and kept), then ``$CHAIRSIDE_TABLET`` (for this run only: a kiosk's environment sets
it at every start), then the kept name; None means the app must ask
(:mod:`ui.app.tablet_name`). Every name is checked by :func:`tablet_name_problem`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir

from monitor.storage.private_files import make_private_dir, tighten

log = logging.getLogger(__name__)

SETTINGS_FILE_NAME = "settings.json"
#: Names the tablet for this run, over the kept name (not kept).
TABLET_ENV = "CHAIRSIDE_TABLET"
TABLET_KEY = "tablet_name"
MIN_TABLET_NAME = 1
MAX_TABLET_NAME = 32
#: The name of the demo's and the screenshots' tablet: they never ask.
DEMO_TABLET = "Demo tablet"


def default_settings_path() -> Path:
    """``settings.json`` in the app's user configuration directory."""
    return Path(user_config_dir("ChairSide", appauthor=False)) / SETTINGS_FILE_NAME


def tablet_name_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a tablet name (surrounding spaces aside), or None."""
    text = name.strip()
    if not text:
        return (f"Tablet name: {MIN_TABLET_NAME} to {MAX_TABLET_NAME} characters; "
                "it is empty")
    if len(text) > MAX_TABLET_NAME:
        return (f"Tablet name: {MIN_TABLET_NAME} to {MAX_TABLET_NAME} characters, "
                f"not {len(text)}")
    if not text.isprintable():
        return (f"Tablet name: {MIN_TABLET_NAME} to {MAX_TABLET_NAME} printable characters "
                "(letters, digits, spaces, punctuation); no tabs or control characters")
    return None


def clean_tablet_name(name: str, *, source: str = "") -> str:
    """``name`` without surrounding spaces; :class:`ValueError` naming the problem (and
    where the name came from, e.g. ``--tablet``) when it is not a tablet name."""
    problem = tablet_name_problem(name)
    if problem is not None:
        raise ValueError(f"{source}: {problem}" if source else problem)
    return name.strip()


def default_tablet_name() -> str:
    """What the first start offers: the host name up to its first dot, cut to length."""
    host = socket.gethostname().split(".")[0].strip()
    host = "".join(c for c in host if c.isprintable())[:MAX_TABLET_NAME].strip()
    return host or "Tablet"


def read_settings(path: Path) -> dict[str, Any]:
    """The settings kept at ``path``; empty when there are none or they cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        log.warning("cannot read the tablet's settings %s (%s)", path, exc)
        return {}
    try:
        values = json.loads(text)
    except ValueError:
        log.warning("the tablet's settings %s are damaged; they are set again", path)
        return {}
    return values if isinstance(values, dict) else {}


def write_settings(path: Path, values: Mapping[str, Any]) -> None:
    """Keep ``values`` at ``path`` (0600, in a folder made 0700), atomically."""
    make_private_dir(path.parent)
    tighten(path.parent)
    handle, temporary = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates the file readable and writable by its owner only (0600).
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(dict(values), file, ensure_ascii=False, sort_keys=True, indent=1)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    tighten(path)


def kept_tablet_name(path: Path) -> str | None:
    """The tablet's kept name, or None (none kept yet, or not a tablet name)."""
    name = read_settings(path).get(TABLET_KEY)
    if not isinstance(name, str) or tablet_name_problem(name) is not None:
        return None
    return name.strip()


def keep_tablet_name(path: Path, name: str) -> str:
    """Check ``name`` and keep it as the tablet's name, other settings unchanged."""
    clean = clean_tablet_name(name)
    values = read_settings(path)
    values[TABLET_KEY] = clean
    write_settings(path, values)
    return clean


def choose_tablet_name(path: Path, *, given: str | None = None,
                       environ: Mapping[str, str] | None = None) -> str | None:
    """The tablet's name for this run, or None when the app must ask for it.

    ``given`` (``--tablet``) wins and is kept; then ``$CHAIRSIDE_TABLET`` (not kept); then
    the kept name. A given or environment name that is not a tablet name raises
    :class:`ValueError` naming where it came from.
    """
    if given is not None:
        return keep_tablet_name(path, clean_tablet_name(given, source="--tablet"))
    environment = os.environ if environ is None else environ
    from_env = environment.get(TABLET_ENV)
    if from_env is not None and from_env.strip():
        return clean_tablet_name(from_env, source=TABLET_ENV)
    return kept_tablet_name(path)
