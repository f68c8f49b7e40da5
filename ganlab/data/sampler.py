"""In-memory batches for the trainer: shuffled per epoch by a private generator, exactly resumable."""

from __future__ import annotations

import torch

from ganlab.data.dataset import ImageDataset


class EpochOrder:
    """Which indices come next: one permutation per epoch and flip coins, all from one generator.

    Everything random is drawn in consumption order from a single torch.Generator, so its state,
    the current permutation and the position are a complete description of the future.

    shard=(rank, world) splits each step among the processes of one distributed run: every process draws the
    same permutation and coins (same seed) for the whole step of world * batch_size images and keeps its own
    slice, so the processes never see the same image in an epoch and their states stay identical (one saved
    state resumes them all). world=1 draws exactly what an unsharded order draws.
    """

    def __init__(self, num_images: int, batch_size: int, *, seed: int, flip: bool, drop_last: bool, name: str,
                 shard: tuple[int, int] = (0, 1)):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size={batch_size!r}: give a positive integer")
        rank, world = shard
        if not 0 <= rank < world:
            raise ValueError(f"shard={shard!r}: give (rank, world size) with 0 <= rank < world size")
        if batch_size * world > num_images:
            per = f" ({world} processes x {batch_size})" if world > 1 else ""
            raise ValueError(
                f"batch_size={batch_size * world}{per} is larger than the dataset {name!r} ({num_images} images); "
                f"choose a batch size of at most {num_images // world}"
            )
        self.num_images, self.batch_size = num_images, batch_size
        self.rank, self.world = rank, world
        self.step_size = batch_size * world  # images all processes consume per batch
        self.flip = flip
        self.drop_last = drop_last or world > 1  # every process needs a whole batch, or they fall out of step
        self.generator = torch.Generator().manual_seed(int(seed))
        self.epoch = 0
        self.position = 0
        self.permutation = torch.randperm(num_images, generator=self.generator)

    @property
    def batches_per_epoch(self) -> int:
        full, rest = divmod(self.num_images, self.step_size)
        return full if self.drop_last or rest == 0 else full + 1

    def _epoch_done(self) -> bool:
        left = self.num_images - self.position
        return left <= 0 or (self.drop_last and left < self.step_size)

    def ensure_epoch(self) -> None:
        """Start the next epoch (a fresh permutation) when the current one has no batch left."""
        if self._epoch_done():
            self.epoch += 1
            self.position = 0
            self.permutation = torch.randperm(self.num_images, generator=self.generator)

    def _mine(self, step_indices: torch.Tensor) -> torch.Tensor:
        """This process's slice of one step's indices (or coins)."""
        if self.world == 1:
            return step_indices
        return step_indices[self.rank * self.batch_size : (self.rank + 1) * self.batch_size]

    def remaining(self) -> list[torch.Tensor]:
        """The index batches still to come in this epoch (for a DataLoader's batch_sampler)."""
        self.ensure_epoch()
        stop = self.num_images
        if self.drop_last:  # the last whole batch ends here
            stop -= (self.num_images - self.position) % self.step_size
        step = self.step_size
        return [self._mine(self.permutation[i : min(i + step, stop)]) for i in range(self.position, stop, step)]

    def take(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Next batch indices and, with flip on, a boolean mask of which images to mirror."""
        self.ensure_epoch()
        idx = self.permutation[self.position : self.position + self.step_size]
        self.position += len(idx)
        mask = torch.rand(len(idx), generator=self.generator) < 0.5 if self.flip else None
        return self._mine(idx), (None if mask is None else self._mine(mask))

    def state_dict(self) -> dict:
        return {
            "generator": self.generator.get_state(),
            "epoch": self.epoch,
            "position": self.position,
            "permutation": self.permutation.clone(),
            "num_images": self.num_images,
            "batch_size": self.batch_size,
            "world_size": self.world,
        }

    def load_state_dict(self, state: dict) -> None:
        saved_world = int(state.get("world_size", 1))  # checkpoints from before distributed runs: one process
        if saved_world != self.world:
            raise ValueError(
                f"cannot resume: the checkpoint was trained by {saved_world} process(es) and this resume runs "
                f"{self.world}; resume it with the same number "
                + ("(torchrun --nproc-per-node " + str(saved_world) + " -m ganlab resume RUN)" if saved_world > 1
                   else "(python -m ganlab resume RUN, or Resume on the Runs page)")
            )
        for key in ("num_images", "batch_size"):
            if int(state[key]) != getattr(self, key):
                raise ValueError(
                    f"cannot resume: the saved sampler had {key}={int(state[key])}, this one has {getattr(self, key)}"
                )
        self.generator.set_state(state["generator"])
        self.epoch = int(state["epoch"])
        self.position = int(state["position"])
        self.permutation = state["permutation"].clone().to(torch.int64)


def to_model_range(batch: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float in [-1, 1], mirrored where mask is True (on batch's device)."""
    x = batch.float().mul_(2.0 / 255.0).sub_(1.0)
    if mask is not None:
        mask = mask.to(x.device).view(-1, 1, 1, 1)
        x = torch.where(mask, x.flip(-1), x)
    return x


class OrderedSampler:
    """What both samplers report about their position (they share an EpochOrder in self._order)."""

    dataset: object
    _order: EpochOrder

    @property
    def epoch(self) -> int:
        """Index of the epoch the latest batch came from (0 during the first pass)."""
        return self._order.epoch

    @property
    def batches_per_epoch(self) -> int:
        return self._order.batches_per_epoch

    @property
    def num_images(self) -> int:
        return len(self.dataset)


class BatchSampler(OrderedSampler):
    """Batches by indexing one uint8 tensor; on a GPU the tensor is moved there once."""

    def __init__(
        self,
        dataset: ImageDataset,
        batch_size: int,
        device: torch.device | str,
        *,
        flip: bool = False,
        seed: int = 0,
        drop_last: bool = True,
        shard: tuple[int, int] = (0, 1),
    ):
        self.dataset = dataset
        self.device = torch.device(device)
        self._order = EpochOrder(len(dataset), batch_size, seed=seed, flip=flip, drop_last=drop_last, name=dataset.name,
                                 shard=shard)
        images, labels = dataset.images, dataset.labels
        if self.device.type != "cpu":
            try:  # uint8 on the device: 4x smaller than floats, and indexing happens there
                images = images.to(self.device)
                labels = labels.to(self.device) if labels is not None else None
            except (RuntimeError, torch.OutOfMemoryError):
                images = images.pin_memory()  # too big for the device: copy each batch over instead
        self._images, self._labels = images, labels

    def next(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(images float (B, C, H, W) in [-1, 1], labels int64 (B,) or None), both on the device."""
        idx, mask = self._order.take()
        batch = self._images[idx.to(self._images.device)].to(self.device, non_blocking=True)
        labels = None
        if self._labels is not None:
            labels = self._labels[idx.to(self._labels.device)].to(self.device, non_blocking=True)
        return to_model_range(batch, mask), labels

    def state_dict(self) -> dict:
        """Generator state, epoch, position and permutation: a restored sampler repeats the future."""
        return self._order.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self._order.load_state_dict(state)
