"""Every ``sh`` block of README.md and docs/*.md runs against the session's local stack.

A reader copies these commands into a terminal next to ``./dev up``; this test
does the same, so a doc whose commands broke fails the suite. The conventions
(written for everyone who writes docs) are at the top of docs/local-stack.md:

* the ``sh`` blocks of one file run in order, each with ``bash -e -o pipefail``
  in the repository's root, and each starts with the shell variables and
  functions the blocks before it (in the same file) defined, as in one
  terminal; files share nothing;
* ``./dev`` finds the test's stack through ``$DEVSTACK_STATE_DIR``; ``$TMPDIR``
  is a fresh folder per file;
* after each file the stack's settings are put back as they were and every
  queue a block paused is resumed, so a failing doc cannot break the tests
  after it; a run that leaves an untracked file in the repository fails.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.deadlines import scaled

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
FENCE = re.compile(r"^```(\S*)\s*$")
BLOCK_DEADLINE_S = 300.0  # one block: several documents read by OCR on a loaded machine
FAILED_AT = "__DOC_BLOCK_FAILED_AT__"


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # the first command's line in the file
    code: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def sh_blocks(path: Path) -> list[Block]:
    """The ``sh`` fenced blocks of a Markdown file, in order."""
    blocks, tag, start, lines = [], None, 0, []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fence = FENCE.match(line)
        if tag is None and fence:
            tag, start, lines = fence.group(1), number + 1, []
        elif tag is not None and line.startswith("```"):
            if tag == "sh":
                blocks.append(Block(path, start, "\n".join(lines)))
            tag = None
        elif tag is not None:
            lines.append(line)
    return blocks


WITH_BLOCKS = [path for path in DOCS if sh_blocks(path)]


def _environment(stack, tmp: Path) -> dict[str, str]:
    """What a reader's terminal has: no AWS settings of the test process, the stack found
    through DEVSTACK_STATE_DIR, a scratch TMPDIR."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "MOTO", "PYTEST", "DEVSTACK_"))}
    env.update({"DEVSTACK_STATE_DIR": str(stack.state_dir), "TMPDIR": str(tmp),
                "PYTHONUNBUFFERED": "1"})
    return env


def _script(block: Block, carried: Path) -> tuple[str, int]:
    """The bash script that runs one block: the variables and functions of the blocks before
    it, the block, then a dump of what is defined now (for the next block). Returns the script
    and the script's line number of the block's first line."""
    prelude = [
        "set -Eeo pipefail",
        "__baseline=\" $(compgen -v | tr '\\n' ' ') \"",  # the shell's own variables and the env
        f"source {carried}",
        f"cd {ROOT}",
        f"trap 'echo \"{FAILED_AT} $LINENO $BASH_COMMAND\" >&2' ERR",
    ]
    dump = [
        "trap - ERR",
        "for __name in $(compgen -v); do",
        "  case \"$__baseline\" in *\" $__name \"*) continue;; esac",
        "  case \"$__name\" in __*) continue;; esac",
        f"  declare -p \"$__name\" >> {carried}.next",
        "done",
        f"declare -f >> {carried}.next",
    ]
    script = "\n".join([*prelude, block.code, *dump]) + "\n"
    return script, len(prelude) + 1


def run_block(block: Block, env: dict[str, str], carried: Path) -> None:
    script, offset = _script(block, carried)
    Path(f"{carried}.next").write_text("")
    process = subprocess.Popen(["bash", "--noprofile", "--norc", "-c", script], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    deadline = scaled(BLOCK_DEADLINE_S)
    try:
        output, _ = process.communicate(timeout=deadline)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"{block.where}: the block did not finish within {deadline:.0f} s:\n"
                    f"{block.code}\n--- output ---\n{output[-4000:]}")
    if process.returncode != 0:
        failed = re.findall(rf"^{FAILED_AT} (\d+) (.*)$", output, re.M)
        where = block.where
        if failed:
            line, command = failed[-1]
            where = f"{block.path.relative_to(ROOT)}:{block.line + int(line) - offset}: {command}"
        output = re.sub(rf"^{FAILED_AT} .*\n?", "", output, flags=re.M)
        pytest.fail(f"{where}\nexited with {process.returncode}; the block:\n{block.code}\n"
                    f"--- output ---\n{output[-4000:]}")
    Path(f"{carried}.next").replace(carried)


def _untracked() -> set[str] | None:
    try:
        listed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                                capture_output=True, text=True, timeout=scaled(60), check=True)
    except (OSError, subprocess.SubprocessError):
        return None  # not a git checkout: nothing to compare
    return {line[3:] for line in listed.stdout.splitlines() if line.startswith("?? ")}


def _settings(stack) -> dict[str, tuple[str, str]]:
    ssm = stack.client("ssm")
    found = {}
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=stack.env["SETTINGS_PATH"]):
        for parameter in page["Parameters"]:
            found[parameter["Name"]] = (parameter["Value"], parameter["Type"])
    return found


def _control(stack, path: str) -> None:
    request = urllib.request.Request(f"{stack.control_url}{path}", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=scaled(60)) as response:  # noqa: S310 - local
        response.read()


def _put_back(stack, before: dict[str, tuple[str, str]]) -> list[str]:
    """Restore the settings a file changed, resume every queue it paused; the names restored."""
    ssm, restored = stack.client("ssm"), []
    for name, (value, kind) in before.items():
        try:
            now = ssm.get_parameter(Name=name)["Parameter"]["Value"]
        except ssm.exceptions.ParameterNotFound:
            now = None
        if now != value:
            ssm.put_parameter(Name=name, Value=value, Type=kind, Overwrite=True)
            restored.append(name.rsplit("/", 1)[-1])
    for name in set(_settings(stack)) - set(before):
        ssm.delete_parameter(Name=name)
        restored.append(name.rsplit("/", 1)[-1])
    _control(stack, "/settings/refresh")
    state = json.loads((stack.state_dir / "state.json").read_text())
    for pump in state.get("pumps", []):
        source, _, handler = pump.partition(" -> ")
        if source.startswith("sqs:"):
            _control(stack, f"/pumps/{handler}/resume")
    return restored


@pytest.mark.parametrize("path", WITH_BLOCKS, ids=lambda path: str(path.relative_to(ROOT)))
def test_the_commands_of_the_doc_run(local_stack, path: Path, tmp_path: Path) -> None:
    env = _environment(local_stack, tmp_path)
    carried = tmp_path / "carried.sh"
    carried.write_text("")
    untracked = _untracked()
    settings = _settings(local_stack)
    try:
        for block in sh_blocks(path):
            run_block(block, env, carried)
    finally:
        _put_back(local_stack, settings)  # also when a block failed half-way
    if untracked is not None:
        left = sorted((_untracked() or set()) - untracked)
        assert not left, (f"running {path.relative_to(ROOT)}'s commands left untracked files in the "
                          f"repository: {left}: write them to a scratch folder (WORK=$(mktemp -d))")


def test_blocks_are_found_where_the_docs_have_them() -> None:
    """The parser sees the README's tour (a guard against a fence it cannot read)."""
    readme = sh_blocks(ROOT / "README.md")
    assert len(readme) >= 5
    assert any("./dev token applicant" in block.code for block in readme)
    assert all("```" not in block.code for path in DOCS for block in sh_blocks(path))
