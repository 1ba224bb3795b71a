"""Test-wide safety: no network, no user files, no keys from the environment."""

from __future__ import annotations

import atexit
import ipaddress
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# `datasets` and `huggingface_hub` fix their cache folders when first imported, which can be at collection
# (TRL imports `datasets`), before any fixture runs: point them at a throw-away folder before anything imports
# them, so no test writes to the user's ~/.cache/huggingface.
_HF_HOME = tempfile.mkdtemp(prefix="humanllm-tests-hf-")
atexit.register(shutil.rmtree, _HF_HOME, ignore_errors=True)
os.environ["HF_HOME"] = _HF_HOME
os.environ["HF_DATASETS_CACHE"] = os.path.join(_HF_HOME, "datasets")

from tests._workers import CORES_PER_WORKER, XDIST_WORKERS  # noqa: E402

if XDIST_WORKERS > 1:  # torch reads these once, at its import; subprocesses inherit them
    for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_variable, str(CORES_PER_WORKER))

from humanllm.errors import DataError  # noqa: E402 (after the cache folders are set)
from humanllm.evaluation import verify_store  # noqa: E402
from humanllm.testing import register_fakes  # noqa: E402

_real_connect = socket.socket.connect


def _is_loopback(address: object) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return isinstance(address, str | bytes)  # unix sockets


class NetworkAccessError(RuntimeError):
    """Raised when a test tries to reach the network."""


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection beyond loopback fails loudly."""

    def guarded(self: socket.socket, address: object) -> None:
        if not _is_loopback(address):
            raise NetworkAccessError(f"tests must not touch the network (tried {address!r})")
        _real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)


_real_getaddrinfo = socket.getaddrinfo


def _guarded_getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    if host not in (None, "localhost") and not str(host).startswith("127.") and host != "::1":
        raise NetworkAccessError(f"tests must not resolve hosts (tried {host!r})")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """User paths point into tmp_path; no keys, endpoints or user patterns leak in."""
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "HF_TOKEN",
        *(k for k in os.environ if k.startswith("HUMANLLM_")),
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # for subprocesses and late imports
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf" / "datasets"))


@pytest.fixture(autouse=True, scope="session")
def _fake_backend() -> None:
    """`fake` model specs build from the test kit here, as they do in the CLI (see `humanllm.llm._fakes`)."""
    register_fakes()


@pytest.fixture(autouse=True)
def _stores_verify(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    """Every store a test writes passes `humanllm data verify`: each id is the hash of its stored spec.

    Tests that tamper with records on purpose are marked `tampers_store`; files that are not
    records at all (torn lines, garbage written to test the readers) are the readers' tests, not this.
    """
    yield
    if request.node.get_closest_marker("tampers_store") or not tmp_path.exists():
        return
    try:
        report = verify_store(tmp_path)
    except DataError:
        return
    assert report.ok, "stores written by this test fail `data verify`:\n" + "\n".join(
        mismatch.line() for mismatch in report.mismatches
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files holding `slow` tests first, each file's tests kept together and in order.

    Under `--dist loadfile` a worker takes a whole file; handing out the longest files first keeps one
    long file (the llama.cpp server, training) from starting last and running alone at the end.
    """
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # stable: the rest keep their order
