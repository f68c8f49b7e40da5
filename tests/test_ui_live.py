"""ui/live.py pieces that need no running job: labels and the live quality read-out."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from ganlab.config import TrainConfig
from ganlab.train.snapshot import JobSnapshot
from ui.live import job_label


def test_job_label_shows_run_state_and_progress() -> None:
    snap = JobSnapshot("j", "00003-dcgan-digits", "running", 120, 500, TrainConfig())
    assert job_label(snap).endswith("00003-dcgan-digits · running · 120/500")


def _quality_as_the_panel_draws_it(history: list[dict]) -> None:
    """The live panel's quality part (ui/live.py _fill): the read-out, then the curve when there is one."""
    import streamlit as st

    from ui.quality import quality_curve, quality_readout

    quality_readout(history)
    curve = quality_curve(history)
    if curve is not None:
        key, spec, table = curve
        st.vega_lite_chart(table, spec, key=key)


def _quality_app() -> None:
    from tests.test_ui_live import _quality_as_the_panel_draws_it

    alarm = {"kind": "collapse", "message": "Mode collapse? coverage fell from 0.60 to 0.10.", "try": "Try EMA."}
    _quality_as_the_panel_draws_it(
        [{"step": 10, "loss_d": 1.0}, {"step": 20, "fid": 80.0, "extractor": "digits", "n_fake": 500},
         {"step": 30, "fid": 60.0, "kid": 0.05, "extractor": "digits", "n_fake": 500, "precision": 0.7,
          "recall": 0.4, "knn_coverage": 0.1, "alarm": alarm}])


def test_quality_readout_shows_distance_best_fidelity_diversity_and_the_alarm() -> None:
    at = AppTest.from_function(_quality_app).run()
    assert not at.exception
    metrics = {m.label: m for m in at.metric}
    fd = metrics["Live FD (lower is better)"]
    assert (fd.value, fd.delta) == ("60", "-20")
    assert metrics["Best FD"].value == "60"
    assert (metrics["Precision"].value, metrics["Recall"].value, metrics["Coverage"].value) == ("0.70", "0.40", "0.10")
    assert len(at.get("vega_lite_chart")) == 1
    assert at.warning[0].value.startswith("Mode collapse? coverage fell") and "Try EMA." in at.warning[0].value


def _quiet_app() -> None:
    from tests.test_ui_live import _quality_as_the_panel_draws_it

    _quality_as_the_panel_draws_it([{"step": 20, "fid": 80.0, "extractor": "digits", "n_fake": 500}])


def test_quality_readout_without_alarm_shows_no_warning_and_one_point_no_curve() -> None:
    at = AppTest.from_function(_quiet_app).run()
    assert not at.exception and not at.warning
    assert len(at.get("vega_lite_chart")) == 0


def test_poll_interval_stops_once_the_job_has_ended() -> None:
    from ui.live import POLL_PAUSED_S, POLL_QUEUED_S, POLL_RUNNING_S, poll_interval

    def snap(state: str) -> JobSnapshot:
        return JobSnapshot("j", "r", state, 0, 10, TrainConfig())

    assert poll_interval(snap("running")) == POLL_RUNNING_S
    assert poll_interval(snap("paused")) == POLL_PAUSED_S > POLL_RUNNING_S
    assert poll_interval(snap("queued")) == POLL_QUEUED_S
    assert [poll_interval(snap(s)) for s in ("finished", "stopped", "failed", "diverged")] == [None] * 4


def test_the_panel_does_not_rebuild_charts_or_images_when_nothing_changed(app_manager, monkeypatch) -> None:
    import ui.live as live
    import ui.live_grids as live_grids
    from tests.helpers import open_page, tiny_config

    monkeypatch.setenv("GANLAB_JOB_MODE", "thread")
    built = {"charts": 0, "png": 0}
    real_loss, real_png = live.loss_spec, live_grids.png_bytes

    def counting_loss(*args, **kwargs):
        built["charts"] += 1
        return real_loss(*args, **kwargs)

    def counting_png(*args, **kwargs):
        built["png"] += 1
        return real_png(*args, **kwargs)

    monkeypatch.setattr(live, "loss_spec", counting_loss)
    monkeypatch.setattr(live_grids, "png_bytes", counting_png)
    live.live_charts.clear(), live_grids.grid_png.clear(), live_grids.file_png.clear()
    job = app_manager.submit(tiny_config(max_steps=1_000_000, checkpoint_every=1_000_000, sample_every=2))
    job.wait_for(lambda s: s.step >= 4, timeout=60)
    job.pause()
    paused_at = job.wait_for(lambda s: s.state == "paused", timeout=30).step  # it may have gone past step 4
    tabs = [open_page("pages/1_Train.py", 60).run()]
    first = dict(built)
    assert first["charts"] == 1 and first["png"] >= 1  # the charts and the grids this panel shows
    tabs += [open_page("pages/1_Train.py", 60).run() for _ in range(2)]  # two more tabs on the same panel
    for at in tabs:
        at.run()  # a second refresh in each tab
        assert not at.exception, at.exception
    assert built == first  # nothing new: every tab and refresh re-sent what was built once
    job.step_both()  # new data: the next refresh builds once more
    job.wait_for(lambda s: s.step >= paused_at + 1, timeout=30)
    tabs[0].run()
    assert not tabs[0].exception, tabs[0].exception
    assert built["charts"] == 2
    job.stop()


def _grids_app(folder: str) -> None:
    import json
    from pathlib import Path
    from types import SimpleNamespace

    import numpy as np

    from ui.live_grids import earlier_steps, grid_picker, pinned_step, show_grid

    steps = json.loads((Path(folder) / "steps.json").read_text())
    saved = [(s, Path(folder) / f"{s}.png") for s in steps[:-1]]  # the newest is in memory, not yet listed
    job = SimpleNamespace(run=SimpleNamespace(sample_paths=lambda: saved))
    snap = SimpleNamespace(job_id="j", grid=np.full((8, 8, 3), steps[-1] % 256, np.uint8), grid_step=steps[-1],
                           active=True)
    earlier = earlier_steps(job, snap)
    show_grid(job, snap, pinned_step("j", earlier))  # drawn by the panel's fragment
    grid_picker("j", earlier)  # drawn below it, outside the fragment


def test_grid_picker_follows_new_grids_until_moved_back_and_again_once_moved_to_newest(tmp_path) -> None:
    import json

    from PIL import Image

    from ui.live_grids import NEWEST

    def arrive(*steps: int) -> None:  # training saved these grids (the last one only in memory so far)
        for s in steps[:-1]:
            Image.new("RGB", (8, 8), (s % 256, 0, 0)).save(tmp_path / f"{s}.png")
        (tmp_path / "steps.json").write_text(json.dumps(list(steps)))

    def shown(at: AppTest) -> tuple[int, list[int], str]:
        assert not at.exception, at.exception
        slider = at.select_slider[0]
        return slider.value, list(slider.options), at.image[0].captions[0]

    arrive(0, 200)
    at = AppTest.from_function(_grids_app, args=(str(tmp_path),)).run()
    assert shown(at) == (NEWEST, ["step 0", "newest"], "newest grid · step 200")
    arrive(0, 200, 400)
    assert shown(at.run()) == (NEWEST, ["step 0", "step 200", "newest"], "newest grid · step 400")  # followed
    at.select_slider[0].set_value(200).run()
    assert shown(at)[::2] == (200, "step 200")
    arrive(0, 200, 400, 600)
    assert shown(at.run())[::2] == (200, "step 200")  # stays where the user went back to while grids keep coming
    at.select_slider[0].set_value(NEWEST).run()
    arrive(0, 200, 400, 600, 800)
    assert shown(at.run())[::2] == (NEWEST, "newest grid · step 800")  # back on newest: follows again


def _stream_app(job_id: str) -> None:
    """The live panel's fragment run by itself (as its run_every timer runs it), not by a run of the page."""
    import streamlit as st

    from ui import live, state

    st.session_state.setdefault(state.LOG_Y, False)
    st.session_state.setdefault(state.SMOOTHING, 0.0)
    live.panel_body(job_id, live.POLL_RUNNING_S, "running")


def test_while_a_job_trains_the_fragment_redraws_the_panel_in_place_and_the_page_draws_it_once(
        app_manager, monkeypatch) -> None:
    import ui.live as live
    from tests.helpers import open_page, tiny_config

    monkeypatch.setenv("GANLAB_JOB_MODE", "thread")
    monkeypatch.setattr(live, "STREAM_S", 3.0)
    monkeypatch.setattr(live, "POLL_RUNNING_S", 0.5)
    seen: list[int] = []
    real_progress = live.show_progress

    def show_progress(fraction, step, *args) -> None:  # one call per redraw, with the step it shows
        seen.append(step)
        real_progress(fraction, step, *args)

    monkeypatch.setattr(live, "show_progress", show_progress)
    job = app_manager.submit(tiny_config(max_steps=1_000_000, checkpoint_every=1_000_000, sample_every=1_000_000))
    job.wait_for(lambda s: s.state == "running" and s.step >= 2, timeout=60)
    at = AppTest.from_function(_stream_app, args=(job.job_id,), default_timeout=60).run()
    assert not at.exception, at.exception
    assert 2 <= len(seen) <= 7 and seen[-1] > seen[0]  # redraws (about every 0.5 s for 3 s) in one run, newer data
    # Redrawn in place: one panel's worth of elements, the last redraw's step on the progress bar.
    assert len(at.get("vega_lite_chart")) == 2
    assert len([m for m in at.metric if m.label == "D updates"]) == 1
    progress = at.get("progress")
    assert len(progress) == 1 and f"{seen[-1]:,}" in progress[0].proto.text
    # A run of the whole page (a click, a first visit) draws the panel once: the rest of the page is not held up.
    seen.clear()
    page = open_page("pages/1_Train.py", 60).run()
    assert not page.exception, page.exception
    assert len(seen) == 1
    job.stop()
