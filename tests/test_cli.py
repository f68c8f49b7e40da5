"""CLI: train on digits, list runs, sample a grid, morph a GIF, and clean errors for bad flags."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from ganlab.cli import main
from ganlab.runs import list_runs


def test_cli_train_sample_morph_runs_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["train", "--dataset", "digits", "--arch", "dcgan", "--img-size", "16", "--g-channels", "8",
                 "--d-channels", "8", "--max-steps", "5", "--batch-size", "32", "--sample-every", "5", "--threads", "1"])
    assert code == 0
    runs = list_runs()
    assert len(runs) == 1
    checkpoint = runs[0].latest_checkpoint
    assert checkpoint is not None and len(runs[0].read_metrics()) > 0

    grid = tmp_path / "grid.png"
    assert main(["sample", str(checkpoint), "--seeds", "0-15", "--out", str(grid)]) == 0
    assert Image.open(grid).size[0] > 16

    gif = tmp_path / "walk.gif"
    assert main(["morph", str(checkpoint), "--seeds", "1,5,9", "--frames", "12", "--out", str(gif), "--size", "32"]) == 0
    with Image.open(gif) as im:
        assert im.format == "GIF" and im.n_frames == 12

    assert main(["runs"]) == 0
    assert runs[0].id in capsys.readouterr().out or "dcgan" in capsys.readouterr().out


def test_cli_resume_extends_a_run(capsys: pytest.CaptureFixture) -> None:
    assert main(["train", "--img-size", "16", "--g-channels", "8", "--d-channels", "8", "--max-steps", "3",
                 "--batch-size", "32", "--threads", "1"]) == 0
    run = list_runs()[0]
    assert main(["resume", run.id, "--max-steps", "5"]) == 0
    assert [r["step"] for r in run.read_metrics() if "loss_d" in r][-1] == 5


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["train", "--lr-g", "0"], "lr_g=0.0 must be a number greater than 0"),
     (["train", "--batch-size", "many"], "batch_size='many' must be a whole number"),
     (["train", "--img-size", "30"], "img_size=30 is not supported"),
     (["train", "--dataset", "imagenet"], "imagenet"),
     (["train", "--img-size", "128", "--g-channels", "2048"], "over the limit of 200 million"),
     (["sample", "/no/such.pt", "--out", "x.png"], "does not exist")],
)
def test_cli_reports_bad_values_without_traceback(argv: list[str], message: str, capsys: pytest.CaptureFixture) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert list_runs() == []  # a refused command leaves no run folder behind


@pytest.mark.parametrize("command", ["train", "resume", "sample", "morph", "runs", "export", "tensorboard", "bench"])
def test_cli_help_of_every_command_prints(command: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage:" in capsys.readouterr().out
