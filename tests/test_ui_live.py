"""ui/live.py pieces that need no running job: labels and the live quality read-out."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from ganlab.config import TrainConfig
from ganlab.train.snapshot import JobSnapshot
from ui.live import job_label


def test_job_label_shows_run_state_and_progress() -> None:
    snap = JobSnapshot("j", "00003-dcgan-digits", "running", 120, 500, TrainConfig())
    assert job_label(snap).endswith("00003-dcgan-digits · running · 120/500")


def _quality_app() -> None:
    from ui.live import _quality

    _quality([{"step": 10, "loss_d": 1.0}, {"step": 20, "fid": 80.0, "extractor": "digits"},
              {"step": 30, "fid": 60.0, "kid": 0.05, "extractor": "digits"}])


def test_quality_readout_shows_latest_fid_with_change_and_curve() -> None:
    at = AppTest.from_function(_quality_app).run()
    assert not at.exception
    fid = next(m for m in at.metric if m.label.startswith("Live FID"))
    assert (fid.value, fid.delta) == ("60", "-20")
    assert any(m.label.startswith("Live KID") for m in at.metric)
    assert len(at.get("plotly_chart")) == 1  # FID has two points: a curve; KID has one: a number only


def test_poll_interval_stops_once_the_job_has_ended() -> None:
    from ui.live import POLL_QUEUED_S, POLL_RUNNING_S, poll_interval

    def snap(state: str) -> JobSnapshot:
        return JobSnapshot("j", "r", state, 0, 10, TrainConfig())

    assert poll_interval(snap("running")) == POLL_RUNNING_S
    assert poll_interval(snap("paused")) == POLL_RUNNING_S
    assert poll_interval(snap("queued")) == POLL_QUEUED_S
    assert [poll_interval(snap(s)) for s in ("finished", "stopped", "failed", "diverged")] == [None] * 4
