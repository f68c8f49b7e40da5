"""The Train page on a (faked) machine with two GPUs: each GPU is offered, "Devices for this run" appears, and
Start with 2 devices launches torchrun (a fake process) on exactly the form's config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import ganlab.device
import ganlab.train.launch
import ui.forms
import ui.jobs
from ganlab.config import TrainConfig
from tests.test_app_train import open_train, tiny_settings
from tests.test_launch import FakeProcess


@pytest.fixture
def two_fake_gpus(monkeypatch: pytest.MonkeyPatch) -> list[FakeProcess]:
    for module in (ganlab.device, ui.forms, ui.jobs):
        monkeypatch.setattr(module, "cuda_device_count", lambda: 2)
    # The precision list asks the device itself; there is none here, so it answers as the CPU would.
    monkeypatch.setattr(ui.forms, "resolve_device", lambda name: torch.device("cpu"))
    monkeypatch.setattr(ganlab.train.launch.subprocess, "Popen", FakeProcess)
    FakeProcess.started = []
    return FakeProcess.started


def test_with_one_device_or_none_there_is_no_devices_input(app_manager) -> None:
    at = open_train()
    assert not [w for w in at.number_input if w.key == "train.devices"]


def test_two_gpus_are_offered_one_by_one_and_a_run_on_both_launches_torchrun(app_manager,
                                                                            two_fake_gpus: list[FakeProcess]) -> None:
    at = open_train()
    assert at.selectbox(key="cfg.device").options == ["auto (cuda)", "cuda (any free GPU)", "cuda:0", "cuda:1", "cpu"]
    devices = at.number_input(key="train.devices")
    assert devices.value == 1 and devices.max == 2
    tiny_settings(at)
    at.selectbox(key="cfg.device").set_value("cuda")
    at.number_input(key="train.devices").set_value(2)
    at.button(key="train.start").click().run()
    assert not at.exception, at.exception
    assert len(two_fake_gpus) == 1 and app_manager.jobs() == []
    command = two_fake_gpus[0].command
    assert command[command.index("--nproc-per-node") + 1] == "2" and command[-3:-1] == ["train", "--config"]
    config = TrainConfig.from_dict(json.loads(Path(command[-1]).read_text()))
    assert config.device == "cuda" and config.img_size == 16 and config.g_channels == 8
    assert any("Launched one run on 2 GPUs through torchrun" in s.value for s in at.success)
    assert any("torchrun · 2 GPUs · running" in c.value for c in at.sidebar.caption)
    two_fake_gpus[0].finish(0)


def test_the_sidebar_label_and_the_runs_table_name_the_device(tmp_path: Path) -> None:
    from ganlab.runs import create_run
    from ganlab.train.snapshot import JobSnapshot
    from tests.helpers import record_state, tiny_config
    from ui.live import job_label
    from ui.runs import run_rows

    snap = JobSnapshot("00003-dcgan-digits", "00003-dcgan-digits", "running", 120, 500, tiny_config(), device="cuda:1")
    assert job_label(snap).endswith("00003-dcgan-digits · cuda:1 · running · 120/500")
    run = create_run(tiny_config(), tmp_path)
    record_state(run, "finished", hardware="cuda:1 · bf16 · channels_last")
    assert run_rows([run], {run.id: "finished"}, {run.id: "r"})[0]["Device"] == "cuda:1 · bf16"
    record_state(run, "finished", hardware="2 processes (torchrun) · cuda · bf16")
    assert run_rows([run], {run.id: "finished"}, {run.id: "r"})[0]["Device"] == "2 processes (torchrun) · cuda · bf16"
