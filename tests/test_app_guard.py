"""Who may drive the app: a foreign Host sees only a refusal; beyond loopback a session needs the token."""

from __future__ import annotations

import os
import stat

import pytest

from ganlab import paths
from tests.helpers import open_page
from ui import guard


def _serve(monkeypatch: pytest.MonkeyPatch, host: str | None, address: str = "127.0.0.1") -> None:
    monkeypatch.setattr(guard, "_headers", lambda: {"Host": host} if host else {})
    monkeypatch.setattr(guard, "_server_address", lambda: address)


@pytest.mark.parametrize("page", ["app.py", "pages/1_Train.py", "pages/2_Runs.py", "pages/3_Explore.py",
                                  "pages/4_Playground.py"])
def test_a_foreign_host_renders_only_the_refusal(monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    _serve(monkeypatch, "attacker.example:8501")
    at = open_page(page, 60).run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] and "Refused" in at.error[0].value
    assert not at.title and not at.button and not at.sidebar.get("page_link"), "the page rendered past the check"


@pytest.mark.parametrize("host", ["localhost:8501", "127.0.0.1:8501", "[::1]:8501", "192.168.1.20:8501"])
def test_loopback_names_and_ip_literals_are_one_click(monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    _serve(monkeypatch, host)
    at = open_page("pages/2_Runs.py", 60).run()
    assert not at.exception and not [e for e in at.error if "Refused" in e.value]
    assert at.title[0].value == "Runs"


def test_allowlisted_names_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANLAB_ALLOWED_HOSTS", "gpu-box.lan, lab.example.org")
    assert guard.host_allowed("lab.example.org:8501") and not guard.host_allowed("evil.example.org")


def test_beyond_loopback_nothing_runs_without_the_right_token(monkeypatch: pytest.MonkeyPatch) -> None:
    _serve(monkeypatch, "192.168.1.20:8501", address="0.0.0.0")
    at = open_page("pages/1_Train.py", 60).run()
    assert "needs its access token" in at.error[0].value and not at.title and not at.button
    at = open_page("pages/1_Train.py", 60)
    at.query_params["token"] = "wrong"
    at.run()
    assert "needs its access token" in at.error[0].value and not at.button
    at = open_page("pages/1_Train.py", 60)
    at.query_params["token"] = paths.app_token()
    at.run()
    assert not at.exception and at.title[0].value == "Train" and at.button(key="train.start")
    links = at.sidebar.get("page_link")
    assert links and all(paths.app_token() in str(link.proto) for link in links)  # navigation keeps the token


def test_no_address_means_every_interface_and_needs_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "_server_address", lambda: "")
    assert guard.needs_token()
    monkeypatch.setattr(guard, "_server_address", lambda: "127.0.0.1")
    assert not guard.needs_token()


def test_token_is_stored_private_and_stable() -> None:
    first = paths.app_token()
    mode = stat.S_IMODE(os.stat(paths.home() / "token").st_mode)
    assert mode == 0o600 and paths.app_token() == first and len(first) >= 32
