"""AppTest of the Runs page: table, comparison (chart, grids, config diff), rename, delete, resume."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ganlab import paths
from ganlab.config import TrainConfig
from ganlab.runs import create_run, list_runs, open_run, rename_run
from tests.helpers import open_page, record_state

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "2_Runs.py")
TIMEOUT = 60


def tiny_config(**changes) -> TrainConfig:
    # threads=1: the test machine's cores are shared, and oversubscribed torch pools make 6 steps take seconds.
    base = TrainConfig(dataset="digits", img_size=16, g_channels=8, d_channels=8, max_steps=6, batch_size=32,
                       sample_every=3, checkpoint_every=3, log_every=1, threads=1)
    return base.replace(**changes)


@pytest.fixture(scope="module")
def trained_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two tiny trained runs (different lr_g), made once per module in their own GANLAB_HOME."""
    from ganlab.train.trainer import Trainer

    home = tmp_path_factory.mktemp("runs_template")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANLAB_HOME", str(home))
        for cfg in (tiny_config(name="alpha"), tiny_config(name="beta", lr_g=1e-4)):
            run = create_run(cfg)
            Trainer(cfg, run).run()
            record_state(run, "finished", step=6, total_steps=6)
    return home / "runs"


@pytest.fixture
def two_runs(trained_runs: Path) -> list[str]:
    """Copies of the trained runs in this test's GANLAB_HOME; returns their ids (alpha first)."""
    for folder in sorted(trained_runs.iterdir()):
        shutil.copytree(folder, paths.runs_dir() / folder.name)
    return [r.id for r in sorted(list_runs(), key=lambda r: r.id)]


def page() -> AppTest:
    return open_page("pages/2_Runs.py", TIMEOUT)


def table(at: AppTest):
    return next(df.value for df in at.dataframe if "Run id" in df.value.columns)


def test_runs_page_smoke_without_runs() -> None:
    at = page().run()
    assert not at.exception
    assert "No runs yet" in at.info[0].value


def test_runs_table_lists_every_run_with_status_and_last_losses(two_runs: list[str]) -> None:
    at = page().run()
    assert not at.exception
    df = table(at)
    assert sorted(df["Run id"]) == sorted(two_runs)
    assert set(df["Name"]) == {"alpha", "beta"}
    assert set(df["Status"]) == {"finished"}
    assert all(s.startswith("6") for s in df["Steps"])
    for column in ("D loss", "G loss"):  # a number to 3 decimals, never the '—' of a missing value
        assert all(float(v) == float(v) for v in df[column]), df[column]


def test_runs_table_marks_dead_running_run_interrupted(two_runs: list[str]) -> None:
    run = open_run(two_runs[0])
    status = json.loads((run.path / "status.json").read_text())
    status.update(state="running", pid=2**22 + 12345, updated=0)  # no heartbeat for decades: owner is gone
    (run.path / "status.json").write_text(json.dumps(status))
    at = page().run()
    df = table(at)
    assert df.set_index("Run id").loc[two_runs[0], "Status"] == "interrupted"


def test_runs_page_lists_run_with_broken_config_and_explains_in_compare(two_runs: list[str]) -> None:
    open_run(two_runs[0]).config_path.write_text("{not json")
    at = page().run()
    assert not at.exception
    assert table(at).set_index("Run id").loc[two_runs[0], "Status"] == "broken config"
    at.multiselect(key="runs.compare").set_value(two_runs).run()
    assert not at.exception
    assert "config.json is invalid" in at.error[0].value and "What to do" in at.error[0].value


def test_compare_two_runs_shows_overlaid_chart_grids_and_config_diff(two_runs: list[str]) -> None:
    at = page().run()
    at.multiselect(key="runs.compare").set_value(two_runs).run()
    assert not at.exception
    charts = [c for c in at.get("plotly_chart") if c.key == "runs.chart"]  # the loss chart (quality has its own)
    assert len(charts) == 1
    traces = json.loads(charts[0].proto.spec)["data"]
    assert len(traces) == 4  # 2 runs x (D loss, G loss) on one step axis
    assert {t["name"].split(" · ")[0] for t in traces} == {"alpha", "beta"}
    assert len(at.image) == 2 and all("step 6" in img.captions[0] for img in at.image)
    diff = next(df.value for df in at.dataframe if "field" in df.value.columns)
    fields = set(diff["field"])
    assert "lr_g" in fields and "name" in fields
    assert "batch_size" not in fields  # equal fields are left out
    # The step slider moves both grids to the earlier sample.
    at.select_slider(key="runs.sample_step").set_value(3).run()
    assert all("step 3" in img.captions[0] for img in at.image)


def test_rename_changes_display_name_but_not_folder(two_runs: list[str]) -> None:
    at = page().run()
    at.selectbox(key="runs.manage").set_value(two_runs[1])
    at.run()
    at.text_input(key=f"runs.name.{two_runs[1]}").set_value("fancy beta")
    at.button(key="runs.rename").click().run()
    assert not at.exception
    assert open_run(two_runs[1]).display_name == "fancy beta"
    assert "fancy beta" in set(table(at)["Name"])
    assert any("Renamed" in s.value for s in at.success)


def test_rename_rejects_empty_name_with_error(two_runs: list[str]) -> None:
    at = page().run()
    at.text_input(key=f"runs.name.{at.selectbox(key='runs.manage').value}").set_value("   ")
    at.button(key="runs.rename").click().run()
    assert len(at.error) == 1 and "1 to 80 characters" in at.error[0].value
    assert set(table(at)["Name"]) == {"alpha", "beta"}


def test_delete_needs_confirmation_then_removes_folder(two_runs: list[str]) -> None:
    victim = open_run(two_runs[0])
    at = page().run()
    at.selectbox(key="runs.manage").set_value(victim.id).run()
    at.button(key="runs.delete").click().run()
    assert victim.path.is_dir()  # first click only asks
    assert "cannot be undone" in at.warning[0].value
    at.button(key="runs.delete_no").click().run()
    assert victim.path.is_dir() and not at.warning
    at.button(key="runs.delete").click().run()
    at.button(key="runs.delete_yes").click().run()
    assert not at.exception
    assert not victim.path.exists()
    assert list(table(at)["Run id"]) == [two_runs[1]]


def test_delete_rejects_active_run_with_error_naming_who_trains_it(two_runs: list[str]) -> None:
    from ganlab.runs import RunRecorder, RunState

    live = open_run(two_runs[0])
    recorder = RunRecorder.attach(live)  # this process trains it
    recorder.record(RunState.RUNNING)
    try:
        at = page().run()
        at.selectbox(key="runs.manage").set_value(live.id).run()
        at.button(key="runs.delete").click().run()
        assert live.path.is_dir()
        assert "training in this app" in at.error[0].value and "Stop it first" in at.error[0].value
        assert not at.get("button") or all(b.key != "runs.delete_yes" for b in at.button)
    finally:
        recorder.release()


def test_resume_starts_a_job_that_trains_the_extra_steps(two_runs: list[str]) -> None:
    from ui.jobs import get_manager

    manager = get_manager()
    target = open_run(two_runs[0])
    try:
        at = page().run()
        at.selectbox(key="runs.manage").set_value(target.id).run()
        at.number_input(key="runs.extra_steps").set_value(3)
        at.button(key="runs.resume").click().run()
        assert not at.exception and not at.error
        assert any("Resumed" in s.value for s in at.success)
        job = next(j for j in manager.jobs() if j.run.path.resolve() == target.path.resolve())
        snap = job.wait_for(lambda s: not s.active, timeout=TIMEOUT)
        assert snap.state == "finished", snap.error
        assert snap.step == 9  # 6 from the checkpoint + 3 extra
        assert max(r["step"] for r in target.read_metrics()) == 9
    finally:
        manager.shutdown()


def test_resume_of_finished_run_without_extra_steps_explains_fix(two_runs: list[str]) -> None:
    at = page().run()
    at.button(key="runs.resume").click().run()
    assert "extra steps above 0" in at.error[0].value


def test_a_run_that_failed_on_a_full_disk_resumes_from_the_runs_page_once_space_is_back(
        app_manager, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from ganlab import files
    from ganlab.runs import RunState, state_of

    monkeypatch.setenv("GANLAB_JOB_MODE", "thread")  # the full disk is simulated in this process
    job = app_manager.submit(tiny_config(max_steps=100_000, checkpoint_every=3, log_every=1, name="fulldisk"))
    job.wait_for(lambda s: s.step >= 4, timeout=TIMEOUT)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    real_fsync = os.fsync
    monkeypatch.setattr(files.os, "fsync", full)  # checkpoints and status.json can no longer be written
    snap = job.wait_for(lambda s: not s.active, timeout=TIMEOUT)
    monkeypatch.setattr(files.os, "fsync", real_fsync)  # space is back
    assert snap.state == "failed" and "disk is full" in snap.error
    assert state_of(job.run) == RunState.INTERRUPTED  # its failure could not be written; nobody holds it
    at = page().run()
    at.selectbox(key="runs.manage").set_value(job.run.id).run()
    at.number_input(key="runs.extra_steps").set_value(2)
    at.button(key="runs.resume").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    resumed = next(j for j in app_manager.jobs() if j is not job and j.run.id == job.run.id)
    assert resumed.wait_for(lambda s: not s.active, timeout=TIMEOUT).state == "finished"


def test_runs_table_shows_the_differing_setting_as_a_column_and_unique_names(two_runs: list[str]) -> None:
    rename_run(open_run(two_runs[1]), "alpha")  # two runs with one name: the table must still tell them apart
    at = page().run()
    df = table(at)
    assert "lr_g" in df.columns and set(df["lr_g"]) == {"0.0002", "0.0001"}
    assert "name" not in df.columns and "log_every" not in df.columns
    assert df["Name"].nunique() == 2


def test_compare_selection_survives_leaving_the_page(two_runs: list[str]) -> None:
    at = page().run()
    at.multiselect(key="runs.compare").set_value(two_runs).run()
    at.switch_page("pages/4_Playground.py").run()  # Streamlit drops a widget's state while its page is not shown
    at.switch_page("pages/2_Runs.py").run()
    assert at.multiselect(key="runs.compare").value == two_runs


def test_sweep_view_shows_a_grid_per_cell_and_names_the_winner(two_runs: list[str]) -> None:
    from ganlab.config.sweep import Axis, SweepPlan
    from ganlab.runs.sweeps import create_sweep

    for run_id, fid in zip(two_runs, (40.0, 25.0)):
        open_run(run_id).append_metrics([{"step": 6, "fid": fid, "extractor": "digits", "n_fake": 500}])
    sweep = create_sweep(SweepPlan((Axis("lr_g", (2e-4, 1e-4)),), steps=6), "pair")
    for index, run_id in enumerate(two_runs):
        sweep.record_run(index, open_run(run_id))
    at = page().run()
    assert not at.exception, at.exception
    assert "Sweeps" in [s.value for s in at.subheader]
    winner = next(s.value for s in at.success if s.value.startswith("Winner"))
    assert "lr_g=0.0001" in winner and "25.00" in winner
    captions = [m.value for m in at.markdown]
    assert sum("FD " in c for c in captions) == 2 and sum("**winner**" in c for c in captions) == 1


def quality_table(at: AppTest):
    return next(df.value for df in at.dataframe if "best at step" in df.value.columns)


def test_compare_overlays_quality_and_tables_final_and_best_values_of_alike_numbers(two_runs: list[str]) -> None:
    alpha, beta = (open_run(i) for i in two_runs)
    alpha.append_metrics([{"step": 3, "fid": 50.0, "extractor": "digits", "n_fake": 500},
                          {"step": 6, "fid": 45.0, "extractor": "digits", "n_fake": 500}])
    beta.append_metrics([{"step": 3, "fid": 30.0, "extractor": "digits", "n_fake": 500},
                         {"step": 6, "fid": 35.0, "extractor": "digits", "n_fake": 500}])
    at = page().run()
    at.multiselect(key="runs.compare").set_value(two_runs).run()
    assert not at.exception, at.exception
    rows = quality_table(at).set_index("Run")
    assert rows.loc["alpha", "Final FD"] == "45.00" and rows.loc["alpha", "best at step"] == "6"
    assert rows.loc["beta", "Best FD"] == "30.00" and rows.loc["beta", "best at step"] == "3"
    at.segmented_control(key="runs.quality_x").set_value("training time").run()
    assert not at.exception, at.exception


def test_compare_leaves_out_numbers_of_another_extractor_and_says_so(two_runs: list[str]) -> None:
    alpha, beta = (open_run(i) for i in two_runs)
    alpha.append_metrics([{"step": 6, "fid": 45.0, "extractor": "digits", "n_fake": 500}])
    beta.append_metrics([{"step": 6, "fid": 9.0, "extractor": "inception-v3", "n_fake": 500}])
    at = page().run()
    at.multiselect(key="runs.compare").set_value(two_runs).run()
    rows = quality_table(at)
    assert len(rows) == 1
    assert any("Not drawn" in c.value and "inception-v3" in c.value for c in at.caption)


def test_runs_table_warns_of_a_collapse_alarm_in_the_newest_quality_record(two_runs: list[str]) -> None:
    alarm = {"kind": "collapse", "message": "Mode collapse? recall has stayed below 0.05.", "try": "Try EMA."}
    open_run(two_runs[0]).append_metrics([{"step": 6, "fid": 90.0, "extractor": "digits", "alarm": alarm}])
    df = table(page().run()).set_index("Run id")
    assert df.loc[two_runs[0], "Warning"].startswith("⚠ Mode collapse?")
    assert df.loc[two_runs[1], "Warning"] == ""
