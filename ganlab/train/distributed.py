"""One run trained by several processes (torchrun): DDP replicas of G and D, a shard of every batch per process,
losses averaged over processes at logging ticks, and one checkpoint that resumes every process exactly.

Rank 0 alone writes the run folder (config, metrics, grids, checkpoints; status through the RunRecorder the
command line gives it) and alone reads the checkpoint on resume (then sends it to the others), so the other
processes, on this machine or on other nodes, never touch the run folder.

BatchNorm: on GPUs both networks use SyncBatchNorm (statistics over the whole step's batch, as one process
with world x batch_size would see). On the CPU torch's SyncBatchNorm refuses to run (its forward needs GPU
tensors), so each process normalises with its own batch's statistics and DDP copies rank 0's running
statistics to the others at every forward (broadcast_buffers): every process then holds the same weights and
buffers, and the checkpoint is the same whichever process would write it.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ganlab.config import TrainConfig
from ganlab.device import set_threads, usable_cpus
from ganlab.runs import CheckpointError, Run, changing, save_checkpoint
from ganlab.train import world as worlds
from ganlab.train.events import AbortFn, DivergedError, ProgressFn, TrainEvent
from ganlab.train.meter import Meter
from ganlab.train.resume import read_for_resume
from ganlab.train.trainer import Trainer

STOP_CHECK_EVERY = 10  # steps between the processes' agreement on a stop request (one tiny CPU all-reduce)


class Replica(DistributedDataParallel):
    """DDP that still looks like the network it wraps: its state_dict has the network's own keys, attributes
    such as z_dim reach the network, and a forward that cannot train it (no gradients, or all its parameters
    frozen, as D is in G's step) runs the network directly: DDP would wait for gradients that never come."""

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "module":
                raise
            return getattr(self.module, name)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if not torch.is_grad_enabled() or not any(p.requires_grad for p in self.module.parameters()):
            return self.module(*args, **kwargs)
        return super().forward(*args, **kwargs)

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self.module.state_dict(*args, **kwargs)

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        return self.module.load_state_dict(state_dict, strict, assign)


def replicate(net: nn.Module, device: torch.device) -> Replica:
    """net as a DDP replica on device; BatchNorm synchronised across processes where torch supports it (GPUs)."""
    on_gpu = device.type == "cuda"
    if on_gpu:
        net = nn.SyncBatchNorm.convert_sync_batchnorm(net)  # reuses the same parameter tensors: optimisers stay valid
    # Synchronised BatchNorm keeps the running statistics equal everywhere; without it DDP copies rank 0's
    # (called broadcast_buffers before torch 2.14).
    sync = "forward_sync_buffers" if "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters \
        else "broadcast_buffers"
    return Replica(net, device_ids=[device.index] if on_gpu else None, **{sync: not on_gpu})


class ReducingMeter(Meter):
    """A Meter whose sums are averaged over all processes when read (a logging tick: every process reads)."""

    def read(self, step: int, last_good_step: int) -> tuple[dict[str, float], float]:
        if self.sums:
            keys = sorted(self.sums)  # the same order on every process
            stacked = torch.stack([self.sums[k] for k in keys])
            torch.distributed.all_reduce(stacked)
            stacked /= torch.distributed.get_world_size()
            self.sums = dict(zip(keys, stacked.unbind(), strict=True))
        return super().read(step, last_good_step)


def rank_seed(seed: int, rank: int) -> int:
    """A seed for one process's random streams; rank 0 keeps the run's own (as if it trained alone)."""
    return seed if rank == 0 else (seed + 1_000_003 * rank) % 2**63


class DistributedTrainer(Trainer):
    """One process's part of a run trained by torchrun; the process group must be joined (ganlab.train.world).

    `run` is the run folder on every process (rank 0 writes it, the others only know that it exists, so they take
    part in the collectives of saving); without a run nothing is written, as with Trainer.
    """

    def __init__(self, config: TrainConfig, run: Run | None = None, *, device: str | None = None,
                 **kwargs: Any) -> None:
        self.world = worlds.current()
        self.shard = (self.world.rank, self.world.size)  # before Trainer.__init__: the sampler takes its shard
        if not self.world.main:
            config = config.replace(quality_every=0)  # rank 0 alone measures and logs quality
        super().__init__(config, run if self.world.main else None, device=device, **kwargs)
        self.has_run = run is not None
        self.budget_spent = False  # max_minutes ran out (agreed by every process in run())
        self.has_checkpoint = False  # whether this run has a checkpoint (written or resumed from), on every process
        if self.device.type == "cpu" and config.threads == 0:  # the processes of one machine share its cores
            set_threads(max(1, usable_cpus() // self.world.local_size))
        if self.world.rank:  # each process its own noise (and dropout) draws; same initial weights on all
            torch.manual_seed(rank_seed(config.seed, self.world.rank))
            self.noise.manual_seed(rank_seed(config.seed + 1, self.world.rank))
        self.G = replicate(self.G, self.device)
        self.D = replicate(self.D, self.device)
        self.meter = ReducingMeter()

    def attach(self, run: Run) -> None:
        """The run folder made after the trainer (the command line makes it once data and networks load)."""
        self.run_dir = run if self.world.main else None
        self.has_run = True

    @property
    def hardware_label(self) -> str:
        """'2 processes (torchrun) · cuda · bf16' for status.json and the Runs table."""
        return f"{self.world.size} processes (torchrun) · {self.device.type} · {self.hardware.precision}"

    # ------------------------------------------------------------------ state: every process's random streams
    def state_dict(self) -> dict[str, Any]:
        """Trainer.state_dict() plus every process's RNG states (rank 0 gets them); a collective."""
        state = super().state_dict()
        streams = worlds.gather(state["rng"])
        if streams is not None:
            state["rng"] = {**state["rng"], "ranks": streams}
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)  # the sampler refuses a checkpoint of another number of processes
        streams = state["rng"].get("ranks")
        if not streams or len(streams) != self.world.size:
            raise CheckpointError(f"the checkpoint has random streams for {len(streams or [])} process(es), this run "
                                  f"has {self.world.size}")
        mine = streams[self.world.rank]
        torch.set_rng_state(mine["torch"])
        self.noise.set_state(mine["noise"])
        if "cuda" in mine and self.device.type == "cuda":
            torch.cuda.set_rng_state(mine["cuda"], self.device)
        self.has_checkpoint = True

    @property
    def finished(self) -> bool:
        """The planned steps are done; a minutes budget ends the run in run(), agreed by every process (their
        clocks differ, and a process that stopped alone would leave the others waiting in a collective)."""
        return 0 < self.total_steps <= self.step or self.budget_spent

    def save_best(self) -> None:
        """best.pt from rank 0 alone (it alone measures quality): its own random streams, no collective; the file
        is for sampling and export, exact resume reads latest.pt."""
        if self.run_dir and all(torch.isfinite(p).all() for net in (self.G, self.D) for p in net.parameters()):
            save_checkpoint(self.run_dir.checkpoints_dir / "best.pt", Trainer.state_dict(self))

    def save(self) -> None:
        """Every process checks the weights and sends its random streams; rank 0 writes the checkpoint."""
        if not self.has_run:
            return
        for name, net in (("G", self.G), ("D", self.D)):  # the same weights on every process: all stop together
            if not all(torch.isfinite(p).all() for p in net.parameters()):
                raise DivergedError(f"diverged at step {self.step}: {name}'s weights became NaN/inf (last good "
                                    f"checkpoint: step {self.last_good_step}). Try a lower learning rate.")
        if self.world.main:
            super().save()  # its state_dict() gathers the other processes' streams
        else:
            self.state_dict()
            self.last_good_step = self.step
        self.has_checkpoint = True

    def run(self, progress: ProgressFn | None = None, abort: AbortFn | None = None) -> None:
        """Train until total_steps or until any process is asked to stop (a signal, or abort()); every process
        stops after the same step and the run keeps a checkpoint of it."""
        budget = self.config.max_minutes * 60
        with worlds.stop_on_signals():
            while not self.finished:
                if self.step % STOP_CHECK_EVERY == 0:
                    # Each process's own clock: the budget ends the run when any of them says so.
                    stop, spent = worlds.stop_agreed(bool(abort and abort()), budget > 0 and self.elapsed >= budget)
                    if stop:
                        break
                    # The next step is the last on every process: its ticks write the final grid, quality, checkpoint.
                    self.budget_spent = spent
                self.train_step(progress)
            if self.has_run and (not self.has_checkpoint or self.last_good_step != self.step):
                self.log_record()
                self.save()
        if progress:
            progress(TrainEvent("done", self.step))


def share(produce: Callable[[], Any]) -> Any:
    """produce() on rank 0, its result on every process; a ValueError there is raised on every process (so all
    of them end with the same one-line message instead of waiting for a result that never comes)."""
    outcome: tuple[str, Any] | None = None
    if worlds.current().main:
        try:
            outcome = ("ok", produce())
        except ValueError as exc:
            worlds.broadcast(("error", str(exc)))
            raise
    kind, value = worlds.broadcast(outcome)
    if kind == "error":
        raise worlds.RankError(value)
    return value


def resume_distributed(run: Run, overrides: dict[str, Any] | None, device: str) -> DistributedTrainer:
    """Every process: rank 0 (whose recorder holds the run) reads the latest checkpoint and sends it with the
    resumed config to the others; each builds its trainer and restores its own part."""
    def read() -> tuple[dict[str, Any], dict[str, Any]]:
        config, state = read_for_resume(run, overrides)
        return config.to_dict(), state

    with changing(run, "resume") if worlds.current().main else contextlib.nullcontext():
        config_dict, state = share(read)
        trainer = DistributedTrainer(TrainConfig.from_dict(config_dict), run, device=device, warm=False)
        trainer.load_state_dict(state)
        if trainer.world.main:
            run.truncate_metrics(trainer.step)  # after a crash, records past the checkpoint are logged again
    return trainer
