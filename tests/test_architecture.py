"""The shape of the code: the layers of ``docs/architecture.md`` and no import cycles.

The contracts themselves live in ``pyproject.toml`` (``[tool.importlinter]``) so that
``lint-imports`` on the command line and this test check the same thing. The import graph
is read from the source, not by importing it, so a lazy import inside a function counts as
much as one at the top of a module. ``tests/monitor/test_no_qt.py`` complements it from the
other side: it imports the core in a fresh interpreter and catches what only happens at run
time.
"""

import subprocess
import sysconfig
from itertools import pairwise
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("monitor", "ui")


def test_imports_keep_the_layers_and_keep_qt_out_of_monitor():
    """Every contract in ``[tool.importlinter]`` holds; a broken one fails with the report
    of ``lint-imports``, which names each offending import and its line."""
    lint_imports = Path(sysconfig.get_path("scripts")) / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_import_cycle_among_chairside_modules():
    """No module of ``monitor`` or ``ui`` imports, through any chain, a module that imports
    it back, and neither package imports ``main``.

    Imports inside functions count: they run, later, and a cycle through one still ties
    the two modules together and can fail on first use. Imports under ``TYPE_CHECKING``
    count too, although they never run: the module still needs the other to be read or
    type-checked, and moving half of a cycle under ``TYPE_CHECKING`` is the usual way to
    hide one rather than remove it. The layers contracts count them for the same reason.

    ``main.py`` is a script, which the import graph cannot take as a package of its own;
    it is the top of the program, so a cycle through it would need ``monitor`` or ``ui``
    to import ``main``, which the graph records like any outside package.
    """
    graph = grimp.build_graph(*PACKAGES, include_external_packages=True, cache_dir=None)
    own = {module for module in graph.modules if module.split(".")[0] in PACKAGES}

    cycles: dict[frozenset[str], str] = {}
    for module in sorted(own):
        if any(module in cycle for cycle in cycles):
            continue
        tied = graph.find_upstream_modules(module) & graph.find_downstream_modules(module)
        if tied:
            cycles[frozenset(tied | {module})] = _describe_cycle(graph, module, tied)
    assert not cycles, "import cycles:\n\n" + "\n\n".join(cycles.values())

    importers = set()
    if "main" in graph.modules:
        importers = graph.find_modules_that_directly_import("main")
    assert not importers, f"main.py is the top of the program, yet imported by {sorted(importers)}"


def _describe_cycle(graph: grimp.ImportGraph, module: str, tied: set[str]) -> str:
    """One shortest round trip from ``module`` back to itself, an import per line with the
    line that makes it."""
    first = min(graph.find_modules_directly_imported_by(module) & tied)
    chain = (module, *graph.find_shortest_chain(importer=first, imported=module))
    lines = [f"{len(tied) + 1} modules tied together; one cycle:"]
    for importer, imported in pairwise(chain):
        details = graph.get_import_details(importer=importer, imported=imported)
        where = ", ".join(f"l.{d['line_number']} {d['line_contents']!r}" for d in details)
        lines.append(f"  {importer} -> {imported} ({where})")
    return "\n".join(lines)
