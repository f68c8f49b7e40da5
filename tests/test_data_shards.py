"""Sharded epoch orders: the processes of one run split every step, never share an image in an epoch, keep one
state between them, and a checkpoint of another number of processes is refused clearly."""

from __future__ import annotations

import pytest
import torch

from ganlab.data import make_sampler
from ganlab.data.sampler import EpochOrder
from tests.helpers import blobs_dataset


def _orders(world: int, n: int = 50, batch: int = 4, flip: bool = True) -> list[EpochOrder]:
    return [EpochOrder(n, batch, seed=3, flip=flip, drop_last=True, name="x", shard=(r, world)) for r in range(world)]


def test_shards_of_a_step_are_the_unsharded_step_split_in_rank_order() -> None:
    whole = EpochOrder(50, 12, seed=3, flip=True, drop_last=True, name="x")
    parts = _orders(3)
    for _ in range(10):  # several epochs (4 steps of 12 per epoch of 50)
        idx, mask = whole.take()
        taken = [order.take() for order in parts]
        assert torch.equal(torch.cat([i for i, _ in taken]), idx)
        assert torch.equal(torch.cat([m for _, m in taken]), mask)
    assert all(order.epoch == whole.epoch for order in parts)


def test_processes_never_see_the_same_image_within_an_epoch() -> None:
    parts = _orders(2, n=40, batch=5, flip=False)
    seen: list[list[int]] = [[], []]
    for _ in range(parts[0].batches_per_epoch):
        for rank, order in enumerate(parts):
            seen[rank] += order.take()[0].tolist()
    assert not set(seen[0]) & set(seen[1])
    assert len(set(seen[0] + seen[1])) == 40


def test_every_process_keeps_the_same_state_so_one_checkpoint_resumes_all() -> None:
    parts = _orders(2)
    for _ in range(7):
        for order in parts:
            order.take()
    a, b = (order.state_dict() for order in parts)
    assert a["position"] == b["position"] and a["epoch"] == b["epoch"] and a["world_size"] == 2
    assert torch.equal(a["generator"], b["generator"]) and torch.equal(a["permutation"], b["permutation"])
    restored = EpochOrder(50, 4, seed=99, flip=True, drop_last=True, name="x", shard=(1, 2))
    restored.load_state_dict(a)  # rank 1 restored from rank 0's saved state continues as rank 1 would have
    expected = parts[1].take()
    got = restored.take()
    assert torch.equal(got[0], expected[0]) and torch.equal(got[1], expected[1])


def test_streaming_loader_batches_are_sharded_like_taken_ones() -> None:
    order = EpochOrder(50, 4, seed=3, flip=False, drop_last=True, name="x", shard=(1, 2))
    twin = EpochOrder(50, 4, seed=3, flip=False, drop_last=True, name="x", shard=(1, 2))
    batches = order.remaining()
    assert len(batches) == twin.batches_per_epoch == 6
    assert all(torch.equal(batch, twin.take()[0]) for batch in batches)


@pytest.mark.parametrize(("saved", "now"), [(2, 1), (1, 2), (4, 2)])
def test_a_checkpoint_of_another_number_of_processes_is_refused_naming_both(saved: int, now: int) -> None:
    state = EpochOrder(50, 4, seed=0, flip=False, drop_last=True, name="x", shard=(0, saved)).state_dict()
    order = EpochOrder(50, 4, seed=0, flip=False, drop_last=True, name="x", shard=(0, now))
    with pytest.raises(ValueError, match=f"trained by {saved} process.*this resume runs {now}"):
        order.load_state_dict(state)


def test_checkpoints_from_before_sharding_load_as_one_process() -> None:
    state = EpochOrder(50, 4, seed=0, flip=False, drop_last=True, name="x").state_dict()
    del state["world_size"]
    EpochOrder(50, 4, seed=0, flip=False, drop_last=True, name="x").load_state_dict(state)


def test_a_step_larger_than_the_dataset_names_the_processes() -> None:
    with pytest.raises(ValueError, match=r"batch_size=64 \(2 processes x 32\).*at most 25"):
        EpochOrder(50, 32, seed=0, flip=False, drop_last=True, name="x", shard=(0, 2))
    with pytest.raises(ValueError, match="rank"):
        EpochOrder(50, 4, seed=0, flip=False, drop_last=True, name="x", shard=(2, 2))


def test_sharded_sampler_gives_each_process_its_own_images() -> None:
    data = blobs_dataset(n=32, size=8)
    samplers = [make_sampler(data, 4, "cpu", seed=1, shard=(r, 2)) for r in range(2)]
    first, second = (s.next()[0] for s in samplers)
    assert first.shape == second.shape == (4, 1, 8, 8)
    assert not torch.equal(first, second)
