"""AppTest of the Train page: a tiny digits job started, paused, single-stepped, resumed and stopped."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ganlab.train.job import TrainingJob
from ganlab.train.snapshot import JobSnapshot
from tests.helpers import open_page

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 90  # seconds per script run: Stop waits for a checkpoint; CI machines are slow



def open_train() -> AppTest:
    at = open_page("pages/1_Train.py", TIMEOUT).run()
    assert not at.exception, at.exception
    return at


def tiny_settings(at: AppTest, max_steps: int = 5000) -> None:
    """Digits at 16 px with narrow nets: a step takes milliseconds; max_steps keeps it running."""
    at.selectbox(key="cfg.dataset").set_value("digits")
    at.selectbox(key="cfg.img_size").set_value(16)
    at.number_input(key="cfg.g_channels").set_value(8)
    at.number_input(key="cfg.d_channels").set_value(8)
    at.number_input(key="cfg.z_dim").set_value(16)
    at.number_input(key="cfg.batch_size").set_value(32)
    at.number_input(key="cfg.max_steps").set_value(max_steps)
    at.number_input(key="cfg.log_every").set_value(1)  # every step updates the snapshot counters
    at.number_input(key="cfg.sample_every").set_value(5)
    at.number_input(key="cfg.checkpoint_every").set_value(100_000)
    at.number_input(key="cfg.num_samples").set_value(16)
    at.selectbox(key="cfg.precision").set_value("fp32")


def run_until(at: AppTest, job: TrainingJob, predicate: Callable[[JobSnapshot], bool], timeout: float = 90) -> None:
    """Re-run the script (AppTest does not fire run_every timers) until the job satisfies predicate.

    The snapshot is read before the run, so the page the caller inspects was drawn after the job got there (read
    after it, a job that changed state between the two left a stale page: seen in CI as a failed job without its
    error on the page)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        there = predicate(job.snapshot())
        at.run()
        assert not at.exception, at.exception
        if there:
            return
        time.sleep(0.5)
    raise AssertionError(f"job did not get there in {timeout}s; last snapshot state {job.snapshot().state}")


def keys(elements) -> list[str]:
    """The keys of the drawn widgets of one kind (AppTest's lookup by key raises for a missing one)."""
    return [element.key for element in elements]


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_train_page_renders_form_and_empty_state(app_manager) -> None:
    at = open_train()
    assert at.title[0].value == "Train"
    assert any("No training job yet" in i.value for i in at.info)
    assert at.button(key="train.start")
    assert at.selectbox(key="cfg.dataset").value == "digits"
    assert at.image, "the digits preview grid should be shown"
    captions = [c for image in at.image for c in image.captions]
    assert any(c.startswith("1,797 images · 10 classes") for c in captions), captions


def test_train_start_pause_step_resume_stop_leaves_checkpoint(app_manager) -> None:
    at = open_train()
    tiny_settings(at)
    at.button(key="train.start").click().run()
    assert not at.exception, at.exception
    assert len(app_manager.jobs()) == 1
    job = app_manager.jobs()[0]
    assert at.session_state["train.selected_job"] == job.job_id
    assert any("Started" in s.value for s in at.success)

    run_until(at, job, lambda s: s.step >= 2)
    assert at.button(key="job.pause") and at.button(key="job.stop")

    at.button(key="job.pause").click().run()
    assert job.snapshot().state == "paused"
    at.run()
    assert at.button(key="job.unpause") and at.button(key="job.step_d")

    before = job.snapshot()
    at.button(key="job.step_d").click().run()
    after_d = job.snapshot()
    assert (after_d.d_updates, after_d.g_updates, after_d.step) == (before.d_updates + 1, before.g_updates, before.step)
    assert metric(at, "D updates") == f"{after_d.d_updates:,}"

    at.button(key="job.step_g").click().run()
    after_g = job.snapshot()
    assert (after_g.d_updates, after_g.g_updates) == (after_d.d_updates, after_d.g_updates + 1)
    assert metric(at, "G updates") == f"{after_g.g_updates:,}"

    at.button(key="job.step_both").click().run()
    after_both = job.snapshot()
    assert after_both.step == after_g.step + 1
    assert (after_both.d_updates, after_both.g_updates) == (after_g.d_updates + 1, after_g.g_updates + 1)
    assert after_both.state == "paused"

    at.button(key="job.unpause").click().run()
    run_until(at, job, lambda s: s.state == "running" and s.step > after_both.step + 2)
    assert len(at.get("vega_lite_chart")) >= 2, "loss and score charts should be drawn once metrics exist"

    at.button(key="job.stop").click().run()
    assert not at.exception, at.exception
    assert job.snapshot().state == "stopped"
    assert job.run.latest_checkpoint is not None and job.run.latest_checkpoint.is_file()
    assert not {"job.pause", "job.stop", "job.unpause"} & {b.key for b in at.button}


def test_oversized_width_is_refused_on_the_page_before_a_job_starts(app_manager) -> None:
    at = open_train()
    tiny_settings(at)
    at.selectbox(key="cfg.img_size").set_value(128)
    at.number_input(key="cfg.g_channels").set_value(2048)
    at.button(key="train.start").click().run()
    assert not at.exception, at.exception
    assert app_manager.jobs() == []
    assert any("g_channels=2048" in e.value and "over the limit" in e.value for e in at.error), [e.value for e in at.error]


def test_second_start_is_queued_with_its_position(app_manager) -> None:
    at = open_train()
    tiny_settings(at)
    at.button(key="train.start").click().run()
    first = app_manager.jobs()[0]
    first.pause()  # keeps the CPU free while the queue is checked
    assert "train.start" not in keys(at.button)  # the New-run form is folded while a job trains
    at.toggle(key="train.form_open").set_value(True).run()
    at.button(key="train.start").click().run()
    assert not at.exception, at.exception
    second = app_manager.jobs()[0]
    assert second.job_id != first.job_id
    assert second.snapshot().state == "queued"
    assert any("queued (position 1)" in i.value for i in at.info)
    assert at.session_state["train.selected_job"] == second.job_id
    at.button(key="job.stop").click().run()
    assert second.snapshot().state == "stopped"
    assert first.snapshot().active


def test_the_new_run_form_folds_while_a_job_trains_and_comes_back_with_its_values_sent_to_the_browser(app_manager) -> None:
    at = open_train()
    tiny_settings(at)
    at.number_input(key="cfg.seed").set_value(11).run()
    at.button(key="train.start").click().run()
    job = app_manager.jobs()[0]
    job.pause()
    at.run()
    assert "train.start" not in keys(at.button) and "cfg.seed" not in keys(at.number_input)
    assert any("folded while a job trains" in c.value for c in at.caption)
    at.toggle(key="train.form_open").set_value(True).run()
    assert at.number_input(key="cfg.seed").value == 11 and at.button(key="train.start")
    at.toggle(key="sweep.on").set_value(True).run()
    at.number_input(key="sweep.minutes").set_value(2.5).run()
    at.toggle(key="train.form_open").set_value(False).run()
    at.run()  # a second run without the form: Streamlit has dropped its widgets' state by now
    at.button(key="job.stop").click().run()
    assert not job.snapshot().active
    if "train.start" not in keys(at.button):  # the run of the click may still have seen the job stopping
        at.run()
    assert at.number_input(key="cfg.seed").value == 11 and at.button(key="train.start")
    assert at.number_input(key="sweep.minutes").value == 2.5 and at.toggle(key="sweep.on").value
    assert "train.form_open" not in keys(at.toggle)
    # The browser mounts a widget drawn again at its element default unless the value comes with it (set_value):
    # without that the form came back in Chromium with an empty name and a batch of 0.
    for box in (at.number_input(key="cfg.seed"), at.number_input(key="cfg.batch_size"), at.text_input(key="cfg.name")):
        assert box.proto.set_value, box.key
    at.run()  # drawn to the end once: the next runs leave the browser's values alone
    assert not at.number_input(key="cfg.seed").proto.set_value


def test_reopening_the_app_selects_the_newest_active_job(app_manager) -> None:
    at = open_train()
    tiny_settings(at)
    at.button(key="train.start").click().run()
    job = app_manager.jobs()[0]
    job.pause()
    fresh = open_train()  # a new browser session: sees the job that trains in the shared manager
    assert fresh.session_state["train.selected_job"] == job.job_id
    assert any(job.job_id in c.value for c in fresh.sidebar.caption), [c.value for c in fresh.sidebar.caption]


def test_failed_job_shows_error_with_what_to_do(app_manager, tmp_path: Path) -> None:
    from PIL import Image

    for i in range(40):  # a folder without class subfolders cannot train a conditional model
        Image.new("RGB", (20, 20), (i * 6, 90, 200)).save(tmp_path / f"{i}.png")
    at = open_train()
    tiny_settings(at)
    at.selectbox(key="cfg.dataset").set_value("folder").run()
    at.text_input(key="cfg.data_path").set_value(str(tmp_path)).run()
    at.checkbox(key="cfg.conditional").check().run()
    at.button(key="train.start").click().run()
    job = app_manager.jobs()[0]
    run_until(at, job, lambda s: s.state == "failed", timeout=60)
    errors = [e.value for e in at.error]
    assert any("needs a labelled dataset" in e and "What to do" in e for e in errors), errors
    assert not any("Traceback" in e for e in errors)


def test_sweep_box_names_the_run_count_on_start_and_queues_one_job_per_cell(app_manager) -> None:
    from ganlab.runs.sweeps import list_sweeps

    at = open_train()
    tiny_settings(at)
    at.toggle(key="sweep.on").set_value(True).run()
    assert at.text_input(key="sweep.values.0").value == "0.0001, 0.0002, 0.0004"  # lr_d's value halved and doubled
    at.text_input(key="sweep.values.0").set_value("1e-4, 4e-4")
    at.selectbox(key="sweep.field.1").set_value("loss").run()
    assert at.multiselect(key="sweep.values.1").value == ["bce", "wgan-gp"]
    at.radio(key="sweep.unit").set_value("steps").run()
    at.number_input(key="sweep.steps").set_value(3).run()
    assert at.button(key="train.start").label == "Start sweep (4 runs)"
    at.button(key="train.start").click().run()
    assert not at.exception, at.exception
    sweep = list_sweeps()[0]
    assert len(sweep.runs) == 4 and all(sweep.runs)
    assert sorted(j.job_id for j in app_manager.jobs()) == sorted(sweep.runs)
    assert any("Queued sweep" in s.value for s in at.success)


def test_sweep_box_explains_a_bad_value_and_keeps_start_off(app_manager) -> None:
    at = open_train()
    tiny_settings(at)
    at.toggle(key="sweep.on").set_value(True).run()
    at.text_input(key="sweep.values.0").set_value("1e-4, fast").run()
    assert at.button(key="train.start").disabled
    assert any("lr_d='fast' must be a number" in e.value for e in at.error)
    assert app_manager.jobs() == []
