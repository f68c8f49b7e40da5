"""TensorBoard event files: written beside metrics.jsonl as a run trains, read back with tensorboard's own reader;
a resume drops the steps after its checkpoint; `ganlab tensorboard` writes them for older runs."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("tensorboard", reason="tensorboard is not installed (pip install tensorboard)")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

from ganlab.cli import main  # noqa: E402
from ganlab.runs import create_run, open_run  # noqa: E402
from ganlab.runs.tensorboard import EVENTS_FILE, scalars  # noqa: E402
from ganlab.train import Trainer, resume_trainer  # noqa: E402
from tests.helpers import blobs_dataset, tiny_config  # noqa: E402


def read(folder: Path) -> EventAccumulator:
    acc = EventAccumulator(str(folder / EVENTS_FILE), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    return acc


def trained_run(**changes):
    config = tiny_config(**changes)
    run = create_run(config)
    Trainer(config, run, dataset=blobs_dataset()).run()
    return run


def test_a_new_run_writes_losses_d_outputs_speed_and_sample_grids() -> None:
    run = trained_run(max_steps=8, log_every=1, sample_every=4)
    acc = read(run.path)
    tags = acc.Tags()
    assert {"loss/D", "loss/G", "D/D(x)", "D/D(G(z))", "speed/img_per_s"} <= set(tags["scalars"])
    losses = acc.Scalars("loss/D")
    assert [e.step for e in losses] == list(range(1, 9))
    metrics = [r for r in run.read_metrics() if "loss_d" in r]
    assert [e.value for e in losses] == pytest.approx([r["loss_d"] for r in metrics], rel=1e-6)
    images = acc.Images("samples/fixed_noise")
    assert [e.step for e in images] == [step for step, _ in run.sample_paths()]
    assert images[-1].encoded_image_string == run.sample_paths()[-1][1].read_bytes()  # the same PNG


def test_quality_records_become_fid_kid_and_class_share_scalars() -> None:
    run = create_run(tiny_config())
    run.append_metrics([{"step": 5, "fid": 12.5, "kid": 0.1, "kid_std": 0.01, "coverage": [0.25, 0.75],
                         "extractor": "digits", "n_fake": 100}])
    acc = read(run.path)
    assert acc.Scalars("quality/FID")[0].value == pytest.approx(12.5)
    assert acc.Scalars("quality/class_share/1")[0].value == pytest.approx(0.75)
    assert not any("extractor" in t or "n_fake" in t for t in acc.Tags()["scalars"])


def test_wgan_gp_runs_log_critic_scores_and_the_penalty() -> None:
    run = trained_run(loss="wgan-gp", d_steps=2, max_steps=4)
    tags = set(read(run.path).Tags()["scalars"])
    assert {"D/critic(x)", "D/critic(G(z))", "D/wasserstein_estimate", "loss/gradient_penalty"} <= tags


def test_resume_drops_what_was_logged_after_the_checkpoint() -> None:
    run = trained_run(max_steps=8, checkpoint_every=4, log_every=1, keep_checkpoints=5)
    crashed_at = 8
    (run.checkpoints_dir / "latest.pt").unlink()  # as if it died after step 8's logs, before that checkpoint
    (run.checkpoints_dir / "step_000004.pt").rename(run.checkpoints_dir / "latest.pt")
    trainer = resume_trainer(run, dataset=blobs_dataset())
    assert trainer.step == 4
    trainer.run()
    steps = [e.step for e in read(run.path).Scalars("loss/G")]
    assert steps == list(range(1, crashed_at + 1)), "each step once: the first 5..8 were dropped at the resume"


def test_no_event_file_when_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANLAB_TENSORBOARD", "0")
    run = trained_run(max_steps=4)
    assert not (run.path / EVENTS_FILE).exists()
    assert run.read_metrics()  # metrics.jsonl as always


def test_cli_writes_events_for_a_run_trained_without_them(monkeypatch, capsys) -> None:
    monkeypatch.setenv("GANLAB_TENSORBOARD", "0")
    run = trained_run(max_steps=8, sample_every=4)
    monkeypatch.delenv("GANLAB_TENSORBOARD")
    assert main(["tensorboard", run.id]) == 0
    out = capsys.readouterr().out
    assert f"{run.id}: wrote {EVENTS_FILE}" in out and "2 sample grids" in out and "tensorboard --logdir" in out
    acc = read(run.path)
    assert [e.step for e in acc.Scalars("loss/D")] == list(range(1, 9))
    assert len(acc.Images("samples/fixed_noise")) == 2
    assert main(["tensorboard", run.id]) == 0  # rewritten, not appended twice
    assert len(read(run.path).Scalars("loss/D")) == 8


def test_cli_skips_a_run_that_is_training(capsys) -> None:
    run = trained_run(max_steps=2)
    from ganlab.runs import RunRecorder, RunState

    recorder = RunRecorder.attach(open_run(run.id))  # this process "trains" it
    recorder.record(RunState.RUNNING)
    try:
        assert main(["tensorboard", "--all"]) == 0
        assert "skipped, it is running" in capsys.readouterr().out
    finally:
        recorder.release()


def test_cli_rejects_unknown_runs_and_no_arguments(capsys) -> None:
    assert main(["tensorboard", "no-such-run"]) == 2
    assert main(["tensorboard"]) == 2
    err = capsys.readouterr().err
    assert "no run named 'no-such-run'" in err and "--all" in err


def test_scalars_skip_bookkeeping_and_non_numbers() -> None:
    record = {"step": 3, "loss_d": 1.0, "eta": 5.0, "extractor": "digits", "ok": True, "new_stat": 2}
    assert dict(scalars(record)) == {"loss/D": 1.0, "other/new_stat": 2.0}


def test_an_unwritable_event_file_does_not_stop_training(caplog) -> None:
    config = tiny_config(max_steps=4)
    run = create_run(config)
    (run.path / EVENTS_FILE).mkdir()  # opening it for appending fails with an OSError at every write
    Trainer(config, run, dataset=blobs_dataset()).run()
    assert [r["step"] for r in run.read_metrics() if "loss_d" in r] == [1, 2, 3, 4]
    assert run.latest_checkpoint is not None
    assert "TensorBoard events for" in caplog.text
