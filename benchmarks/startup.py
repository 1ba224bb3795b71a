"""Start-up time of the CLI: `humanllm --help` and every group's and command's `--help`, each in a fresh process.

Finds the commands by reading each group's `--help`, runs the installed console script (`humanllm`
next to this Python, else on PATH) `--repeat` times per command, round robin, and prints the median
and max wall-clock seconds and the CPU seconds (user + sys) of the median run, with the floor every
`--help` pays (Python importing typer, its rich help and pydantic) timed alongside, then which heavy
libraries each `--help` imported (one more run under `-X importtime`),
and at the end `python -X importtime -m humanllm --help`'s top offenders. The goal is every `--help`
under 0.5 s: the CLI imports LangChain, LangGraph, torch and the like only inside the commands.

Run:  python benchmarks/startup.py [--repeat 5] [--only "eval run"] [--top 15] [--json FILE]
A worktree: PYTHONPATH=$PWD python benchmarks/startup.py (the console script imports the installed copy).
Timings are wall clock on a shared machine: compare medians, not single runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOAL_S = 0.5
HEAVY = (
    "langchain_core",
    "langchain",
    "langsmith",
    "langgraph",
    "openai",
    "torch",
    "transformers",
    "datasets",
    "trl",
    "peft",
    "inspect_ai",
    "llama_cpp",
    "networkx",
    "numpy",
    "huggingface_hub",
)
"""Top-level packages worth reporting when a `--help` imports them (pydantic, rich, typer, yaml are expected)."""

ENV = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}


def console_script() -> str:
    local = Path(sys.executable).parent / "humanllm"
    found = str(local) if local.exists() else shutil.which("humanllm")
    if found is None:
        sys.exit("the humanllm console script is not installed: pip install -e .")
    return found


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + sys of the child) of one run, which must exit 0."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_times(path: list[str]) -> list[tuple[str, int, int]]:
    """`(module, own us, cumulative us)` of every module `python -X importtime -m humanllm PATH --help` loads."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "humanllm", *path, "--help"],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    )
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue  # the header line
        rows.append((fields[2].rstrip(), int(fields[0]), int(fields[1])))
    return rows


def heavy_of(rows: list[tuple[str, int, int]]) -> list[str]:
    """The HEAVY packages among the imported modules."""
    loaded = {name.strip().split(".")[0] for name, _, _ in rows}
    return [name for name in HEAVY if name in loaded]


def subcommands(script: str, path: list[str]) -> list[str]:
    """The commands that `humanllm PATH --help` lists in its Commands panel (none for a command)."""
    text = subprocess.run([script, *path, "--help"], capture_output=True, text=True, check=True, env=ENV).stdout
    names: list[str] = []
    inside = False
    for line in text.splitlines():
        if "─ Commands ─" in line:
            inside = True
        elif inside and line.startswith("╰"):
            break
        elif inside and line.startswith("│ ") and not line[2:3].isspace():
            names.append(line[2:].split()[0])
    return names


def command_paths(script: str) -> list[list[str]]:
    """Every group and command, found the way a user would: by reading each group's `--help`."""
    paths: list[list[str]] = []

    def walk(path: list[str]) -> None:
        paths.append(path)
        for name in subcommands(script, path):
            walk([*path, name])

    walk([])
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="Timed runs per command (the median is reported).")
    parser.add_argument("--only", action="append", help='Only this command (e.g. "eval run", "" = root); repeatable.')
    parser.add_argument("--top", type=int, default=15, help="Import-time offenders of `humanllm --help` to list.")
    parser.add_argument("--json", type=Path, help="Also write the figures to this JSON file.")
    args = parser.parse_args()

    script = console_script()
    paths = [p.split() for p in args.only] if args.only else command_paths(script)
    # The floor every `--help` pays: Python, typer with its rich help, pydantic (seconds on this machine).
    floor = [sys.executable, "-c", "import typer, typer.rich_utils, pydantic"]
    argvs = [floor, *([script, *path, "--help"] for path in paths)]
    runs: list[list[tuple[float, float]]] = [[] for _ in argvs]
    for _ in range(args.repeat):  # round robin, so a busy moment of a shared machine hits every command
        for index, argv in enumerate(argvs):
            runs[index].append(timed(argv))
    print(f"{script} ... --help, {args.repeat} runs each (goal: under {GOAL_S} s), python {sys.version.split()[0]}")
    print(f"{'command':<34} {'median s':>9} {'max s':>7} {'cpu s':>7}  heavy imports")
    figures = []
    for index, path in enumerate([None, *paths]):
        ordered = sorted(runs[index])
        walls = [wall for wall, _ in ordered]
        median = statistics.median(walls)
        cpu = ordered[len(ordered) // 2][1]
        if path is None:
            print(f"{'(floor: typer + rich + pydantic)':<34} {median:>9.3f} {max(walls):>7.3f} {cpu:>7.3f}")
            floor_s = median
            continue
        heavy = heavy_of(import_times(path))
        label = " ".join(["humanllm", *path])
        flag = "" if median < GOAL_S else "  OVER"
        print(f"{label:<34} {median:>9.3f} {max(walls):>7.3f} {cpu:>7.3f}  {', '.join(heavy) or '-'}{flag}")
        figures.append({"command": label, "median_s": median, "max_s": max(walls), "cpu_s": cpu, "heavy": heavy})
    medians = [f["median_s"] for f in figures]
    over = sum(m >= GOAL_S for m in medians)
    print(
        f"{len(medians)} commands: median of medians {statistics.median(medians):.3f} s, "
        f"slowest {max(medians):.3f} s, {over} over {GOAL_S} s (floor {floor_s:.3f} s)"
    )

    rows = import_times([])
    top_level = [(name.strip(), total) for name, _, total in rows if not name.startswith("  ")]
    print(f"\npython -X importtime -m humanllm --help ({len(rows)} modules): top-level imports by cumulative ms")
    for name, us in sorted(top_level, key=lambda row: -row[1])[: args.top]:
        print(f"  {us / 1000:8.1f}  {name}")
    print("slowest modules by their own ms")
    for name, us, _ in sorted(rows, key=lambda row: -row[1])[: args.top]:
        print(f"  {us / 1000:8.1f}  {name.strip()}")
    if args.json:
        report = {"repeat": args.repeat, "floor_s": floor_s, "commands": figures}
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
