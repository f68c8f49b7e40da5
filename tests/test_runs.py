"""Run store: folders never collide, listing survives restarts, checkpoints and grids sorted by step."""

from __future__ import annotations

import threading

import pytest

from ganlab.config import TrainConfig
from ganlab.runs import RunError, create_run, delete_run, list_runs, open_run, rename_run
from tests.helpers import tiny_config


def test_concurrent_create_run_never_collides() -> None:
    made = []
    threads = [threading.Thread(target=lambda: made.append(create_run(tiny_config()).id)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 8


def test_runs_are_listed_from_disk_newest_first() -> None:
    a = create_run(tiny_config())
    b = create_run(tiny_config(name="second"))
    assert [r.id for r in list_runs()] == [b.id, a.id]
    assert b.id.endswith("-dcgan-digits-second")
    assert open_run(a.id).config() == tiny_config()


def test_rename_changes_display_name_only() -> None:
    run = create_run(tiny_config())
    rename_run(run, "my favourite")
    assert open_run(run.id).display_name == "my favourite"
    with pytest.raises(RunError, match="1 to 80 characters"):
        rename_run(run, "")


def test_delete_refuses_paths_outside_runs() -> None:
    run = create_run(tiny_config())
    delete_run(run)
    assert list_runs() == []
    with pytest.raises(RunError, match="not a run folder name"):
        open_run("../etc")


def test_checkpoints_and_grids_are_ordered_by_step_past_six_digits() -> None:
    # File names sort 'step_1000000' before 'step_999999': pruning by name deleted each new checkpoint at once.
    run = create_run(tiny_config())
    for step in (999_998, 999_999, 1_000_000, 1_000_001):
        (run.checkpoints_dir / f"step_{step:06d}.pt").write_bytes(b"x")
        (run.samples_dir / f"step_{step:06d}.png").write_bytes(b"x")
    run.prune_checkpoints(2)
    assert [p.name for p in run.step_checkpoints()] == ["step_1000000.pt", "step_1000001.pt"]
    assert [s for s, _ in run.sample_paths()] == [999_998, 999_999, 1_000_000, 1_000_001]


def test_metrics_reader_skips_a_line_cut_by_a_crash() -> None:
    run = create_run(tiny_config())
    run.append_metrics([{"step": 1, "loss_d": 1.0}])
    with open(run.metrics_path, "a") as fh:
        fh.write('{"step": 2, "loss')
    assert run.read_metrics() == [{"step": 1, "loss_d": 1.0}]


def test_sample_grids_are_thinned_past_the_cap_keeping_first_and_newest() -> None:
    from PIL import Image

    run = create_run(tiny_config())
    image = Image.new("L", (4, 4))
    for step in range(0, 200, 10):
        run.save_sample(image, step, keep=8)
    steps = [s for s, _ in run.sample_paths()]
    assert len(steps) <= 12 and steps[0] == 0 and steps[-1] == 190
    assert steps == sorted(steps) and not list(run.samples_dir.glob(".*.tmp"))  # written atomically


def test_metrics_tail_parses_only_appended_lines_and_restarts_after_truncation(tmp_path) -> None:
    from ganlab.runs.tail import MetricsTail

    tail = MetricsTail(max_runs=2)
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}\n{"st')
    assert tail.records(path) == [{"step": 1}, {"step": 2}]  # the half-written line waits
    with open(path, "a") as fh:
        fh.write('ep": 3}\n')
    assert tail.records(path) == [{"step": 1}, {"step": 2}, {"step": 3}]
    path.write_text('{"step": 1}\n')  # a resume cut the file back
    assert tail.records(path) == [{"step": 1}]
    for i in range(3):  # bounded: the least recently read run is dropped
        other = tmp_path / f"m{i}.jsonl"
        other.write_text('{"step": 0}\n')
        tail.records(other)
    assert len(tail._files) == 2


def test_varying_fields_lists_only_settings_that_differ_not_names_or_log_cadence() -> None:
    from ganlab.runs.summary import varying_fields

    a = TrainConfig(dataset="digits", name="a", lr_g=2e-4, log_every=10)
    b = a.replace(name="b", lr_g=1e-4, log_every=50, batch_size=32)
    assert set(varying_fields([a, b])) == {"batch_size", "lr_g"}
    assert varying_fields([a]) == [] and varying_fields([a, a.replace(name="c")]) == []


def test_quality_text_names_step_and_extractor_of_the_newest_finite_value() -> None:
    from ganlab.runs.quality import quality_text

    records = [{"step": 100, "fid": 40.0, "extractor": "fashion-mnist"}, {"step": 200, "loss_d": 1.0},
               {"step": 300, "fid": float("nan"), "extractor": "fashion-mnist"},
               {"step": 400, "fid": 12.345, "extractor": "fashion-mnist"}]
    assert quality_text(records) == "FD 12.35 · step 400 · fashion-mnist"
    assert quality_text(records[:3]) == "FD 40.00 · step 100 · fashion-mnist"
    assert quality_text([{"step": 1, "loss_d": 0.5}]) == "—"


def test_quality_records_take_training_time_from_the_loss_record_of_their_step_and_best_is_the_lowest() -> None:
    from ganlab.runs.quality import best_quality, final_quality, quality_records

    records = [{"step": 10, "loss_d": 1.0, "elapsed": 5.0}, {"step": 10, "fid": 40.0},
               {"step": 20, "loss_d": 1.0, "elapsed": 9.0}, {"step": 25, "fid": 20.0},
               {"step": 30, "fid": 30.0, "elapsed": 14.0}, {"step": 31, "fid": float("inf")}]
    found = quality_records(records)
    assert [(r["step"], r["elapsed"]) for r in found] == [(10, 5.0), (25, 9.0), (30, 14.0)]
    assert best_quality(records)["step"] == 25 and final_quality(records)["step"] == 30
    assert best_quality([{"step": 1, "loss_d": 1.0}]) is None
