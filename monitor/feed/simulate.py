"""A simulated bedside monitor for one chair, writing IHE PCD-01 ORU^R01 messages.

Like a real monitor it sends a periodic message every demo minute with ECG heart rate,
SpO2, pulse rate and respiratory rate, takes an NIBP every :data:`NIBP_EVERY` demo minutes,
and repeats the last NIBP, with its own (older) observation time, in every periodic
message. Deterministic for a seed; time is passed in, never read from a clock here.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

PERIOD = timedelta(minutes=1)
NIBP_EVERY = timedelta(minutes=5)
DEFAULT_DEVICE = "0012A3FFFE4B5C6D"


def _dtm(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%S") + "+0000"


@dataclass
class SimulatedMonitor:
    """One monitor at one chair; :meth:`message` builds the message sent at a time."""

    chair: str = "CHAIR1"
    device: str = DEFAULT_DEVICE
    seed: int = 1

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._sequence = 0
        self._nibp: tuple[datetime, int, int, int] | None = None
        self._last_nibp_at: datetime | None = None

    def _obx(self, code: str, refid: str, value: object, unit: str, at: datetime) -> str:
        self._set_id += 1
        return (
            f"OBX|{self._set_id}|NM|{code}^{refid}^MDC|1.1.1.{self._set_id}|{value}|{unit}"
            f"|||||R|||{_dtm(at)}||||{self.device}^^{self.device}^EUI-64"
        )

    def message(self, at: datetime) -> bytes:
        """The periodic message sent at ``at`` (aware), with a new NIBP when one is due."""
        self._sequence += 1
        self._set_id = 0
        if self._last_nibp_at is None or at - self._last_nibp_at >= NIBP_EVERY:
            sbp = self._random.randint(112, 150)
            self._nibp = (at, sbp, sbp - self._random.randint(35, 55), 0)
            self._last_nibp_at = at
        hr = self._random.randint(64, 96)
        lines = [
            f"MSH|^~\\&|ChairSideSim^{self.device}^EUI-64|ChairSide|||{_dtm(at)}||"
            f"ORU^R01^ORU_R01|{self._sequence}|P|2.6|||NE|AL||UNICODE UTF-8|||"
            "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO",
            f"PV1||O|INFUSION^^{self.chair}",
            f"OBR|1|{self._sequence}^ChairSideSim^{self.device}^EUI-64||"
            f"182777000^monitoring of patient^SCT|||{_dtm(at)}",
            self._obx("147842", "MDC_ECG_HEART_RATE", hr, "264864^MDC_DIM_BEAT_PER_MIN^MDC", at),
            self._obx("150456", "MDC_PULS_OXIM_SAT_O2", self._random.randint(95, 99),
                      "262688^MDC_DIM_PERCENT^MDC", at),
            self._obx("149530", "MDC_PULS_OXIM_PULS_RATE", hr + self._random.randint(-2, 2),
                      "264864^MDC_DIM_BEAT_PER_MIN^MDC", at),
            self._obx("151562", "MDC_RESP_RATE", self._random.randint(12, 18),
                      "264928^MDC_DIM_RESP_PER_MIN^MDC", at),
        ]
        if self._nibp is not None:
            taken, sbp, dbp, _ = self._nibp
            mean = round(dbp + (sbp - dbp) / 3)
            for code, refid, value in (
                ("150021", "MDC_PRESS_BLD_NONINV_SYS", sbp),
                ("150022", "MDC_PRESS_BLD_NONINV_DIA", dbp),
                ("150023", "MDC_PRESS_BLD_NONINV_MEAN", mean),
            ):
                lines.append(self._obx(code, refid, value, "266016^MDC_DIM_MMHG^MDC", taken))
        return ("\r".join(lines) + "\r").encode("utf-8")

    def schedule(self, start: datetime, count: int) -> Iterator[tuple[datetime, bytes]]:
        """``count`` periodic messages from ``start``, one demo minute apart."""
        for index in range(count):
            at = start + index * PERIOD
            yield at, self.message(at)
