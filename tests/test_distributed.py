"""One run in two processes (torch.distributed with gloo on the CPU): torchrun end to end, losses averaged over
processes, only rank 0 writing, a stop and an exact resume on both processes, refused world-size changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from PIL import Image

from ganlab.cli import main
from ganlab.explore import load_generator
from ganlab.runs import list_runs, load_checkpoint, read_status
from tests.ddp_ranks import run_rank

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--dataset", "digits", "--device", "cpu", "--precision", "fp32", "--img-size", "16", "--g-channels", "8",
        "--d-channels", "8", "--z-dim", "16", "--batch-size", "16", "--threads", "1", "--quality-every", "0",
        "--log-every", "1", "--sample-every", "5", "--checkpoint-every", "4"]
LOSS_KEYS = ("loss_d", "loss_g", "d_real", "d_fake", "epoch")

pytestmark = pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
                                reason="this torch build has no torch.distributed with gloo")


def _stores(n: int) -> list[torch.distributed.TCPStore]:
    """n rendezvous stores served by this process, as torchrun's agent serves one (no port can be taken between
    choosing it and using it)."""
    return [torch.distributed.TCPStore("127.0.0.1", 0, is_master=True, wait_for_workers=False) for _ in range(n)]


def test_torchrun_train_makes_one_normal_run_folder_that_sample_and_morph_accept(tmp_path: Path) -> None:
    runs_dir = tmp_path / "runs"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "-m", "ganlab", "train", "--dataset", "digits", "--device", "cpu", "--max-steps", "50",
               "--runs-dir", str(runs_dir)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = list_runs(runs_dir)
    assert len(runs) == 1, [r.id for r in runs]
    run = runs[0]
    status = read_status(run)
    assert status["state"] == "finished" and status["step"] == 50 and status["processes"] == 2
    assert "2 processes (torchrun)" in status["hardware"]
    records = [r for r in run.read_metrics() if "loss_d" in r]
    assert [r["step"] for r in records] == list(range(10, 51, 10))  # each step once: one writer
    state = load_checkpoint(run.latest_checkpoint)
    assert state["step"] == 50 and len(state["rng"]["ranks"]) == 2
    assert all(not k.startswith("module.") for k in state["G"])  # the network's own keys, not DDP's

    grid, gif = tmp_path / "grid.png", tmp_path / "walk.gif"
    assert main(["sample", str(run.latest_checkpoint), "--seeds", "0-15", "--out", str(grid)]) == 0
    assert Image.open(grid).size[0] > 32
    assert main(["morph", str(run.latest_checkpoint), "--seeds", "1,5", "--frames", "6", "--out", str(gif)]) == 0
    with Image.open(gif) as im:
        assert im.n_frames == 6
    assert load_generator(run.latest_checkpoint).generate(torch.randn(2, 100)).shape == (2, 1, 32, 32)


@pytest.fixture(scope="module")
def two_process_runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Both processes run: A trained 20 steps straight; B stopped by a SIGTERM to rank 1 at step 7 (agreed at
    step 10), then resumed to 20. Returns what each process saw, and the runs."""
    base = tmp_path_factory.mktemp("ddp")
    runs_dir, out_dir = base / "runs", base / "out"
    out_dir.mkdir()
    previous = os.environ.get("GANLAB_HOME")
    os.environ["GANLAB_HOME"] = str(base / "home")  # the spawned processes inherit it
    try:
        commands = [["train", *TINY, "--max-steps", "20", "--runs-dir", str(runs_dir)],
                    ["train", *TINY, "--max-steps", "20", "--runs-dir", str(runs_dir)],
                    ["resume", "00001-dcgan-digits", "--runs-dir", str(runs_dir)]]
        stores = _stores(len(commands))
        mp.start_processes(run_rank, args=(2, [store.port for store in stores], str(runs_dir), str(out_dir), commands,
                                           {1: 7}), nprocs=2, join=True, start_method="spawn")
    finally:
        if previous is None:
            os.environ.pop("GANLAB_HOME", None)
        else:
            os.environ["GANLAB_HOME"] = previous
    ranks = [json.loads((out_dir / f"rank{r}.json").read_text()) for r in range(2)]
    runs = {run.id: run for run in list_runs(runs_dir)}
    return {"ranks": ranks, "a": runs["00000-dcgan-digits"], "b": runs["00001-dcgan-digits"], "runs": runs}


def test_a_minutes_budget_ends_both_processes_together_and_rank_zero_keeps_best_pt(tmp_path: Path) -> None:
    runs_dir = tmp_path / "runs"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "-m", "ganlab", "train", *TINY[:TINY.index("--quality-every")], "--quality-every", "5",
               "--epochs", "0", "--max-steps", "0", "--max-minutes", "0.1", "--runs-dir", str(runs_dir)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (run,) = list_runs(runs_dir)
    status = read_status(run)
    assert status["state"] == "finished" and status["step"] > 0
    state = load_checkpoint(run.latest_checkpoint)
    assert state["step"] == status["step"] and len(state["rng"]["ranks"]) == 2  # one agreed last step
    assert state["elapsed"] >= 3.0  # no step limit: the clock of one process (0.1 min) ended both; rank 0 measured too
    assert (run.checkpoints_dir / "best.pt").is_file()  # written by rank 0 alone, without a collective
    assert (run.path / "samples" / f"step_{status['step']:06d}.png").is_file()  # the last step's ticks ran: its grid
    assert any("fid" in r for r in run.read_metrics())


def test_every_command_succeeds_on_both_processes_and_makes_one_run_each(two_process_runs: dict) -> None:
    assert [r["codes"] for r in two_process_runs["ranks"]] == [[0, 0, 0], [0, 0, 0]]
    assert sorted(two_process_runs["runs"]) == ["00000-dcgan-digits", "00001-dcgan-digits"]


def test_no_process_keeps_a_replica_or_its_process_group_after_a_command(two_process_runs: dict) -> None:
    # A replica left for interpreter shutdown takes the gloo process group with it there: a SIGABRT at exit.
    assert [r["replicas_left"] for r in two_process_runs["ranks"]] == [[0, 0, 0], [0, 0, 0]]


def test_logged_losses_are_the_mean_over_processes(two_process_runs: dict) -> None:
    records = [r for r in two_process_runs["a"].read_metrics() if "loss_d" in r]
    assert [r["step"] for r in records] == list(range(1, 21))
    r0, r1 = (rank["local"][0] for rank in two_process_runs["ranks"])
    d0, d1 = ([v for v in values if "loss_d" in v] for values in (r0, r1))
    g0, g1 = ([v for v in values if "loss_g" in v] for values in (r0, r1))
    assert len(d0) == len(d1) == len(g0) == 20
    assert any(abs(a["loss_d"] - b["loss_d"]) > 1e-4 for a, b in zip(d0, d1, strict=True))  # the processes saw different data
    for record, a, b, ga, gb in zip(records, d0, d1, g0, g1, strict=True):
        assert record["loss_d"] == pytest.approx((a["loss_d"] + b["loss_d"]) / 2, abs=2e-6)
        assert record["d_real"] == pytest.approx((a["d_real"] + b["d_real"]) / 2, abs=2e-6)
        assert record["loss_g"] == pytest.approx((ga["loss_g"] + gb["loss_g"]) / 2, abs=2e-6)
    assert records[-1]["epoch"] == pytest.approx(20 * 2 * 16 / 1797, abs=1e-4)  # both processes' images count


def test_only_rank_zero_writes_the_run_folder(two_process_runs: dict) -> None:
    assert two_process_runs["ranks"][1]["writes"] == []
    assert any(".latest.pt." in w for w in two_process_runs["ranks"][0]["writes"])  # the audit sees writes


def test_a_stop_on_one_process_stops_both_after_the_same_step_with_a_checkpoint(two_process_runs: dict) -> None:
    resumed = [rank["resumed_at"][2] for rank in two_process_runs["ranks"]]
    assert resumed == [10, 10]  # asked at step 7 on rank 1, agreed at the next check (every 10 steps)


def test_resume_after_a_stop_continues_exactly_on_both_processes(two_process_runs: dict) -> None:
    straight = [r for r in two_process_runs["a"].read_metrics() if "loss_d" in r]
    stopped = [r for r in two_process_runs["b"].read_metrics() if "loss_d" in r]
    assert [r["step"] for r in stopped] == list(range(1, 21))
    assert [{k: r[k] for k in LOSS_KEYS} for r in stopped] == [{k: r[k] for k in LOSS_KEYS} for r in straight]
    assert read_status(two_process_runs["b"])["state"] == "finished"
    a = load_checkpoint(two_process_runs["a"].latest_checkpoint)
    b = load_checkpoint(two_process_runs["b"].latest_checkpoint)
    assert all(torch.equal(a["G"][k], b["G"][k]) for k in a["G"])


def test_resuming_a_two_process_run_in_one_process_is_refused_clearly(two_process_runs: dict,
                                                                      capsys: pytest.CaptureFixture) -> None:
    run = two_process_runs["a"]
    code = main(["resume", run.id, "--runs-dir", str(run.path.parent), "--max-steps", "30"])
    assert code == 2
    err = capsys.readouterr().err
    assert "trained by 2 process(es)" in err and "torchrun --nproc-per-node 2" in err
    assert read_status(run)["state"] == "finished"  # refused before anything changed


def test_the_app_refuses_to_resume_a_two_process_run_as_a_job_and_says_how(two_process_runs: dict) -> None:
    from ganlab.runs.summary import resume_blocker
    from ganlab.train import JobManager

    run = two_process_runs["a"]
    expected = f"torchrun --nproc-per-node 2 -m ganlab resume {run.id}"
    assert expected in resume_blocker(run)
    manager = JobManager(mode="thread")
    with pytest.raises(ValueError, match=expected):
        manager.resume(run, {"max_steps": 30})
    assert manager.jobs() == [] and read_status(run)["state"] == "finished"
