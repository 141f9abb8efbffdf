"""The pieces a session report is made of, and how values read in it.

A :class:`SessionReport` is titled :class:`Section` s of blocks — :class:`Fields`,
:class:`Table` s of :class:`Row` s, :class:`Paragraph` s and the :class:`ChartPlace` — as plain
data: :mod:`monitor.exports.report` fills them from the record, the Qt side
(``ui.review.report``) lays them out on pages, and :func:`report_text` reads them as plain
text. The ``*_text`` functions say how a time, a date or a value reads on paper.

Times in the record are UTC; the report shows them in the local time of the machine that
makes it, the clinic's wall clock, and says which offset that is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

NOT_RECORDED = "not recorded"
#: How a missing value reads in a table cell.
DASH = "–"


@dataclass(frozen=True)
class Row:
    """One table row. ``struck`` rows hold values no longer in effect (voided or amended):
    shown struck through and marked in words; ``strong`` rows need the reader's eye
    (a critical flag, an open flag, a criterion not met)."""

    cells: tuple[str, ...]
    struck: bool = False
    strong: bool = False


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    #: Relative column widths; empty lets the layout decide.
    widths: tuple[int, ...] = ()
    #: What the table says when it has no rows.
    empty: str = "None recorded."
    caption: str = ""


@dataclass(frozen=True)
class Fields:
    """Label–value pairs, e.g. the header."""

    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Paragraph:
    text: str
    strong: bool = False


@dataclass(frozen=True)
class ChartPlace:
    """Where the session chart goes, with the key to reading it (markers and lines, so that
    it reads in grey-scale print)."""

    legend: str


Block = Table | Fields | Paragraph | ChartPlace


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class SessionReport:
    title: str
    #: One line naming the patient and session, repeated at the foot of every page.
    running_title: str
    header: Fields
    sections: tuple[Section, ...]
    generated_at: datetime
    chain_head: str

    @property
    def footer(self) -> str:
        """The second footer line: when the report was made and the audit chain head."""
        return (f"Generated {utc_text(self.generated_at)} · audit chain head "
                f"{self.chain_head or NOT_RECORDED}")


# -- plain text --------------------------------------------------------------------------------


def report_text(report: SessionReport) -> str:
    """The report as plain text, section by section (tables as ``|``-separated rows)."""
    lines = [report.title, report.running_title, ""]
    lines += _fields_text(report.header)
    for section in report.sections:
        lines += ["", section.title.upper()]
        for block in section.blocks:
            lines += _block_text(block)
    lines += ["", report.footer]
    return "\n".join(lines) + "\n"


def _block_text(block: Block) -> list[str]:
    if isinstance(block, Fields):
        return _fields_text(block)
    if isinstance(block, Paragraph):
        return [block.text]
    if isinstance(block, ChartPlace):
        return [f"[chart] {block.legend}"]
    lines = [" | ".join(block.columns)]
    lines += [" | ".join(row.cells) + ("  [struck]" if row.struck else "") for row in block.rows]
    if not block.rows:
        lines.append(block.empty)
    if block.caption:
        lines.append(block.caption)
    return lines


def _fields_text(fields: Fields) -> list[str]:
    return [f"{label}: {value}" for label, value in fields.items]


# -- formatting --------------------------------------------------------------------------------


def clock_text(when: datetime) -> str:
    return f"{when.astimezone():%H:%M}"


def date_text(when: datetime) -> str:
    return f"{when.astimezone():%Y-%m-%d}"


def utc_text(when: datetime) -> str:
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def zone_text(when: datetime) -> str:
    offset = when.astimezone().utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def minutes_text(origin: datetime, when: datetime) -> str:
    minutes = round((when - origin).total_seconds() / 60)
    return f"{minutes:+d}" if minutes else "0"


def value_text(value: int | None) -> str:
    return DASH if value is None else str(value)


def number_text(value: float | None) -> str:
    """A quantity without trailing zeros: 35, 0.875, 70.5."""
    if value is None:
        return DASH
    return f"{value:.3f}".rstrip("0").rstrip(".")
