"""The loopback mock OpenAI-compatible server from a shell, for users and benchmarks.

    python -m humanllm.testing.mock_server --port 8001 --latency-ms 200 [--faults 429:0.05,500:0.01]
        [--structured json_schema|json_object|function_calling|prompt] [--host 127.0.0.1] [--seed 0]

Prints its base URL (`http://HOST:PORT/v1`, one line, flushed) and serves in the foreground until
Ctrl-C or SIGTERM, then exits 0. `--port 0` takes a free port (the printed URL names it). A bad
argument is a one-line error and exit status 2. Point `humanllm generate --model openai:mock
--base-url URL` at it; `GET /v1/models` and `GET /health` answer for health checks.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import NoReturn, get_args

from humanllm.testing._server import FAULTS, Fault, MockOpenAIServer, Structured

USAGE_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def parse_faults(text: str) -> dict[Fault, float]:
    """`KIND:RATE,...` (e.g. `429:0.05,timeout:0.01`) as kind -> probability per request."""
    rates: dict[Fault, float] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        kind, sep, rate_text = item.partition(":")
        if not sep or kind not in FAULTS:
            raise argparse.ArgumentTypeError(
                f"{item!r}: give KIND:RATE with KIND one of {', '.join(FAULTS)}, e.g. 429:0.05"
            )
        try:
            rate = float(rate_text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{item!r}: the rate must be a number in [0, 1]") from None
        if not 0 <= rate <= 1:
            raise argparse.ArgumentTypeError(f"{item!r}: the rate must be in [0, 1]")
        rates[kind] = rate  # kind is checked against FAULTS above
    if sum(rates.values()) > 1:
        raise argparse.ArgumentTypeError(f"{text!r}: the rates add up to more than 1")
    return rates


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0-65535; 0 = a free one)")
    return port


def _latency(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of milliseconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError("the latency cannot be negative")
    return value


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m humanllm.testing.mock_server", description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=_port, default=0, help="Port to listen on (0 = a free one, printed).")
    p.add_argument("--host", default="127.0.0.1", help="Address to bind (default 127.0.0.1, loopback only).")
    p.add_argument("--latency-ms", type=_latency, default=0.0, help="Fixed delay before every chat reply.")
    p.add_argument(
        "--faults",
        type=parse_faults,
        default={},
        metavar="KIND:RATE,...",
        help=f"Injected faults per request, KIND one of {', '.join(FAULTS)}.",
    )
    p.add_argument(
        "--structured",
        choices=get_args(Structured),
        default="json_schema",
        help="Which way of asking for structured output it takes, as real servers differ.",
    )
    p.add_argument("--seed", type=int, default=0, help="Seed of the fault draws.")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        server = MockOpenAIServer(
            latency_s=args.latency_ms / 1000,
            fault_rates=args.faults or None,
            structured=args.structured,
            seed=args.seed,
            host=args.host,
            port=args.port,
        )
    except OSError as exc:
        sys.stderr.write(
            f"mock_server: error: cannot listen on {args.host}:{args.port} ({exc.strerror}): pick another --port\n"
        )
        return USAGE_ERROR
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with server:
        sys.stdout.write(server.base_url + "\n")
        sys.stdout.flush()
        while not stop.wait(0.5):  # a timed wait, so the signal handler runs promptly
            pass
    return 0


@contextlib.contextmanager
def mock_server_process(latency_s: float = 0.0, faults: str | None = None) -> Iterator[str]:
    """This command in a child process on a free loopback port; yields the base URL it printed.

    For benchmarks and scripts that must not count the server's CPU as theirs (the in-process
    `MockOpenAIServer` runs in threads of the caller). Stopped with SIGTERM on leaving.
    """
    command = [
        sys.executable,
        "-m",
        "humanllm.testing.mock_server",
        "--port",
        "0",
        "--latency-ms",
        f"{latency_s * 1000:g}",
    ]
    if faults:
        command += ["--faults", faults]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"the mock server did not start (exit {proc.wait()})")
        yield url
    finally:
        proc.terminate()  # SIGTERM: the server exits 0
        proc.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
