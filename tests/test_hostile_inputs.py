"""Hostile input: bad CLI flags, hand-edited config.json, files where folders belong, damaged or forged
checkpoints, and the server's exposure settings. Each gives a clear message and writes nothing stray."""

from __future__ import annotations

import io
import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tomllib
import torch

from ganlab import paths
from ganlab.cli import main
from ganlab.explore import load_generator
from ganlab.runs import RunError, create_run, open_run
from ganlab.runs.checkpoint import CheckpointError, load_checkpoint
from ganlab.train.job import TrainingJob
from ganlab.train.manager import JobManager
from ganlab.train.trainer import Trainer
from tests.helpers import blobs_dataset, open_page, tiny_config

ROOT = Path(__file__).resolve().parent.parent
TINY_FLAGS = ["--img-size", "16", "--g-channels", "8", "--d-channels", "8", "--z-dim", "16", "--batch-size", "16",
              "--threads", "1", "--precision", "fp32"]


def _python(args: list[str], cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", **env}
    return subprocess.run([sys.executable, "-m", "ganlab", *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=180)


@pytest.fixture(scope="module")
def trained_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Bytes of a real 4-step checkpoint, made once for the corruption tests."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANLAB_HOME", str(tmp_path_factory.mktemp("hostile_template")))
        config = tiny_config(max_steps=4)
        run = create_run(config)
        Trainer(config, run, dataset=blobs_dataset()).run()
        return run.latest_checkpoint.read_bytes()


# ---------------------------------------------------------------- CLI flags
@pytest.mark.parametrize(
    ("argv", "message"),
    [(["train", "--lr-g", "abc"], "lr_g='abc' must be a number"),
     (["train", "--config", "/no/such/config.json"], "config file /no/such/config.json does not exist")],
)
def test_cli_process_rejects_bad_flags_with_exit_2_and_no_traceback(argv: list[str], message: str) -> None:
    result = _python(argv)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["train", "--epochs", "nan"], "epochs=nan must be a number"),
     (["train", "--threads", "-3"], "threads=-3 must be a whole number from 0"),
     (["train", "--batch-size", "1e9"], "batch_size='1e9' must be a whole number"),
     (["train", "--z-dim", "99999"], "z_dim=99999 must be a whole number from 1 to 4096"),
     (["train", "--mlp-hidden", "64,-1", "--arch", "mlp"], "mlp_hidden"),
     (["train", "--config", "{tmp}"], "cannot be read"),
     (["train", "--config", "{tmp}/binary.json"], "not UTF-8"),
     (["train", "--dataset", "folder", "--data-path", "{tmp}/binary.json"], "is a file, not a folder"),
     (["sample", "{tmp}/binary.json", "--out", "{tmp}/x.png"], "unreadable or truncated"),
     (["sample", "{tmp}", "--out", "{tmp}/x.png"], "is a folder, not a checkpoint file")],
    ids=["nan", "negative", "float-for-int", "too-large", "bad-list", "config-is-folder", "config-binary",
         "data-path-is-file", "checkpoint-is-junk", "checkpoint-is-folder"],
)
def test_cli_rejects_bad_values_and_paths_naming_them(argv: list[str], message: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "binary.json").write_bytes(bytes(range(256)) * 4)
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_refuses_outputs_that_would_exhaust_memory(tmp_path: Path, trained_checkpoint: bytes,
                                                       capsys: pytest.CaptureFixture) -> None:
    ckpt = tmp_path / "g.pt"
    ckpt.write_bytes(trained_checkpoint)
    assert main(["sample", str(ckpt), "--out", str(tmp_path / "x.png"), "--upscale", "100000"]) == 2
    assert "megapixels" in capsys.readouterr().err
    assert main(["morph", str(ckpt), "--out", str(tmp_path / "x.gif"), "--frames", "100000000"]) == 2
    assert "choose 1 to 10,000 frames" in capsys.readouterr().err
    assert main(["morph", str(ckpt), "--out", str(tmp_path / "x.gif"), "--frames", "10000", "--size", "1024"]) == 2
    assert "GB of memory" in capsys.readouterr().err
    assert main(["morph", str(ckpt), "--out", str(tmp_path / "x.gif"), "--size", "0"]) == 2
    assert "--size 0 is out of range" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [ckpt]


# ---------------------------------------------------------------- hand-edited config.json
def _edit(changes: dict) -> str:
    return json.dumps({**tiny_config().to_dict(), **changes})


@pytest.mark.parametrize(
    ("content", "message"),
    [(_edit({"lr_g": -1}), "lr_g=-1"),
     (_edit({"batch_size": "lots"}), "batch_size='lots' must be a whole number"),
     (_edit({"img_size": 30}), "img_size=30 is not supported"),
     (_edit({"learning_rate": 0.1}), "unknown config key(s): learning_rate"),
     (_edit({"mlp_hidden": 5}), "mlp_hidden=5 must be a list"),
     (_edit({}).replace('"seed": 0', '"seed": 1e400'), "seed=inf must be a whole number"),
     ('{"epochs": NaN}', "epochs=nan"),
     ("{not json", "not valid JSON"),
     ("[1, 2]", "must be a JSON object, got list"),
     ("[" * 100_000, "not valid JSON"),
     (b"\xff\xfe\x00garbage", "not UTF-8")],
    ids=["out-of-range", "wrong-type", "bad-size", "unknown-key", "list-type", "inf", "nan", "syntax", "not-object",
         "deep-nesting", "binary"],
)
def test_hand_edited_config_json_is_refused_naming_the_problem(content: str | bytes, message: str) -> None:
    run = create_run(tiny_config())
    if isinstance(content, bytes):
        run.config_path.write_bytes(content)
    else:
        run.config_path.write_text(content)
    with pytest.raises(RunError, match="config.json is invalid") as info:
        open_run(run.id).config()
    assert message in str(info.value)


def test_resume_refuses_a_run_whose_config_json_was_broken(capsys: pytest.CaptureFixture) -> None:
    job = TrainingJob(tiny_config(max_steps=3))
    job.start()
    job.wait_for(lambda s: not s.active, timeout=60)
    job.run.config_path.write_text(_edit({"batch_size": 0}))
    manager = JobManager()
    with pytest.raises(RunError, match="batch_size=0 must be a whole number from 1"):
        manager.resume(job.run, overrides={"max_steps": 5})
    assert manager.jobs() == []  # nothing queued, nothing started
    assert main(["resume", job.run.id, "--max-steps", "5"]) == 2
    err = capsys.readouterr().err
    assert "batch_size=0" in err and "Traceback" not in err
    assert load_checkpoint(job.run.latest_checkpoint)["step"] == 3  # the run itself is untouched


# ---------------------------------------------------------------- datasets
@pytest.mark.parametrize(
    ("changes", "message"),
    [(dict(dataset="folder", data_path="{file}"), "is a file, not a folder"),
     (dict(dataset="zip", data_path="{dir}"), "is a folder, not a zip"),
     (dict(dataset="zip", data_path="{file}"), "not a zip archive"),
     (dict(dataset="folder", data_path="{dir}"), "no image files")],
    ids=["folder-is-file", "zip-is-folder", "zip-is-not-zip", "empty-folder"],
)
def test_job_on_wrong_kind_of_dataset_path_fails_with_message_in_snapshot(changes: dict, message: str,
                                                                           tmp_path: Path) -> None:
    (tmp_path / "notes.zip").write_text("not an archive")
    (tmp_path / "empty").mkdir()
    changes = {k: v.format(file=tmp_path / "notes.zip", dir=tmp_path / "empty") for k, v in changes.items()}
    job = TrainingJob(tiny_config(**changes))
    job.start()
    snap = job.wait_for(lambda s: not s.active, timeout=60)
    assert snap.state == "failed" and message in snap.error
    assert "Traceback" not in snap.error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "notes.zip"]  # nothing written beside them


# ---------------------------------------------------------------- checkpoints
def test_damaged_checkpoints_always_raise_checkpoint_error(tmp_path: Path, trained_checkpoint: bytes) -> None:
    rng = random.Random(0)
    path = tmp_path / "latest.pt"
    outcomes = {"refused": 0, "loaded": 0}
    for i in range(120):
        data = bytearray(trained_checkpoint)
        if i % 4 == 0:
            data = data[: rng.randrange(len(data))]
        elif i % 4 == 1:
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif i % 4 == 2:
            data = bytearray(rng.randbytes(rng.randint(0, 3000)))
        else:
            start = rng.randrange(len(data))
            del data[start:start + rng.randint(1, 200)]
        path.write_bytes(bytes(data))
        try:
            loaded = load_generator(path)
        except CheckpointError:  # the only exception a damaged file may raise
            outcomes["refused"] += 1
        else:  # flipped bytes inside tensor data still decode: a valid (if odd) generator
            assert isinstance(loaded.generator, torch.nn.Module)
            outcomes["loaded"] += 1
    assert outcomes["refused"] > 60


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "unreadable or truncated"),
     (b"root:x:0:0:root:/root:/bin/bash\n", "unreadable or truncated"),
     (b"PK\x03\x04" + b"\0" * 64, "unreadable or truncated")],
    ids=["empty", "text-file", "zip-header-only"],
)
def test_non_checkpoint_files_are_refused_clearly(content: bytes, message: str, tmp_path: Path) -> None:
    path = tmp_path / "latest.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        load_generator(path)


@pytest.mark.parametrize(
    "edit",
    [lambda d: d.pop("G"), lambda d: d.update(G="not weights"), lambda d: d.update(G={"w": torch.zeros(1)}),
     lambda d: d.update(step="soon"), lambda d: d.update(class_names=5), lambda d: d.pop("model_config"),
     lambda d: d["model_config"].update(arch="stylegan"), lambda d: d.update(ema=torch.zeros(2)),
     lambda d: d.update(step=float("inf")), lambda d: d.update(class_names=torch.zeros(3)),
     lambda d: d.update(model_config=[1, 2])],
    ids=["no-G", "G-is-text", "G-wrong-keys", "step-is-text", "class-names-int", "no-model-config", "bad-arch",
         "ema-is-a-tensor", "step-is-inf", "class-names-tensor", "model-config-is-a-list"],
)
def test_forged_checkpoint_payloads_are_refused_with_checkpoint_error(edit, tmp_path: Path,
                                                                      trained_checkpoint: bytes) -> None:
    data = torch.load(io.BytesIO(trained_checkpoint), weights_only=True)
    data["ema"] = None
    edit(data)
    path = tmp_path / "forged.pt"
    torch.save(data, path)
    with pytest.raises(CheckpointError, match="forged.pt"):
        load_generator(path)


@pytest.mark.parametrize("edit", [lambda d: d.pop("G"), lambda d: d.update(G={"w": torch.zeros(1)}),
                                  lambda d: d.update(step=float("inf")), lambda d: d.update(ema=torch.zeros(2)),
                                  lambda d: d.update(class_names=torch.zeros(3))],
                         ids=["no-G", "G-wrong-keys", "step-is-inf", "ema-is-a-tensor", "class-names-tensor"])
def test_resuming_from_a_forged_checkpoint_is_a_checkpoint_error_naming_it(edit, trained_checkpoint: bytes) -> None:
    from ganlab.train import resume_trainer

    data = torch.load(io.BytesIO(trained_checkpoint), weights_only=True)
    edit(data)
    run = create_run(tiny_config())
    torch.save(data, run.checkpoints_dir / "latest.pt")
    with pytest.raises(CheckpointError, match="latest.pt"):
        resume_trainer(run)


def test_forged_checkpoint_declaring_a_huge_network_is_refused_without_building_it(tmp_path: Path,
                                                                                   trained_checkpoint: bytes) -> None:
    data = torch.load(io.BytesIO(trained_checkpoint), weights_only=True)
    data["model_config"].update(arch="dcgan", img_size=128, g_channels=2048)  # ~7 billion parameters if built
    path = tmp_path / "huge.pt"
    torch.save(data, path)
    with pytest.raises(CheckpointError, match=r"huge.pt.*g_channels=2048.*over the limit"):
        load_generator(path)


def test_explore_page_shows_an_error_for_a_junk_checkpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "pretrained"
    empty.mkdir()
    monkeypatch.setattr(paths, "pretrained_dir", lambda: empty)
    run = create_run(tiny_config())
    (run.checkpoints_dir / "latest.pt").write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    at = open_page("pages/3_Explore.py", 60).run()
    assert not at.exception, at.exception
    assert any("unreadable or truncated" in e.value for e in at.error), [e.value for e in at.error]


# ---------------------------------------------------------------- exposure and stray writes
def test_server_binds_to_loopback_with_an_upload_limit() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    server = config["server"]
    assert server["address"] == "127.0.0.1"
    assert 1 <= server["maxUploadSize"] <= 4096  # MB
    assert config["browser"]["gatherUsageStats"] is False


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of sockets in LISTEN state on port, from /proc/net/tcp and tcp6."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as fh:
            for line in fh.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, port_hex = local.rsplit(":", 1)
                if state == "0A" and int(port_hex, 16) == port:
                    found.add(address)
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads listening sockets from /proc")
def test_streamlit_server_started_from_another_folder_listens_on_loopback_only(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "HOME": str(tmp_path), "OMP_NUM_THREADS": "1"}  # no user-wide ~/.streamlit either
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless",
                               "true", "--server.port", str(port)], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while not (addresses := _listening_addresses(port)) and time.monotonic() < deadline:
            assert server.poll() is None, "the server exited"
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(30)
    assert addresses == {"0100007F"}  # 127.0.0.1 in /proc's little-endian hex; no 0.0.0.0, no IPv6 wildcard


def test_cli_training_writes_only_inside_ganlab_home(tmp_path: Path) -> None:
    cwd, home, ganlab_home, tmp = (tmp_path / name for name in ("cwd", "home", "ganlab", "tmp"))
    for folder in (cwd, home, tmp):
        folder.mkdir()
    result = _python(["train", *TINY_FLAGS, "--max-steps", "2"], cwd=cwd, HOME=str(home),
                     GANLAB_HOME=str(ganlab_home), TMPDIR=str(tmp), XDG_CACHE_HOME=str(home / ".cache"))
    assert result.returncode == 0, result.stderr
    assert list(cwd.iterdir()) == [] and list(home.iterdir()) == [] and list(tmp.iterdir()) == []
    written = {p.relative_to(ganlab_home).parts[0] for p in ganlab_home.rglob("*") if p.is_file()}
    assert written <= {"runs", "cache", "data"} and "runs" in written



def test_animation_memory_guard_uses_the_real_frame_size_not_the_requested_one(
        trained_checkpoint: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ganlab.explore import animation, interpolation_frames, z_batch

    ckpt = tmp_path / "g.pt"
    ckpt.write_bytes(trained_checkpoint)
    loaded = load_generator(ckpt)
    size = loaded.model_config.img_size
    monkeypatch.setattr(animation, "MAX_FRAME_BYTES", 200 * size * size * 3)  # room for 200 real frames
    keys = z_batch([1, 2], loaded.model_config.z_dim)
    # min_side=1 asks for 1x1 frames; they come out at the generator's own size, so 300 do not fit.
    with pytest.raises(ValueError, match=f"300 frames of {size}x{size} pixels"):
        interpolation_frames(loaded, keys, 300, min_side=1)
    assert len(interpolation_frames(loaded, keys, 150, min_side=1)) == 150
