"""The benchmark harness: every figure is a ratio against a baseline measured in the same run.

    python benchmarks/run.py            # full sizes; prints the tables, writes benchmarks/results.md
    python benchmarks/run.py --quick    # tiny sizes (CI smoke test); writes nothing unless -o is given
    python benchmarks/run.py --generated 10000   # the checking benchmark also grades 10,000 generated answers

Each benchmark is a script of its own in this folder (run alone with --quick for a short run):
  bench_render.py   rendering all bundled sheets vs `python -c "import sympy, jinja2"`   goal <= 1.5x
  bench_check.py    answer checks/s through the warm pool vs simplify(a - b) == 0       goal >= 300/s, >= 10x
  bench_depth.py    dL/dW1 of affine>sigmoid chains, depth 2..32, vs the expanded route  goal <= 12x (4 -> 32);
                    an RNN unrolled over T = 4..64 steps                  goal: cost per step <= 2x (linear)
  bench_startup.py  `derive --help` and `derive list` vs `python -c "import sympy"`     goal <= 0.5x
  bench_serve.py    POST /api/check from 50 clients on loopback vs the pool alone      goal 0 failed
  bench_first.py    one `derive check`, `derive show` of every entry (warm, cold) and of a three-layer
                    network (warm) vs `python -c "import sympy"`          goal <= 1.5x, 1.2x / 2x, 1.5x
  bench_modules.py  each registry entry's derivation with its checks vs sympy.diff of the expanded
                    definition                                            goal < 2 s each
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = (
    ("Rendering the bundled sheets", "bench_render.py"),
    ("Checking answers", "bench_check.py"),
    ("Depth of a network", "bench_depth.py"),
    ("Start-up", "bench_startup.py"),
    ("The checking page under load", "bench_serve.py"),
    ("The first answer", "bench_first.py"),
    ("Time per module", "bench_modules.py"),
)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    busy = hasattr(os, "getloadavg") and os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1)
    return (f"{cpu}; {os.cpu_count()} cores; Python {platform.python_version()} on {platform.system()} "
            f"{platform.release()}; load average before the run {load}"
            + (" (busy: other work shared the machine, so the ratios are noisier than on a quiet one)"
               if busy else ""))


def run(script: str, quick: bool, extra: tuple = ()) -> str:
    cmd = [sys.executable, str(HERE / script)] + (["--quick"] if quick else []) + list(extra)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0 and not proc.stdout.strip():
        raise SystemExit(f"{script} failed:\n{proc.stderr.strip()}")
    if proc.returncode != 0:  # a table that misses its goal is still reported, with the rest of the run
        return proc.stdout.rstrip() + f"\n({script} exited {proc.returncode}: its goal was missed in this run)"
    return proc.stdout.rstrip()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for CI")
    parser.add_argument("-o", "--output", help="where to write the report (default: benchmarks/results.md, "
                        "not written with --quick)")
    parser.add_argument("--generated", type=int, default=0, metavar="N",
                        help="the checking benchmark also grades N generated answers of known truth")
    args = parser.parse_args(argv)
    header = (f"# Benchmark results\n\nMachine: {machine()}.\n"
              f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
              f"{' (quick sizes)' if args.quick else ''}. Every figure is a ratio against a baseline "
              "measured in the same run.\n")
    sections = [header]
    for title, script in BENCHMARKS:
        extra = ("--generated", str(args.generated)) if args.generated and script == "bench_check.py" else ()
        table = run(script, args.quick, extra)
        print(f"== {title} ({script})\n{table}\n", flush=True)
        sections.append(f"## {title}\n\n`python benchmarks/{script}`\n\n```\n{table}\n```\n")
    out = args.output or (None if args.quick else str(HERE / "results.md"))
    if out:
        notes = HERE / "notes.md"
        text = "\n".join(sections) + ("\n" + notes.read_text() if notes.exists() else "")
        tmp = Path(out).with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, out)
        print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
