"""The benchmark harness runs end to end at tiny sizes (a smoke test: no timing is asserted)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_harness_runs_every_benchmark_and_writes_its_report(tmp_path):
    report = tmp_path / "results.md"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "-o", str(report)],
                          capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr
    text = report.read_text()
    for section in ("Rendering the bundled sheets", "Checking answers", "Depth of a network", "Start-up",
                    "The first answer", "Time per module"):
        assert f"## {section}" in text
    assert "Machine:" in text and "goal" in text
