"""Where a batch's CPU goes, by layer: a py-spy profile of `benchmarks/throughput.py`, summed per library.

Run:  py-spy record -r 250 -f raw -o prof.txt -- python benchmarks/throughput.py --concurrency 64
      python benchmarks/profile_layers.py prof.txt [--calls N]

Only samples of the event loop's thread count (py-spy also samples idle worker threads), minus
imports and model construction (one-time costs). Each sample goes to the innermost frame that
belongs to a named layer; standard-library frames (asyncio, json, ...) go to their caller's layer,
and to "event loop" when nothing calls them but the loop. With `--calls` (the model calls the run
made) the table shows milliseconds per call as well (at the sampling rate, `-r`).
"""

from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path

LAYERS: tuple[tuple[str, str], ...] = (
    ("openai/_vendor/httpx_aiohttp/", "HTTP (httpx, aiohttp)"),
    ("httpx/", "HTTP (httpx, aiohttp)"),
    ("httpx2/", "HTTP (httpx, aiohttp)"),
    ("httpcore/", "HTTP (httpx, aiohttp)"),
    ("aiohttp/", "HTTP (httpx, aiohttp)"),
    ("yarl/", "HTTP (httpx, aiohttp)"),
    ("multidict/", "HTTP (httpx, aiohttp)"),
    ("openai/", "openai SDK"),
    ("pydantic/", "pydantic"),
    ("pydantic_core/", "pydantic"),
    ("langchain_core/", "langchain-core"),
    ("langchain_openai/", "langchain-openai"),
    ("langgraph/", "langgraph"),
    ("pregel/", "langgraph"),
    ("_internal/", "langgraph"),  # langgraph/_internal (pydantic's shows as pydantic/_internal)
    ("graph/", "langgraph"),
    ("channels/", "langgraph"),
    ("jinja2/", "jinja2 (prompts)"),
    ("humanllm/simulation/_store", "episode store"),
    ("humanllm/simulation/_records", "episode store"),
    ("humanllm/", "humanllm"),
)
"""Path prefixes (as py-spy prints a frame's file: relative to its sys.path entry) -> layer; first match wins."""
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^:]*)(?::\d+)?\)$")
_ONE_TIME = ("_find_and_load", "RoleModels.build", "build_role_model")


def layer_of(file: str) -> str | None:
    path = file.split("site-packages/")[-1]
    return next((layer for prefix, layer in LAYERS if path.startswith(prefix)), None)


def attribute(lines: list[str]) -> tuple[collections.Counter[str], int]:
    """Samples per layer of the event loop's thread, and how many samples that was."""
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in lines:
        stack, _, number = line.rstrip().rpartition(" ")
        if not number.isdigit() or "_run_once" not in stack or any(mark in stack for mark in _ONE_TIME):
            continue
        frames = stack.split(";")
        layer = "event loop"
        for frame in reversed(frames):
            match = _FRAME.match(frame)
            found = layer_of(match.group("file")) if match else None
            if found is not None:
                layer = found
                break
        counts[layer] += int(number)
        total += int(number)
    return counts, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", type=Path, help="py-spy's `-f raw` output")
    parser.add_argument("--calls", type=int, default=0, help="Model calls the profiled run made.")
    parser.add_argument("--rate", type=int, default=250, help="py-spy's sampling rate (-r).")
    args = parser.parse_args()
    counts, total = attribute(args.profile.read_text(encoding="utf-8").splitlines())
    if not total:
        raise SystemExit(f"no event-loop samples in {args.profile}: record with py-spy -f raw")
    print(f"{'layer':<24} {'share':>6}" + (f" {'ms/call':>8}" if args.calls else ""))
    for layer, n in counts.most_common():
        per_call = f" {n / args.rate * 1000 / args.calls:>8.2f}" if args.calls else ""
        print(f"{layer:<24} {100 * n / total:>5.1f}%{per_call}")
    print(f"{'total':<24} {100:>5.1f}%" + (f" {total / args.rate * 1000 / args.calls:>8.2f}" if args.calls else ""))


if __name__ == "__main__":
    main()
