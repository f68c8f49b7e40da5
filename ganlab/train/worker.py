"""The training loop of a job, run away from the app: commands in, events out, over one connection.

A TrainingJob starts `work()` in a child process (`python -m ganlab.train.worker`), so page reruns in the
app's process cannot hold the GIL the trainer needs, or in a thread of its own process (tests, benchmarks).
Either way the protocol is the same: the job sends one WorkOrder, then commands ("pause", "unpause", "stop",
"step_d", "step_g", "step_both", "threads N" with N = 0 for all CPUs); the worker sends messages (first item = kind):

  ("progress", text)                              while loading data
  ("ready", info)                                 trainer built: hardware, device, threads, totals, counters, notes
  ("event", kind, step, counters, record, grid)   a TrainEvent (log record or uint8 grid)
  ("paused", counters) / ("running", counters)    after pause / unpause (counters are the exact ones)
  ("threads", n)                                  after "threads N": the CPU threads it trains on now
  ("ended", state, counters)                      finished or stopped, checkpoint written
  ("error", state, message, detail)               failed or diverged; the last good checkpoint stays
"""

from __future__ import annotations

import errno
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import torch

from ganlab.config import TrainConfig
from ganlab.device import set_threads
from ganlab.runs import Run
from ganlab.runs.lifecycle import adopt_lock
from ganlab.train.events import DivergedError, TrainEvent
from ganlab.train.resume import resume_trainer
from ganlab.train.trainer import Trainer


@dataclass(frozen=True)
class WorkOrder:
    """What a job asks its worker to train (plain data: it crosses a process boundary)."""

    run_path: str
    config: dict[str, Any] | None  # a new run's TrainConfig; None when resuming from the run's checkpoint
    overrides: dict[str, Any] = field(default_factory=dict)  # resume only (see ganlab.train.resume)
    paused: bool = False  # start paused (the user pressed Pause while the job was queued)
    lock_fd: int | None = None  # process mode: the run's lock, inherited from the job (see lifecycle.adopt_lock)
    device: str | None = None  # the device the job queue pinned (cuda:K...); None = the config's choice


def counters(trainer: Trainer) -> dict[str, int]:
    return {"step": trainer.step, "d_updates": trainer.d_updates, "g_updates": trainer.g_updates}


class _ParentGone(Exception):
    """The job's side of the connection closed: its process ended, so the worker ends too (no more writes)."""


class _Worker:
    def __init__(self, conn: Connection, order: WorkOrder) -> None:
        self.conn, self.order = conn, order
        self.trainer: Trainer | None = None

    def send(self, *message: Any) -> None:
        try:
            self.conn.send(message)
        except (BrokenPipeError, EOFError, OSError) as exc:
            raise _ParentGone from exc

    def recv(self) -> str:
        try:
            return self.conn.recv()
        except (EOFError, OSError) as exc:
            raise _ParentGone from exc

    def build(self) -> Trainer:
        run = Run(Path(self.order.run_path))
        if self.order.lock_fd is not None:
            adopt_lock(run, self.order.lock_fd)

        def data_progress(done: int, total: int) -> None:
            self.send("progress", f"loading data {done}/{total}")

        device = self.order.device
        if self.order.config is None:
            return resume_trainer(run, config_overrides=self.order.overrides, data_progress=data_progress,
                                  device=device)
        return Trainer(TrainConfig.from_dict(self.order.config), run, data_progress=data_progress, device=device)

    def on_event(self, event: TrainEvent) -> None:
        self.send("event", event.kind, event.step, counters(self.trainer), event.record, event.grid)

    def run(self) -> None:
        t = self.trainer = self.build()
        hw = f"{t.device} · {t.hardware.precision}" + (" · channels_last" if t.hardware.channels_last else "")
        skipped = f" ({t.num_skipped} files skipped: {'; '.join(t.skipped[:3])})" if t.num_skipped else ""
        self.send("ready", {**counters(t), "total_steps": t.total_steps, "hardware": hw, "config": t.config.to_dict(),
                            "device": t.device.type, "threads": torch.get_num_threads(),
                            "quality_note": t.quality_note,
                            "message": f"{t.num_images} images from {t.dataset_name}{skipped}"})
        if t.step == 0:  # a grid before the first step shows the untrained generator
            self.on_event(TrainEvent("sample", 0, grid=t.save_samples()))
        paused = self.order.paused
        announced = False
        while True:
            command = None
            if paused:
                if not announced:
                    self.send("paused", counters(t))
                    announced = True
                command = self.recv()
            elif self.conn.poll():
                command = self.recv()
            if command == "pause":
                paused, announced = True, False
            elif command == "unpause":
                paused = False
                self.send("running", counters(t))
            elif command == "stop":
                return self.end("stopped")
            elif command in ("step_d", "step_g", "step_both"):
                self.single_step(command)
            elif command is not None and command.startswith("threads "):
                self.send("threads", set_threads(int(command.split()[1])))  # between steps: the pool is idle
            elif command is None:
                if t.finished:
                    return self.end("finished")
                t.train_step(self.on_event)

    def single_step(self, command: str) -> None:
        t = self.trainer
        if command == "step_both":
            t.train_step(self.on_event)
        elif command == "step_d":
            t.d_step()
        else:
            t.g_step()
        record = t.log_record()
        if record is not None:
            self.on_event(TrainEvent("log", t.step, record=record))
        self.on_event(TrainEvent("sample", t.step, grid=t.save_samples() if command != "step_d" else None))

    def end(self, state: str) -> None:
        t = self.trainer
        record = t.log_record()
        if record is not None:
            self.on_event(TrainEvent("log", t.step, record=record))
        t.save()
        self.send("ended", state, counters(t))


def work(conn: Connection, order: WorkOrder) -> None:
    """Train as ordered until finished, stopped, failed or the job goes away; every outcome is a message."""
    worker = _Worker(conn, order)
    try:
        worker.run()
    except _ParentGone:
        return  # nobody to report to; the run stays at its last checkpoint (the lock says it is interrupted)
    except BaseException as exc:  # noqa: BLE001 - every failure (even SystemExit) must reach the job
        state = "diverged" if isinstance(exc, DivergedError) else "failed"
        try:
            message = error_message(exc)
        except Exception:  # noqa: BLE001 - the message must never stop the failure from being reported
            message = f"{type(exc).__name__}: {exc}"
        try:
            worker.send("error", state, message, traceback.format_exc())
        except _ParentGone:
            pass


def _disk_full(exc: BaseException | None) -> OSError | None:
    """The ENOSPC error exc is or was raised from (a CheckpointError wraps the OSError), else None."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return exc
        exc = exc.__cause__
    return None


def error_message(exc: BaseException) -> str:
    """What a user reads when training ends with this exception, with what to do about it."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return "the GPU ran out of memory: choose a smaller batch size or image size, then start again"
    if isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and (
            "can't allocate memory" in message or "out of memory" in message)):
        # CPU and MPS allocators raise plain RuntimeErrors; recognise them by their message.
        return "training ran out of memory: choose a smaller batch size or image size, then start again"
    if (full := _disk_full(exc)) is not None:
        return f"the disk is full ({full.strerror}): free some space, then resume the run from its last checkpoint"
    if not isinstance(exc, (ValueError, DivergedError)):
        return f"{type(exc).__name__}: {message}"
    return message
