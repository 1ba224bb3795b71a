"""Start-up time of the CLI: `humanllm --help` and every subcommand's `--help`, each in a fresh process.

Runs the installed console script (`humanllm` next to this Python, else on PATH) `--repeat` times per
command and prints the median and max wall-clock seconds and the CPU seconds (user + sys) of the
median run; then `python -X importtime -m humanllm --help`'s top offenders (cumulative import time of
the modules loaded at top level, and the slowest modules by their own time). The goal is every
`--help` under 0.5 s: the CLI imports LangChain, LangGraph, torch and the like only inside commands.

Run:  python benchmarks/startup.py [--repeat 5] [--only "eval run"] [--top 15]
A worktree: PYTHONPATH=$PWD python benchmarks/startup.py (the console script imports the installed copy).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOAL_S = 0.5


def console_script() -> str:
    local = Path(sys.executable).parent / "humanllm"
    found = str(local) if local.exists() else shutil.which("humanllm")
    if found is None:
        sys.exit("the humanllm console script is not installed: pip install -e .")
    return found


def command_paths() -> list[list[str]]:
    """Every command and group of the CLI, as argument lists (`[]` is the root), read from the click tree."""
    import typer.main

    from humanllm.cli._app import register

    paths: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            if not getattr(sub, "hidden", False):
                walk(sub, [*path, name])

    walk(typer.main.get_command(register()), [])
    return paths


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + sys of the child) of one run, which must exit 0."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "120"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_offenders(top: int) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(top-level modules by cumulative microseconds, any modules by own microseconds) of `--help`."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "humanllm", "--help"], capture_output=True, text=True, check=True
    )
    cumulative: list[tuple[str, int]] = []
    own: list[tuple[str, int]] = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, self_us, total_us, name = (part for part in [line[:12], *line[12:].split("|")])
        if not self_us.strip().isdigit():
            continue  # the header line
        own.append((name.strip(), int(self_us)))
        if not name[1:].startswith(" "):  # loaded at top level, not by another module
            cumulative.append((name.strip(), int(total_us)))
    return sorted(cumulative, key=lambda x: -x[1])[:top], sorted(own, key=lambda x: -x[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="Runs per command.")
    parser.add_argument("--only", action="append", help='Only this command (e.g. "eval run"); repeatable.')
    parser.add_argument("--top", type=int, default=15, help="Import-time offenders to list.")
    args = parser.parse_args()

    script = console_script()
    paths = [p.split() for p in args.only] if args.only else command_paths()
    print(f"{script} ... --help, {args.repeat} runs each (goal: under {GOAL_S} s)")
    print(f"{'command':<36} {'median s':>9} {'max s':>7} {'cpu s':>7}")
    medians = []
    for path in paths:
        runs = sorted(timed([script, *path, "--help"]) for _ in range(args.repeat))
        walls = [wall for wall, _ in runs]
        median = statistics.median(walls)
        medians.append(median)
        flag = "" if median < GOAL_S else "  over"
        label = " ".join(["humanllm", *path])
        print(f"{label:<36} {median:>9.3f} {max(walls):>7.3f} {runs[len(runs) // 2][1]:>7.3f}{flag}")
    over = sum(m >= GOAL_S for m in medians)
    print(f"{len(medians)} commands: median of medians {statistics.median(medians):.3f} s, {over} over {GOAL_S} s")

    cumulative, own = import_offenders(args.top)
    print("\npython -X importtime -m humanllm --help: top-level imports by cumulative ms")
    for name, us in cumulative:
        print(f"  {us / 1000:8.1f}  {name}")
    print("slowest modules by their own ms")
    for name, us in own:
        print(f"  {us / 1000:8.1f}  {name}")


if __name__ == "__main__":
    main()
