"""The README's commands, run as written, in order, on a fresh directory (issue 11).

Every fenced block after "## 两条命令" is run line by line through bash with `dangjian` on
PATH, in a scratch directory that sees the repository's `dangjian/`, `rules/` and `docs/`
folders, so the README's relative paths and its default `./dangjian.db` work as a user's
would. A hidden comment before a block can set the moment it is typed at
(`<!-- readme-test: now 2027-01-04T09:00:00+08:00 -->`: a user closes the year in January)
or skip it with the test that covers it instead (`<!-- readme-test: skip tests/… -->`).
`dangjian web` and `dangjian serve` run until stopped: each is started, must come up, and is
stopped with Ctrl-C.
"""
from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DIRECTIVE = re.compile(r"<!--\s*readme-test:\s*(\w+)\s*(.*?)\s*-->")
LONG_RUNNING = ("dangjian web", "dangjian serve")


@dataclass
class Block:
    line: int                     # README line of the opening fence
    commands: list[tuple[int, str]] = field(default_factory=list)
    now: str | None = None
    skip: str | None = None


def readme_blocks(text: str) -> list[Block]:
    """Fenced blocks outside the two-commands section, each command joined across `\\` lines."""
    blocks: list[Block] = []
    lines = text.splitlines()
    section, directives, index = "", {}, 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("## "):
            section = line
        if (found := DIRECTIVE.search(line)):
            directives[found.group(1)] = found.group(2)
        if line.startswith("```"):
            block = Block(line=index + 1, now=directives.get("now"), skip=directives.get("skip"))
            directives = {}
            index += 1
            pending, first = "", 0
            while index < len(lines) and not lines[index].startswith("```"):
                raw = lines[index]
                if not pending:
                    first = index + 1
                pending += raw
                if raw.rstrip().endswith("\\"):
                    pending = pending.rstrip()[:-1] + " "
                elif pending.strip() and not pending.strip().startswith("#"):
                    block.commands.append((first, pending.strip()))
                    pending = ""
                else:
                    pending = ""
                index += 1
            if "两条命令" not in section:   # those two are CI itself and tests/flows/test_demo.py
                blocks.append(block)
        index += 1
    return blocks


def workspace(tmp_path: Path) -> dict[str, str]:
    """A scratch directory that looks like the repository to the README's relative paths."""
    for name in ("dangjian", "rules", "docs"):
        (tmp_path / name).symlink_to(ROOT / name)
    bin_dir = tmp_path / ".bin"
    bin_dir.mkdir()
    shim = bin_dir / "dangjian"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m dangjian "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DANGJIAN_DATABASE", "PREFECT_API"))}
    env.update(PATH=f"{bin_dir}:{env['PATH']}", PYTHONPATH=str(ROOT), NO_COLOR="1", COLUMNS="80",
               PREFECT_HOME=str(tmp_path / ".dangjian" / "prefect"))
    env.pop("DANGJIAN_FILES_DIR", None)
    return env


def run_command(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600, check=False, stdin=subprocess.DEVNULL)


def run_until_ready(command: str, cwd: Path, env: dict[str, str], ready: Callable[[str], bool]) -> str:
    """Start a command that serves until stopped, wait until `ready(output)`, stop it with Ctrl-C."""
    log = cwd / f"long-running-{abs(hash(command))}.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=cwd, env=env,
                                   stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None:
            if ready(log.read_text(encoding="utf-8", errors="replace")):
                break
            time.sleep(0.5)
        output = log.read_text(encoding="utf-8", errors="replace")
        assert process.poll() is None, f"{command} 退出了：\n{output[-3000:]}"
        assert ready(output), f"{command} 未就绪：\n{output[-3000:]}"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    output = log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in output, output[-3000:]
    assert process.returncode in (0, 130), output[-3000:]
    return output


def web_answers(_output: str) -> bool:
    try:
        with urllib.request.urlopen("http://127.0.0.1:8000/login", timeout=2) as response:
            return response.status == 200 and "登录" in response.read().decode("utf-8")
    except OSError:
        return False


def test_readme_blocks_are_found_with_their_commands():
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    commands = [c for b in blocks for _, c in b.commands]
    assert any(c.startswith("dangjian init") for c in commands)
    assert any(c.startswith("dangjian tasks close ") for c in commands)
    words = [w for b in blocks if not b.skip for _, c in b.commands for w in shlex.split(c, comments=True)]
    assert "…" not in "".join(words), "README 里的命令必须能照原样运行，不能有省略号"


def test_every_readme_command_runs_as_written_on_the_demo_county(tmp_path):
    env = workspace(tmp_path)
    suite_now = os.environ.get("DANGJIAN_NOW")
    failures: list[str] = []
    ran: list[str] = []
    for block in readme_blocks(README.read_text(encoding="utf-8")):
        if block.skip:
            continue
        block_env = {**env, "DANGJIAN_NOW": block.now or suite_now or env.get("DANGJIAN_NOW", "")}
        for line, command in block.commands:
            ran.append(command)
            if command.startswith("dangjian web"):
                run_until_ready(command, tmp_path, block_env, web_answers)
                continue
            if command.startswith("dangjian serve"):
                run_until_ready(command, tmp_path, block_env, lambda out: "按 Ctrl-C 停止" in out)
                continue
            result = run_command(command, tmp_path, block_env)
            shown = (result.stdout + result.stderr)[-2500:]
            if result.returncode != 0 or "Traceback" in shown:
                failures.append(f"README.md:{line}: {command}\n退出码 {result.returncode}\n{shown}")
                break             # later commands in the block build on this one
    assert failures == [], "\n\n".join(failures)
    # the whole year ran: set-up, reports, review, scoring, the year's end and the leader's reading
    for expected in ("dangjian init", "dangjian tasks close ", "dangjian review accept", "dangjian score ",
                     "dangjian close-cycle", "dangjian scorecard", "dangjian web", "dangjian serve"):
        assert any(c.startswith(expected) for c in ran), expected
    assert (tmp_path / "dangjian.db").is_file() and (tmp_path / "评分.xlsx").is_file()


@pytest.mark.parametrize("text, expected", [
    ("## 日常使用\n```\ndangjian a \\\n  --b c   # 说明\n# 整行注释\ndangjian d\n```\n",
     ["dangjian a    --b c   # 说明", "dangjian d"]),
])
def test_continuation_lines_join_and_comment_lines_are_dropped(text, expected):
    (block,) = readme_blocks(text)
    assert [c for _, c in block.commands] == expected
