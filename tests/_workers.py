"""How many pytest-xdist workers share this machine, and the CPU threads each test's native code may use."""

from __future__ import annotations

import os

XDIST_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
"""How many pytest-xdist workers run at once (1 without xdist)."""
CORES_PER_WORKER = max(1, (os.cpu_count() or 1) // XDIST_WORKERS)
"""Threads for torch or llama.cpp in one test, so parallel workers do not oversubscribe the cores (spinning
native thread pools on a shared core slow a CPU-bound test several-fold)."""
