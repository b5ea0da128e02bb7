"""Every example of README.md runs as written: its `derive` commands (in this process, with the exit
code the README gives) and its Python blocks (in one session, in order; a script on its own as a
script). The few left out are listed in LEFT_OUT, each with its reason."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from derive.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)

# A command or block left out, by how it starts, with the reason.
LEFT_OUT = {
    "python3 -m venv": "installs the package into a new virtual environment (what CI's .ci/run does)",
    "pip install": "installs packages",
    "python -m pytest": "runs this very suite",
    "python benchmarks/run.py": "the benchmarks take minutes; tests/ runs their harness with --quick",
    "derive serve": "starts a server that runs until stopped (tests/test_serve*.py start one)",
    "derive grade softmax answers.csv": "grades the reader's own answers file (tests/test_grade_report.py)",
    "derive grade softmax --wrt x answers.csv": "grades the reader's own answers file into Gradescope's folder "
                                                "(tests/test_grade_report.py)",
    "derive sheet mysheet.toml": "renders the reader's own sheet file (tests/test_sheets.py)",
    "derive audit solution.md": "audits the reader's own written solution (tests/test_audit.py)",
    "derive.assert_correct(": "a test cell of the reader's autograded notebook: `student_answer` is theirs",
}


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(README.read_text(encoding="utf-8")) if lang == language]


def _left_out(text: str) -> bool:
    return any(text.lstrip().startswith(prefix) or prefix in text for prefix in LEFT_OUT)


def commands() -> list[tuple[str, int | None]]:
    """Each `derive` command line of the shell blocks, with the exit code its comment gives."""
    out = []
    for body in blocks("sh"):
        for line in body.splitlines():
            line = line.removeprefix("$ ").strip()
            if not line.startswith("derive ") or _left_out(line):
                continue
            m = re.search(r"#\s*exit (\d)", line)
            out.append((line, int(m.group(1)) if m else None))
    return out


def test_the_readme_has_examples_to_run():
    assert len(commands()) >= 10 and len(blocks("python")) >= 5


@pytest.mark.parametrize(("line", "code"), commands())
def test_a_readme_command_runs_as_written(line, code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    words = shlex.split(line, comments=True)
    target = None
    if ">" in words:  # the shell's redirection: the output into a file
        target, words = words[words.index(">") + 1], words[:words.index(">")]
    got = main(words[1:])
    out, err = capsys.readouterr()
    if got == 2 and "needs Graphviz" in err and shutil.which("dot") is None and not os.environ.get("CI"):
        pytest.skip("Graphviz's dot is not installed: this command draws pictures")
    if code is not None:
        expected = code
    elif words[1] == "show" and "sofmax" in words:
        expected = 2  # the README shows this one's error
    else:
        expected = None
    if expected is None:
        assert got in ((0, 1) if words[1] == "check" else (0,)), err  # a verdict, never an error
    else:
        assert got == expected, err
    if got == 2:
        assert len(err.strip().splitlines()) == 1 and err.startswith("derive: ")
    if target:
        Path(target).write_text(out)
        compile(out, target, "exec")  # the generated NumPy code is Python


def test_the_readme_python_runs_as_written_in_one_session(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme"}
    for body in blocks("python"):
        if _left_out(body) or "if __name__ ==" in body:
            continue
        exec(compile(body, "README.md", "exec"), namespace)  # noqa: S102  (our own README, run as a reader would)
    assert namespace["d"].result is not None


def test_the_readme_checkpool_example_runs_as_a_script(tmp_path):
    (script,) = [b for b in blocks("python") if "if __name__ ==" in b]
    path = tmp_path / "pool_example.py"
    path.write_text(script)
    env = {**os.environ, "PYTHONPATH": str(README.parent)}
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "correct" and "Traceback" not in done.stderr
