"""LaTeX to PDF, the careful way: latexmk in a temporary folder, no shell escape, paranoid
file access, a wall-clock limit, reproducible dates; the PDF is moved into place only on success.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from derive.errors import DeriveError

TEX_PACKAGES = "texlive-latex-base texlive-latex-recommended texlive-latex-extra latexmk lmodern"
HINT = f"PDF skipped: latexmk not found (on Debian/Ubuntu: apt-get install {TEX_PACKAGES})"
TIMEOUT = 60.0
EPOCH = "0"  # reproducible PDFs when SOURCE_DATE_EPOCH is not set


class TexError(DeriveError):
    """TeX stopped: the error and its line in the .tex file."""


def available() -> bool:
    return shutil.which("latexmk") is not None and shutil.which("pdflatex") is not None


def command(jobname: str = "sheet") -> list:
    return ["latexmk", "-pdf", "-norc", "-halt-on-error", "-interaction=nonstopmode", "-no-shell-escape",
            "-file-line-error", f"-jobname={jobname}", f"{jobname}.tex"]


def source_date_epoch() -> str:
    """$SOURCE_DATE_EPOCH (default 0) checked: whole seconds since 1970, up to the year 9999."""
    value = os.environ.get("SOURCE_DATE_EPOCH", EPOCH).strip()
    if not value.isdigit() or len(value) > 12 or int(value) > 253402300799:
        shown = value if len(value) <= 40 else value[:39] + "…"
        raise DeriveError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970 (up to the year 9999), "
                          f"not {shown!r}; unset it for reproducible PDFs dated 1970")
    return value


def environment() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXMF", "TEXINPUTS", "openin", "openout"))}
    env.update({
        "openin_any": "p",  # no absolute paths, no parent folders, no dot files
        "openout_any": "p",
        "shell_escape": "f",
        "SOURCE_DATE_EPOCH": source_date_epoch(),
        "FORCE_SOURCE_DATE": "1",
        "max_print_line": "1000",  # error lines unbroken in the log
    })
    return env


def tex_error(log: str, name: str) -> str:
    """`sheet.tex:12: Undefined control sequence` from a TeX log, or the first error found."""
    m = re.search(r"^(?:\./)?[^\s:]+\.tex:(\d+): (.+)$", log, re.MULTILINE)
    if m:
        return f"{name}:{m.group(1)}: {m.group(2).strip()}"
    m = re.search(r"^! (.+)$", log, re.MULTILINE)
    if m:
        line = re.search(r"^l\.(\d+)", log[m.end():], re.MULTILINE)
        return f"{name}:{line.group(1) if line else '?'}: {m.group(1).strip()}"
    return f"{name}: LaTeX failed (no error line in the log)"


def compile_pdf(tex: str, dest: Path, *, name: str | None = None, timeout: float = TIMEOUT,
                log_to: Path | None = None) -> Path:
    """Compile `tex` and put the PDF at `dest`; TexError with the TeX error and line otherwise.

    Nothing is written to `dest`'s folder unless the compile succeeds. `log_to` receives TeX's log
    (overfull lines and all) when the compile succeeds.
    """
    if not available():
        raise DeriveError(HINT)
    dest = Path(dest)
    name = name or dest.with_suffix(".tex").name
    with tempfile.TemporaryDirectory(prefix="derive-tex-") as tmp:
        src = Path(tmp) / "sheet.tex"
        src.write_text(tex, encoding="utf-8")
        proc = subprocess.Popen(command(), cwd=tmp, env=environment(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # latexmk runs pdflatex as a child: end the whole group it leads, nothing else.
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise TexError(f"{name}: LaTeX did not finish within {timeout:g} s (a loop in the source?)") from None
        log_path = Path(tmp) / "sheet.log"
        log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else out.decode(
            "utf-8", "replace")
        pdf = Path(tmp) / "sheet.pdf"
        if proc.returncode != 0 or not pdf.exists():
            raise TexError(tex_error(log, name))
        from derive.sheets.files import write_atomic

        write_atomic(dest, pdf.read_bytes())
        if log_to is not None:
            write_atomic(Path(log_to), log)
    return dest
