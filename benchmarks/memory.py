"""Peak memory (RSS) of the store commands on fake stores of growing size: it should stay about flat.

Run:  python benchmarks/memory.py [--sizes 1000,10000] [--generate-sizes 200,2000] [--only generate,eval] [--work DIR]

A fake store of N episodes is built quickly: `humanllm generate --model fake` runs once for a
handful of episodes, whose records are then cloned with fresh ids into `episodes-*.jsonl` shards
of 1,000 lines, with the manifest a real `generate` writes (its requested ids replaced). Each
command then runs as its own child process and its peak RSS is read from `os.wait4` (the
kernel's `ru_maxrss` of that child alone). `eval score` runs twice: judging everything, then
again with everything stored (nothing to judge). Generation itself is measured at smaller sizes
(`--generate-sizes`, default a fifth of `--sizes`): 10,000 fake episodes take long to generate.
Pass `--src DIR` to measure another checkout of the package (put first on PYTHONPATH).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHARD = 1000
SITUATIONS = 8  # `--situations all`: every bundle is played in each DIAMONDS situation


@dataclass(frozen=True)
class Measure:
    peak_mb: float
    seconds: float
    code: int


def _cli(src: Path | None) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ, NO_COLOR="1", COLUMNS="120")
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return [sys.executable, "-m", "humanllm"], env


def measure(command: list[str], env: dict[str, str], log: Path) -> Measure:
    """Run one command as a child process; its own peak RSS (MB), wall time and exit code."""
    start = time.monotonic()
    with log.open("ab") as out:
        out.write(f"$ {shlex.join(command)}\n".encode())
        out.flush()
        # cwd: `python -m` puts the working folder first on sys.path, before PYTHONPATH (--src)
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=log.parent)
        _pid, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            out.write(f"[exit {child.returncode}{' (killed by a signal)' if child.returncode < 0 else ''}]\n".encode())
    return Measure(usage.ru_maxrss / 1024, time.monotonic() - start, child.returncode)


def seed_store(work: Path, cli: list[str], env: dict[str, str]) -> Path:
    """A small real store (16 episodes) to clone from."""
    seed = work / "seed"
    if not (seed / "manifest.json").exists():
        command = [*cli, "generate", "--model", "fake", "--n", "2", "--situations", "all", "--turns", "4-5"]
        subprocess.run([*command, "--out", str(seed), "--json"], env=env, check=True, capture_output=True, cwd=work)
    return seed


def clone_store(seed: Path, target: Path, size: int) -> Path:
    """A store of `size` episodes: the seed's records with fresh ids, in shards of SHARD lines.

    Each clone's speeches carry its number, so no two clones give the same SFT record (export-sft
    would drop them as duplicates and hold nothing), and each judged character gets its own
    seeded draw of patterns from the library, as in a real store: caches keyed by a bundle or a
    judge batch (schemas, sample infos) then see as many keys as they would in production.
    """
    from humanllm.patterns import load_library

    names = sorted(card.name for card in load_library())
    lines_in = [line for path in sorted(seed.glob("episodes-*.jsonl")) for line in path.read_text().splitlines()]
    records = [line for line in lines_in if line.strip()]
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    ids = []
    for start in range(0, size, SHARD):
        lines = []
        for index in range(start, min(size, start + SHARD)):
            record = json.loads(records[index % len(records)])
            record["id"] = hashlib.sha256(f"clone:{index}".encode()).hexdigest()[:16]
            for turn in record["conversation"]["turns"]:
                if turn.get("speech"):
                    turn["speech"] += f" (take {index})"
            _redraw_patterns(record["scenario"], names, random.Random(index))
            ids.append(record["id"])
            lines.append(json.dumps(record, ensure_ascii=False))
        (target / f"episodes-{start // SHARD:03d}of{(size + SHARD - 1) // SHARD:03d}.jsonl").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )
    manifest = json.loads((seed / "manifest.json").read_text(encoding="utf-8"))
    manifest.update(requested=size, requested_ids=ids)
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return target


def _redraw_patterns(scenario: dict[str, Any], names: list[str], rng: random.Random) -> None:
    """Give each character who carries patterns as many fresh ones; the bundle is their union."""
    bundle: list[str] = []
    for character, held in scenario["char2pattern"].items():
        if held:
            scenario["char2pattern"][character] = drawn = rng.sample(names, len(held))
            bundle += [name for name in drawn if name not in bundle]
    scenario["patterns"] = bundle or scenario["patterns"]


def store_commands(store: Path, work: Path) -> list[tuple[str, list[str]]]:
    scores = store / "scores-fake.json"
    return [
        ("data status", ["data", "status", str(store)]),
        ("data split", ["data", "split", str(store), "--out", str(work / "splits")]),
        ("data export-sft", ["data", "export-sft", str(store), "--out", str(work / "sft" / "sft.jsonl")]),
        ("eval score (judge all)", ["eval", "score", str(store), "--judge", "fake", "--runs", "1"]),
        ("eval score (all stored)", ["eval", "score", str(store), "--judge", "fake", "--runs", "1"]),
        ("eval report", ["eval", "report", str(scores), "--out", str(work / "report.html")]),
    ]


def _wanted(name: str, only: list[str] | None) -> bool:
    return only is None or any(name.startswith(prefix) for prefix in only)


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _label(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=_sizes, default=[1000, 10000], help="Store sizes (episodes), comma-separated.")
    parser.add_argument(
        "--generate-sizes", type=_sizes, default=None, help="Episodes generated per size (default: a fifth of each)."
    )
    parser.add_argument("--work", type=Path, default=None, help="Working folder (default: a temporary one).")
    parser.add_argument("--keep", action="store_true", help="Keep the working folder.")
    parser.add_argument("--src", type=Path, default=None, help="Measure the humanllm package found in this folder.")
    parser.add_argument(
        "--only",
        type=lambda text: [part.strip() for part in text.split(",") if part.strip()],
        default=None,
        help="Measure only the rows whose name starts with one of these, e.g. 'generate,eval score'.",
    )
    args = parser.parse_args()
    generate_sizes = args.generate_sizes or [max(SITUATIONS, size // 5) for size in args.sizes]
    if len(generate_sizes) != len(args.sizes):
        parser.error("give as many --generate-sizes as --sizes")
    work = (args.work or Path(tempfile.mkdtemp(prefix="humanllm-memory-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    cli, env = _cli(args.src.resolve() if args.src else None)
    log = work / "commands.log"
    print(f"python {shlex.join(sys.argv)}\nworking folder {work}; command output in {log}")
    rows: dict[str, dict[int, Measure]] = {}
    counts = [max(1, generated // SITUATIONS) for generated in generate_sizes]
    generate_row = f"generate ({' / '.join(str(n * SITUATIONS) for n in counts)} episodes)"
    try:
        seed = seed_store(work, cli, env)
        for size, n in zip(args.sizes, counts, strict=True):
            folder = work / f"n{size}"
            if _wanted("generate", args.only):
                command = [*cli, "generate", "--model", "fake", "--n", str(n), "--situations", "all"]
                command += ["--turns", "4-5", "--out", str(folder / "generated"), "--json"]
                rows.setdefault(generate_row, {})[size] = measure(command, env, log)
            store = clone_store(seed, folder / "store", size)
            for name, command in store_commands(store, folder):
                if not _wanted(name, args.only):
                    continue
                rows.setdefault(name, {})[size] = measure([*cli, *command], env, log)
            shutil.rmtree(folder)
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    _print(rows, args.sizes)
    print("command line: " + shlex.join([*cli, "<command>"]) + (f" (PYTHONPATH={args.src})" if args.src else ""))


def _print(rows: dict[str, dict[int, Measure]], sizes: list[int]) -> None:
    width = max(len(name) for name in rows) + 2
    head = "".join(f"{_label(size) + ' MB':>10}{'s':>8}" for size in sizes)
    print(f"\n{'peak RSS':<{width}}{head}")
    for name, by_size in rows.items():
        cells = ""
        for size in sizes:
            m = by_size.get(size)
            failed = "!" if m is not None and m.code else " "
            cells += f"{m.peak_mb:>9.0f}{failed}{m.seconds:>8.1f}" if m else f"{'–':>10}{'':>8}"
        print(f"{name:<{width}}{cells}")
    if any(m.code for by_size in rows.values() for m in by_size.values()):
        print("! = the command failed (see the log)")


if __name__ == "__main__":
    main()
