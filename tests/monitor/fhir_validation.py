"""Runs the Node FHIR validator (tests/monitor/fhir_validator) on Bundles.

It checks exports against the official HL7 R4 definitions and the vital-signs profiles
(docs/fhir.md says what it covers). ``.ci/run`` installs it with ``npm ci``, and a test run
that finds it missing installs it the same way when npm is on the PATH, so the README's test
command needs nothing more. Under CI a missing Node or validator fails the test, elsewhere it
is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

VALIDATOR = Path(__file__).parent / "fhir_validator"
SCRIPT = VALIDATOR / "validate.js"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"the FHIR validator cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"FHIR validator not available: {reason}")


def _installed() -> bool:
    return (VALIDATOR / "node_modules" / "@medplum" / "core").is_dir()


def _install() -> None:
    """``npm ci`` from the pinned lock file, once, when npm is there to run it."""
    npm = shutil.which("npm")
    if npm is None:
        return
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=VALIDATOR,
                   capture_output=True, check=False, timeout=600)


def validation_issues(bundles: dict[str, str], folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Every issue the validator finds, per Bundle name (``bundles`` maps names to JSON)."""
    node = shutil.which("node")
    if node is None:
        _unavailable("node is not installed")
    if not _installed():
        _install()
    if not _installed():
        _unavailable(f"run `npm ci` in {VALIDATOR}")
    paths = {}
    for name, text in bundles.items():
        path = folder / f"{name}.json"
        path.write_text(text, encoding="utf-8")
        paths[str(path)] = name
    done = subprocess.run([str(node), str(SCRIPT), *paths], capture_output=True, text=True,
                          check=False, timeout=120)
    if done.returncode not in {0, 1}:
        pytest.fail(f"the FHIR validator failed to run: {done.stderr}", pytrace=False)
    found = json.loads(done.stdout)["files"]
    return {paths[path]: issues for path, issues in found.items()}


def errors(issues: list[dict[str, Any]]) -> list[str]:
    """The error-level issues, one line each."""
    return [f"{i['resource']} {i['expression']}: {i['message']}" for i in issues
            if i["severity"] in {"error", "fatal"}]
