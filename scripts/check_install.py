#!/usr/bin/env python3
"""Prove that requirements.lock installs as it stands, with no resolution.

For each interpreter given (default: every python3.11/3.12/3.13 on PATH) this builds a
new venv with the pip that interpreter bundles (no upgrade), installs the lock exactly as
dev.py does, and fails unless
  - pip's install report lists exactly the lock's pins (nothing resolved or fetched besides),
  - `pip check` finds every requirement satisfied,
  - the installed distributions are exactly the lock's pins, version for version,
  - prefect, sqlmodel and sqlalchemy import.

    python3 scripts/check_install.py                      # every python3.1x found
    python3 scripts/check_install.py --python python3.11  # one interpreter
    python3 scripts/check_install.py --current-pip        # also with the newest pip from the index
    python3 scripts/check_install.py --platforms          # every file needed per platform is in the lock

Standard library only. Exit 0 when every check passed, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
sys.path.insert(0, ROOT)
from dev import LOCK, LOCKED_INSTALL, norm_name  # one install command, dev.py's

DEFAULT_PYTHONS = ("python3.11", "python3.12", "python3.13")
# (label, pip download options): the platforms the lock is claimed for, and the ones checked
# to say whether they are covered.
PLATFORMS = {
    "linux x86_64": ["--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_28_x86_64"],
    "linux aarch64": ["--platform", "manylinux2014_aarch64", "--platform", "manylinux_2_28_aarch64"],
    "macOS arm64": ["--platform", "macosx_14_0_arm64"],
    "macOS x86_64": ["--platform", "macosx_13_0_x86_64"],
    "Windows x86_64": ["--platform", "win_amd64"],
}
CLAIMED = ("linux x86_64", "linux aarch64")


def locked_pins() -> dict[str, str]:
    pins = {}
    with open(LOCK, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line)
            if m:
                pins[norm_name(m.group(1))] = m.group(2)
    return pins


def find_pythons() -> list[str]:
    """One working interpreter per version among python3.11-3.13 on PATH and in pyenv."""
    import glob

    found: dict[str, str] = {}
    candidates = [*DEFAULT_PYTHONS, *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[1-9]*/bin/python3")))]
    for cand in candidates:
        if not shutil.which(cand):
            continue
        got = run([cand, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        if got.returncode == 0:
            found.setdefault(got.stdout.strip(), cand)
    return [found[v] for v in sorted(found)]


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, errors="replace", check=False, **kw)


def check_python(python: str, current_pip: bool) -> list[str]:
    """Every problem found for one interpreter; empty when the lock installed cleanly."""
    if not shutil.which(python):
        return [f"{python}: not found"]
    problems: list[str] = []
    work = tempfile.mkdtemp(prefix="dangjian-lock-")
    try:
        venv = os.path.join(work, "venv")
        made = run([python, "-m", "venv", venv])
        if made.returncode:
            return [f"{python}: venv failed: {made.stderr.strip()}"]
        vpy = os.path.join(venv, "bin", "python")
        if current_pip:
            up = run([vpy, "-m", "pip", "install", "-q", "--upgrade", "pip"])
            if up.returncode:
                return [f"{python}: pip upgrade failed: {up.stderr.strip()[-400:]}"]
        pip_version = run([vpy, "-m", "pip", "--version"]).stdout.split()[1]
        version = run([vpy, "-c", "import sys; print(sys.version.split()[0])"]).stdout.strip()
        label = f"Python {version}, pip {pip_version}"
        report = os.path.join(work, "report.json")
        installed = run([vpy, "-m", "pip", *LOCKED_INSTALL, LOCK, "--report", report])
        if installed.returncode:
            return [f"{label}: install failed:\n{installed.stdout[-2000:]}{installed.stderr[-2000:]}"]
        pins = locked_pins()
        with open(report, encoding="utf-8") as f:
            reported = {norm_name(i["metadata"]["name"]): i["metadata"]["version"]
                        for i in json.load(f)["install"]}
        if reported != pins:
            extra = sorted(set(reported.items()) - set(pins.items()))
            missing = sorted(set(pins.items()) - set(reported.items()))
            problems.append(f"{label}: install report differs from the lock: "
                            f"not in the lock {extra}, in the lock but not installed {missing}")
        checked = run([vpy, "-m", "pip", "check"])
        if checked.returncode:
            problems.append(f"{label}: pip check: {checked.stdout.strip()}")
        listed = json.loads(run([vpy, "-m", "pip", "list", "--format=json"]).stdout)
        have = {norm_name(p["name"]): p["version"] for p in listed}
        have.pop("pip", None)
        if have != pins:
            problems.append(f"{label}: installed set differs from the lock: "
                            f"{sorted(set(have.items()) ^ set(pins.items()))}")
        imported = run([vpy, "-c", "import prefect, sqlmodel, sqlalchemy, fastapi, pendulum"])
        if imported.returncode:
            problems.append(f"{label}: import failed: {imported.stderr.strip()[-600:]}")
        print(f"[check_install] {label}: {'ok' if not problems else 'FAILED'} "
              f"({len(reported)} distributions from the lock)", flush=True)
        return problems
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_platforms(pythons: tuple[str, ...] = ("3.11", "3.12", "3.13")) -> tuple[list[str], list[str]]:
    """(problems on claimed platforms, notes on others): every pinned file is downloadable
    for the platform with only the lock's hashes and only wheels."""
    problems, notes = [], []
    for label, options in PLATFORMS.items():
        for py in pythons:
            with tempfile.TemporaryDirectory(prefix="dangjian-dl-") as dest:
                got = run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--require-hashes",
                           "--only-binary", ":all:", "--python-version", py, *options,
                           "-d", dest, "-r", LOCK])
            ok = got.returncode == 0
            print(f"[check_install] {label}, Python {py}: {'complete' if ok else 'INCOMPLETE'}", flush=True)
            if not ok:
                tail = (got.stderr or got.stdout).strip().splitlines()[-3:]
                (problems if label in CLAIMED else notes).append(f"{label} Python {py}: {' / '.join(tail)}")
    return problems, notes


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", help="interpreter to check (repeatable)")
    parser.add_argument("--current-pip", action="store_true", help="also check with the newest pip")
    parser.add_argument("--platforms", action="store_true", help="check the lock's files per platform")
    args = parser.parse_args(argv)
    pythons = args.python or find_pythons()
    problems: list[str] = []
    for python in pythons:
        problems += check_python(python, current_pip=False)
        if args.current_pip:
            problems += check_python(python, current_pip=True)
    if args.platforms:
        claimed, notes = check_platforms()
        problems += claimed
        for note in notes:
            print(f"[check_install] not covered (not claimed): {note}")
    for p in problems:
        print(f"[check_install] {p}", file=sys.stderr)
    print(f"[check_install] {'all checks passed' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
