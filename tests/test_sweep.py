"""Sweeps: the plan (axes x values, one budget), its record beside the runs, the winner, the CLI and the queue."""

from __future__ import annotations

import json

import pytest

from ganlab.cli.main import main
from ganlab.config import TrainConfig
from ganlab.config.sweep import MAX_RUNS, Axis, SweepError, SweepPlan
from ganlab.runs import delete_run, open_run
from ganlab.runs.sweeps import Cell, create_sweep, list_sweeps, open_sweep, sweep_cells, winner
from tests.helpers import record_state, tiny_config

BASE = TrainConfig(dataset="digits", loss="bce", lr_g=2e-4, lr_d=2e-4, beta1=0.5)


def test_plan_cells_run_row_by_row_and_values_take_the_fields_types() -> None:
    plan = SweepPlan((Axis.parse("lr_d=1e-4, 2e-4,4e-4"), Axis.parse("loss=bce,hinge")), minutes=3)
    assert plan.size == 6
    assert plan.cells()[:3] == [{"lr_d": 1e-4, "loss": "bce"}, {"lr_d": 1e-4, "loss": "hinge"},
                                {"lr_d": 2e-4, "loss": "bce"}]
    assert Axis.parse("mlp_hidden=256/512,512-1024").values == ((256, 512), (512, 1024))
    assert Axis.parse("conditional=true,false").values == (True, False)


def test_sweep_configs_differ_only_in_the_swept_values_the_budget_and_the_name() -> None:
    plan = SweepPlan((Axis("lr_d", (1e-4, 4e-4)), Axis("loss", ("bce", "hinge"))), minutes=1.5)
    configs = plan.configs(BASE, "mine")
    assert [c.name for c in configs] == ["mine lr_d=0.0001 loss=bce", "mine lr_d=0.0001 loss=hinge",
                                         "mine lr_d=0.0004 loss=bce", "mine lr_d=0.0004 loss=hinge"]
    hinge = configs[1]
    # No recipe: hinge keeps the base's lr_g and betas, so the cells differ in the swept settings alone.
    assert (hinge.lr_g, hinge.beta1, hinge.lr_d) == (BASE.lr_g, BASE.beta1, 1e-4)
    assert {(c.max_minutes, c.max_steps, c.epochs) for c in configs} == {(1.5, 0, 0.0)}
    by_steps = SweepPlan((Axis("lr_d", (1e-4,)),), steps=300).configs(BASE)
    assert (by_steps[0].max_steps, by_steps[0].max_minutes) == (300, 0.0)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Axis.parse("lr_d"), r"write a setting and its values"),
        (lambda: Axis("learning_rate", (1,)), r"cannot sweep 'learning_rate'"),
        (lambda: Axis("threads", (1, 2)), r"cannot sweep 'threads'"),
        (lambda: Axis("lr_d", ()), r"at least one value"),
        (lambda: Axis("lr_d", ("1e-4", "0.0001")), r"given twice"),
        (lambda: Axis("lr_d", ("fast",)), r"lr_d='fast' must be a number"),
        (lambda: SweepPlan((Axis("lr_d", (1e-4,)), Axis("lr_d", (2e-4,))), steps=10), r"swept twice"),
        (lambda: SweepPlan((Axis("lr_d", (1e-4,)), Axis("lr_g", (1e-4,)), Axis("seed", (1,))), steps=10),
         r"1 or 2 settings"),
        (lambda: SweepPlan((Axis("seed", tuple(range(MAX_RUNS + 1))),), steps=10), r"at most 36"),
        (lambda: SweepPlan((Axis("seed", (1, 2)),)), r"in steps or in minutes"),
        (lambda: SweepPlan((Axis("seed", (1, 2)),), steps=10, minutes=1.0), r"not both"),
        (lambda: SweepPlan((Axis("loss", ("bce", "nope")),), steps=10).configs(BASE), r"loss='nope' is not allowed"),
    ],
)
def test_sweep_mistakes_raise_a_sweep_error_naming_them(build, message: str) -> None:
    with pytest.raises(SweepError, match=message):
        build()


def _finished_run(config: TrainConfig, fid: float | None, extractor: str = "digits", n_fake: int = 500) -> str:
    from ganlab.runs import create_run

    run = create_run(config)
    records = [{"step": 10, "loss_d": 1.0, "loss_g": 1.0}]
    if fid is not None:
        records.append({"step": 10, "fid": fid, "extractor": extractor, "n_fake": n_fake})
    run.append_metrics(records)
    record_state(run, "finished", step=10, total_steps=10)
    return run.id


def test_sweep_record_round_trips_and_lists_newest_first() -> None:
    plan = SweepPlan((Axis("lr_d", (1e-4, 2e-4)),), steps=10)
    first = create_sweep(plan, "one")
    second = create_sweep(plan, "two/../x")  # a name is only a label: it never leaves the sweeps folder
    first.record_run(1, open_run(_finished_run(BASE.replace(name="r"), 5.0)))
    again = open_sweep(first.id)
    assert again.plan == plan and again.name == "one" and again.runs[0] is None and again.runs[1]
    assert [s.id for s in list_sweeps()] == [second.id, first.id]
    assert second.path.parent == first.path.parent
    with pytest.raises(SweepError, match="no sweep named"):
        open_sweep("00099-nothing")
    (first.path / "sweep.json").write_text("{broken")
    assert [s.id for s in list_sweeps()] == [second.id]  # an unreadable record hides only itself


def test_sweep_cells_say_which_runs_are_missing_and_the_winner_is_the_lowest_alike_number() -> None:
    plan = SweepPlan((Axis("lr_d", (1e-4, 2e-4)), Axis("loss", ("bce", "hinge"))), steps=10)
    sweep = create_sweep(plan, "cells")
    configs = plan.configs(BASE, "cells")
    ids = [_finished_run(configs[0], 30.0), _finished_run(configs[1], 20.0), _finished_run(configs[2], None)]
    for index, run_id in enumerate(ids):
        sweep.record_run(index, open_run(run_id))
    delete_run(open_run(ids[2]))
    cells = sweep_cells(sweep)
    assert [c.state for c in cells] == ["finished", "finished", "deleted", "not started"]
    assert [c.score for c in cells] == [30.0, 20.0, None, None]
    assert winner(cells) is cells[1] and cells[1].label == "lr_d=0.0001 · loss=hinge"
    # A number from another feature space (or sample count) never wins against the others' numbers.
    odd = Cell({"lr_d": 1.0}, None, "finished", quality={"fid": 1.0, "extractor": "inception-v3", "n_fake": 500})
    assert winner([*cells, odd]) is cells[1]
    assert winner([cells[2], cells[3]]) is None


def test_cli_sweep_trains_every_cell_records_them_and_names_a_winner(capsys: pytest.CaptureFixture) -> None:
    code = main(["sweep", "--set", "lr_d=1e-4,4e-4", "--set", "loss=bce,hinge", "--steps", "4", "--dataset", "digits",
                 "--img-size", "16", "--g-channels", "8", "--d-channels", "8", "--batch-size", "16",
                 "--quality-every", "4", "--threads", "1", "--name", "cli"])
    assert code == 0
    out = capsys.readouterr().out
    sweep = list_sweeps()[0]
    assert sweep.name == "cli" and len(sweep.runs) == 4 and all(sweep.runs)
    for run_id, cell in zip(sweep.runs, sweep.plan.cells()):
        config = open_run(run_id).config()
        assert (config.lr_d, config.loss, config.max_steps) == (cell["lr_d"], cell["loss"], 4)
    cells = sweep_cells(sweep)
    assert all(c.state == "finished" and c.grid is not None and c.score is not None for c in cells)
    assert out.count("<- winner") == 1 and winner(cells).run.id in out.split("<- winner")[0].splitlines()[-1]
    saved = json.loads((sweep.path / "sweep.json").read_text())
    assert saved["plan"]["steps"] == 4 and saved["runs"] == sweep.runs


def test_cli_sweep_refuses_a_bad_cell_before_training_anything(capsys: pytest.CaptureFixture) -> None:
    code = main(["sweep", "--set", "loss=bce,nope", "--steps", "4", "--dataset", "digits"])
    assert code == 2
    assert "loss='nope'" in capsys.readouterr().err
    assert list_sweeps() == []


def test_queued_sweep_trains_its_runs_one_after_another_for_the_same_budget(manager) -> None:
    from ganlab.train import queue_sweep

    plan = SweepPlan((Axis("lr_d", (1e-4, 4e-4)),), minutes=0.003)
    sweep = queue_sweep(manager, tiny_config(), plan, "queued")
    jobs = [manager.get(run_id) for run_id in sweep.runs]
    assert [j.snapshot().state for j in jobs][1] == "queued"  # one trains, the other waits its turn
    for job in jobs:
        job.wait_for(lambda snap: not snap.active, timeout=120)
    assert [j.snapshot().state for j in jobs] == ["finished", "finished"]
    assert all(0.18 <= (j.snapshot().latest.get("elapsed") or 0) for j in jobs)  # each got its 0.18 s
    assert [c.state for c in sweep_cells(open_sweep(sweep.id))] == ["finished", "finished"]
