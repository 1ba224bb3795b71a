"""Browser fixtures: headless Debian Chromium driven by Playwright for Python, and the viewer on a real uvicorn.

Playwright's own browser download does not work offline, so `playwright install` is never run: the
tests point Playwright at the system's `chromium` (Debian's package; `.ci/run` installs it). Without
Playwright or Chromium the browser tests skip, and say why.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser")


def chromium_path() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium (module-wide); skips with the reason when Playwright or Chromium is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install playwright; no `playwright install` needed)")
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium on PATH: install Debian's package (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page; any dialog (an `alert` a `<script>` in the data would open) is recorded and dismissed."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.dialogs = []  # type: ignore[attr-defined]

    def on_dialog(dialog: Any) -> None:
        opened.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()

    opened.on("dialog", on_dialog)
    try:
        yield opened
    finally:
        context.close()


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """`app` served by a real uvicorn on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
