"""Write ``chime.wav``: the optional soft reminder chime played when a reading turns overdue.

Two soft sine tones (E5 then B4, a falling fifth: a "ding-dong" that asks rather than
alarms), 0.35 s in all, each with a gentle 15 ms attack and an exponential fade, at about
a fifth of full scale. 22.05 kHz mono 16-bit, about 15 kB. The rooms are dim and quiet,
so the sound is kept low; the tablet's own volume sets the rest.

Run from the repository root to regenerate it: ``python resources/sounds/make_chime.py``.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22_050
#: (frequency Hz, start s, length s) of each tone; they overlap a little so they ring on.
TONES: tuple[tuple[float, float, float], ...] = ((659.25, 0.0, 0.2), (493.88, 0.13, 0.22))
LENGTH_S = 0.35
#: Peak level as a share of full scale: soft.
PEAK = 0.2
ATTACK_S = 0.015


def samples() -> list[int]:
    """The chime as 16-bit sample values."""
    total = round(LENGTH_S * RATE)
    mix = [0.0] * total
    for frequency, start, length in TONES:
        first = round(start * RATE)
        count = min(round(length * RATE), total - first)
        for n in range(count):
            t = n / RATE
            attack = min(1.0, t / ATTACK_S)
            fade = math.exp(-5.0 * t / length) * (1.0 - n / count)
            mix[first + n] += math.sin(2 * math.pi * frequency * t) * attack * fade
    loudest = max(abs(value) for value in mix)
    return [round(value / loudest * PEAK * 32767) for value in mix]


def write(path: Path) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(b"".join(struct.pack("<h", value) for value in samples()))


if __name__ == "__main__":
    write(Path(__file__).with_name("chime.wav"))
