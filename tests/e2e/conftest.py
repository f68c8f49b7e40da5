"""Fixtures for the real-browser test: a `streamlit run app.py` server on a free port and headless Chromium."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
# Playwright's own browser download is not used: the Debian chromium is driven through executable_path.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"]
SERVER_START_TIMEOUT_S = 90.0  # cold import of torch + streamlit on a busy 2-core CI runner


def e2e_required() -> bool:
    """GANLAB_E2E=1 (set in CI) turns every reason to skip into a failure."""
    return os.environ.get("GANLAB_E2E", "").lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    """Skip with a visible reason, or fail when the e2e test is required."""
    if e2e_required():
        pytest.fail(f"{reason} (GANLAB_E2E=1 requires the end-to-end test to run)", pytrace=False)
    pytest.skip(reason)


def find_chromium() -> str | None:
    """Path of a system Chromium: $GANLAB_CHROMIUM, a Debian/Ubuntu location, or the PATH."""
    explicit = os.environ.get("GANLAB_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for path in CHROMIUM_CANDIDATES:
        if Path(path).is_file():
            return path
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.status == 200 and resp.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


def _stop(proc: subprocess.Popen) -> None:
    """Terminate the server's process group (it may have children), then kill it if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def app_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's GANLAB_HOME: runs and caches of this test only."""
    return tmp_path_factory.mktemp("ganlab_e2e_home")


@pytest.fixture(scope="module")
def app_server(app_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start `streamlit run app.py` on a free loopback port, wait for /_stcore/health, always stop it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("ganlab_e2e_log") / "streamlit.log"
    models = tmp_path_factory.mktemp("ganlab_e2e_models")  # the shipped models, copied: exports land here
    for model in (ROOT / "pretrained").glob("*.*"):
        shutil.copy2(model, models / model.name)
    env = dict(os.environ, GANLAB_HOME=str(app_home), GANLAB_PRETRAINED=str(models), GANLAB_TEST="1",
               PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # own process group: one killpg stops it all
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _healthy(url):
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with code {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy after {SERVER_START_TIMEOUT_S:.0f} s:\n"
                            f"{log_path.read_text()[-3000:]}")
            time.sleep(0.25)
        yield url
    finally:
        _stop(proc)
        server_log = log_path.read_text(errors="replace") if log_path.exists() else ""
        if "Traceback" in server_log:  # shown with -rA / on failure: the server's own errors
            print(f"--- streamlit server log ---\n{server_log[-5000:]}")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless system Chromium driven by Playwright (skips, or fails under GANLAB_E2E=1, without it)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("Python package playwright is not installed (pip install playwright)")
    executable = find_chromium()
    if executable is None:
        skip_or_fail("Chromium not found (apt-get install chromium, or set GANLAB_CHROMIUM=/path/to/chrome)")
    with sync_playwright() as pw:
        try:
            chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Exception as exc:  # noqa: BLE001 - any launch problem is "no usable browser"
            skip_or_fail(f"Chromium at {executable} did not start: {exc}")
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Remember each phase's report on the test item, so the page fixture knows whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture()
def page(browser: object, app_server: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """A fresh 1400x900 tab on the app that accepts downloads; JavaScript errors in it fail the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    context.set_default_timeout(60_000)  # 2 shared cores: a rerun can take seconds while training runs
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.base_url = app_server  # read by the test's helpers
    try:
        yield tab
        failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
        if failed:  # what the browser showed when it failed, for the CI log
            shot = tmp_path / "failure.png"
            tab.screenshot(path=str(shot), full_page=True)
            text = tab.locator("[data-testid='stMain']").inner_text(timeout=5_000)
            print(f"--- page at failure ({tab.url}), screenshot {shot} ---\n{text[:4000]}")
    finally:
        context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"
