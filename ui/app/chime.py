"""The optional soft chime: one short sound when a chair's next reading turns overdue.

The overdue state itself is the core's (:attr:`monitor.service.board.ChairTile.overdue`, the same
tiles the overview draws); the window forwards the tiles on each tick and :class:`Chime`
decides only *when* to sound: once per chair each time that chair's next reading turns
overdue, not again while it stays overdue, again after a new reading falls due and is
missed. It is off by default (the rooms are dim and quiet; the tile and the session header
already mark an overdue reading) and stays as the nurse leaves it for the app's run.

The sound is played by an injected :class:`Player`. The real one,
:func:`sound_effect_player`, uses QtMultimedia's ``QSoundEffect`` (PySide6-Addons),
imported only when the chime is switched on; without QtMultimedia or an audio output the
switch says :data:`UNAVAILABLE` and stays off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Protocol
from uuid import UUID

from PySide6.QtCore import QUrl

from monitor.service.board import ChairTile

#: The chime: two soft tones, 0.35 s (resources/sounds/make_chime.py writes it).
CHIME_WAV = Path(__file__).resolve().parents[2] / "resources" / "sounds" / "chime.wav"
#: What the switch says when this tablet cannot play the chime.
UNAVAILABLE = "Chime unavailable on this device"
#: The chime's volume, 0–1, on top of the file's own low level.
VOLUME = 0.6


class Player(Protocol):
    def play(self) -> None: ...


class ChimeUnavailableError(RuntimeError):
    """This device cannot play the chime (no QtMultimedia, no audio output, no sound file)."""


class SoundEffectPlayer:
    """Plays :data:`CHIME_WAV` through a ``QSoundEffect`` (built by :func:`sound_effect_player`)."""

    def __init__(self, effect: object) -> None:
        self._effect = effect

    def play(self) -> None:
        self._effect.play()  # type: ignore[attr-defined]


def sound_effect_player(path: Path = CHIME_WAV) -> Player:
    """The real player; raises :class:`ChimeUnavailableError` when the device cannot chime."""
    if not path.is_file():
        raise ChimeUnavailableError(f"no sound file {path.name}")
    try:
        # Imported here: the Addons module (and an audio backend) load only when switched on.
        from PySide6.QtMultimedia import QMediaDevices, QSoundEffect  # noqa: PLC0415
    except (ImportError, OSError) as exc:  # not installed, or no audio library on the system
        raise ChimeUnavailableError(str(exc)) from exc
    device = QMediaDevices.defaultAudioOutput()
    if device.isNull():
        raise ChimeUnavailableError("no audio output")
    effect = QSoundEffect()
    effect.setAudioDevice(device)
    effect.setVolume(VOLUME)
    effect.setSource(QUrl.fromLocalFile(str(path)))
    return SoundEffectPlayer(effect)


class Chime:
    """Decides when the chime sounds; off until :meth:`set_enabled` switches it on.

    ``make_player`` builds the player the first time the chime is switched on (tests pass
    a fake); it raises :class:`ChimeUnavailableError` when the device cannot play.
    """

    def __init__(self, make_player: Callable[[], Player] = sound_effect_player) -> None:
        self._make_player = make_player
        self._player: Player | None = None
        self.enabled = False
        #: Why the chime cannot be switched on ("" while it can).
        self.unavailable = ""
        #: Per chair, the overdue reading already chimed for: (session, when it fell due).
        self._chimed: dict[str, tuple[UUID | None, datetime | None]] = {}
        #: False until the first look after switching on: what is overdue then is not news.
        self._primed = False

    def set_enabled(self, on: bool) -> bool:
        """Switch the chime on or off; returns whether it is on (off when unavailable)."""
        if on and self._player is None:
            try:
                self._player = self._make_player()
            except ChimeUnavailableError:
                self.unavailable = UNAVAILABLE
                on = False
        self.enabled = on
        self._primed = False
        self._chimed.clear()
        return self.enabled

    def observe(self, tiles: Iterable[ChairTile]) -> bool:
        """Look at the chairs as they stand; chime if a chair's reading has just turned
        overdue. Returns whether it chimed (once, however many chairs turned at once)."""
        if not self.enabled or self._player is None:
            return False
        turned = False
        for tile in tiles:
            if not tile.overdue:
                self._chimed.pop(tile.chair, None)
                continue
            due = (tile.session_id, tile.next_due)
            if self._chimed.get(tile.chair) != due:
                self._chimed[tile.chair] = due
                turned = True
        chime = turned and self._primed
        self._primed = True
        if chime:
            self._player.play()
        return chime
