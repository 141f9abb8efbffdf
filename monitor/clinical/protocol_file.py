"""Reading a protocol's TOML, each key's line kept, so that a bad file is refused with the
line and the field at fault.

``tomllib`` reports no positions for keys, so this module indexes the file's lines itself.
What it reads (the ``[protocol]`` header, the parameters, the medication list) is checked
against :mod:`monitor.clinical.protocol_schema`; :mod:`monitor.clinical.protocol` makes the
protocol of it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.clinical.protocol_schema import (
    SECTIONS,
    Medication,
    Parameter,
    ProtocolError,
    check_value,
    field_types,
)


@dataclass(frozen=True, slots=True)
class Header:
    """The ``[protocol]`` table: what the protocol is called, and the profile it extends."""

    id: str
    name: str
    version: str
    extends: str | None
    path: Path | None


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A parsed file (or stored text) and where each of its keys sits, for error messages.

    ``origin`` is the file's name, or what names the stored text.
    """

    path: Path | None
    origin: str
    data: dict[str, Any]
    lines: dict[tuple[str, str], int]
    headers: dict[str, int]
    line_count: int

    def line_of(self, table: str, key: str | None = None) -> int:
        """The line of ``key`` in ``table``; else of the table's header; else the last line."""
        if key is not None and (table, key) in self.lines:
            return self.lines[(table, key)]
        return self.headers.get(table, self.line_count)

    def error(self, problem: str, table: str, key: str | None = None,
              field_name: str | None = None) -> ProtocolError:
        """The error for ``problem`` at the line of ``key`` in ``table``, naming the field."""
        return ProtocolError(self.origin, problem, line=self.line_of(table, key),
                             field=field_name)


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?")
_KEY = re.compile(r'^\s*(?:"([^"]+)"|([A-Za-z0-9_\-]+))\s*=')
_SYNTAX_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)")


def _index_lines(text: str) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    """Map ``(table, key)`` and table headers to 1-based line numbers.

    Array-of-tables entries are named ``medications[0]``, ``medications[1]`` … Every
    parameter is one line by the file's convention, so a line-by-line scan suffices.
    """
    lines: dict[tuple[str, str], int] = {}
    headers: dict[str, int] = {}
    array_counts: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if header := _HEADER.match(line):
            table = header.group(2)
            if header.group(1) == "[[":
                index = array_counts.get(table, 0)
                array_counts[table] = index + 1
                table = f"{table}[{index}]"
            headers[table] = number
        elif key := _KEY.match(line):
            lines.setdefault((table, key.group(1) or key.group(2)), number)
    return lines, headers


def parse_file(path: Path) -> SourceFile:
    """The file at ``path``, read and parsed; an unreadable file is a :class:`ProtocolError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProtocolError(path.name, f"cannot read the file ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ProtocolError(path.name, "the file is not UTF-8 text") from exc
    return parse_text(text, path, path.name)


def parse_text(text: str, path: Path | None, origin: str) -> SourceFile:
    """``text`` parsed, with the line of each key; a syntax error names its line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _SYNTAX_POSITION.search(message)
        line: int | None = int(position.group(1)) if position else None
        if line is None and "end of document" in message:
            line = max(1, len(text.splitlines()))
        detail = _SYNTAX_POSITION.sub("", message)
        if position:
            detail += f" (column {position.group(2)})"
        raise ProtocolError(origin, f"TOML syntax error: {detail}", line=line) from exc
    lines, headers = _index_lines(text)
    return SourceFile(path, origin, data, lines, headers, max(1, len(text.splitlines())))


def resolve(name_or_path: str | Path, directory: Path) -> Path:
    """The file of a protocol named in ``directory`` (``"iv_ketamine"``), or the path given."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or "/" in text or "\\" in text or text.endswith(".toml"):
        return Path(name_or_path)
    path = directory / f"{text}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in directory.glob("*.toml"))) or "none"
        raise ProtocolError(f"{text}.toml", f"no protocol named {text!r} in {directory} "
                                            f"(available: {known})")
    return path


def read_body(
    source: SourceFile,
) -> tuple[dict[tuple[str, str], Parameter], tuple[Medication, ...] | None]:
    """The parameters and medications (None when the file lists none) a file sets itself."""
    sections = {k: v for k, v in source.data.items() if k not in ("protocol", "medications")}
    for name in sections:
        if name not in SECTIONS:
            line = source.headers.get(name) or source.lines.get(("", name), source.line_count)
            raise ProtocolError(source.origin,
                                f"unknown section [{name}] (known: {', '.join(SECTIONS)})",
                                line=line, field=name)
    parameters = _read_parameters(source, sections)
    medications = _read_medications(source) if "medications" in source.data else None
    return parameters, medications


def protocol_table(source: SourceFile, missing: str) -> dict[str, str]:
    """The ``[protocol]`` table, each of its fields known and non-empty text; ``missing`` is
    the problem reported when there is none."""
    table = source.data.get("protocol")
    if not isinstance(table, dict):
        raise source.error(missing, "protocol", field_name="protocol")
    allowed = ("id", "name", "version", "extends")
    for key, value in table.items():
        if key not in allowed:
            raise source.error(f"unknown field (known: {', '.join(allowed)})", "protocol", key,
                               f"protocol.{key}")
        if not isinstance(value, str) or not value.strip():
            raise source.error("expected non-empty text in quotes", "protocol", key,
                               f"protocol.{key}")
    return table


def read_header(source: SourceFile) -> Header:
    """The ``[protocol]`` table, checked: id, name and version as text, extends optional."""
    table = protocol_table(source, "missing [protocol] table with id, name and version")
    for key in ("id", "name", "version"):
        if key not in table:
            raise source.error("missing", "protocol", field_name=f"protocol.{key}")
    return Header(table["id"], table["name"], table["version"], table.get("extends"),
                   source.path)


def _read_parameters(
    source: SourceFile, sections: dict[str, Any]
) -> dict[tuple[str, str], Parameter]:
    parameters: dict[tuple[str, str], Parameter] = {}
    for section, table in sections.items():
        cls = SECTIONS[section]
        types = field_types(cls)
        if not isinstance(table, dict):
            raise source.error("expected a [table] of parameters", "", section, section)
        for key, entry in table.items():
            name = f"{section}.{key}"
            line = source.line_of(section, key)
            if key not in types:
                raise source.error(f"unknown parameter (known in [{section}]: "
                                   f"{', '.join(types)})", section, key, name)
            if not isinstance(entry, dict):
                raise source.error('expected { value = …, unit = "…", source = "…" }',
                                   section, key, name)
            for extra in entry.keys() - {"value", "unit", "source"}:
                raise source.error(f"unexpected {extra!r}: a parameter has only value, unit "
                                   "and source", section, key, name)
            for part in ("value", "unit", "source"):
                if part not in entry:
                    raise source.error(f"missing {part}", section, key, name)
            for part in ("unit", "source"):
                if not isinstance(entry[part], str) or not entry[part].strip():
                    raise source.error(f"{part} must be non-empty text in quotes",
                                       section, key, name)
            value = check_value(entry["value"], types[key], cls, key,
                                 ProtocolError(source.origin, "", line=line, field=name))
            parameters[(section, key)] = Parameter(section, key, value, entry["unit"],
                                                   entry["source"], source.origin, line)
    return parameters


def _read_medications(source: SourceFile) -> tuple[Medication, ...]:
    entries = source.data["medications"]
    if not isinstance(entries, list):
        raise source.error("expected [[medications]] entries", "", "medications", "medications")
    medications = []
    for index, entry in enumerate(entries):
        table = f"medications[{index}]"
        if table not in source.headers:
            # Written inline (medications = [{…}]): point at the array's line.
            table = ""
        if not isinstance(entry, dict):
            raise source.error("expected a table with name, dose and route", table,
                               "medications" if not table else None, f"medications[{index}]")
        for key in entry.keys() - {"name", "dose", "route"}:
            raise source.error("unknown field (known: name, dose, route)", table,
                               key if table else "medications", f"medications[{index}].{key}")
        for key in ("name", "dose", "route"):
            value = entry.get(key)
            if not isinstance(value, str) or not value.strip():
                raise source.error("expected non-empty text in quotes", table,
                                   key if table else "medications",
                                   f"medications[{index}].{key}")
        medications.append(Medication(entry["name"], entry["dose"], entry["route"]))
    return tuple(medications)
