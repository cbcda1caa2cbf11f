"""Data-parallel training across processes, launched by torchrun (gloo on CPU, NCCL on GPU).

Global-batch semantics: `train.batch_size` is the batch of the whole job. Every rank draws the
randomness of the global batch from the same seeded generators (so all ranks keep identical
random streams, and one checkpoint serves them all) and keeps its own slice; gradients are
averaged by DistributedDataParallel. With equal slices, the average of the ranks' gradients of
their mean losses is the gradient of the global mean loss: N processes follow the same maths as
one process with the same global batch.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from gankit.errors import BadInput

_device = torch.device("cpu")  # where collective tensors live (NCCL needs them on the GPU)


def active() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if active() else 0


def world() -> int:
    return dist.get_world_size() if active() else 1


def setup(device: torch.device) -> torch.device:
    """Join the torchrun job when launched by one (WORLD_SIZE > 1); returns this rank's device."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or active():
        return device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    global _device
    _device = device
    return device


def shutdown() -> None:
    if active():
        dist.barrier()
        dist.destroy_process_group()


def shard(t: Tensor) -> Tensor:
    """This rank's contiguous slice of a global-batch tensor."""
    if world() == 1:
        return t
    n = len(t) // world()
    return t[rank() * n : (rank() + 1) * n]


def draw(kind: str, shape: tuple[int, ...], g: torch.Generator, device: torch.device) -> Tensor:
    """torch.rand / randn of a local batch, drawn as the global batch and sliced (see above)."""
    full = (shape[0] * world(), *shape[1:])
    fn = torch.randn if kind == "normal" else torch.rand
    return shard(fn(full, generator=g, device=device))


def wrap(net: nn.Module, sync_batchnorm: bool = False) -> nn.Module:
    """DDP around one network (G and D separately: a joint module would need
    find_unused_parameters). broadcast_buffers=False, since D runs twice (real, fake) before one
    backward and a buffer broadcast between would modify tensors autograd still needs."""
    if not active() or not any(p.requires_grad for p in net.parameters()):
        return net
    if sync_batchnorm:
        if net_device(net).type != "cuda":
            raise BadInput(
                "train.sync_batchnorm needs GPUs (torch's SyncBatchNorm has no CPU "
                "kernel): set it to false, or use a norm-free or layer-norm D on CPU."
            )
        net = nn.SyncBatchNorm.convert_sync_batchnorm(net)
    device_ids = [net_device(net).index] if net_device(net).type == "cuda" else None
    return DistributedDataParallel(net, device_ids=device_ids, broadcast_buffers=False)


def net_device(net: nn.Module) -> torch.device:
    return next(net.parameters()).device


@contextlib.contextmanager
def no_sync(net: nn.Module) -> Iterator[None]:
    """Use a DDP-wrapped D inside G's step without D's gradient reduction (D is not updated)."""
    if isinstance(net, DistributedDataParallel):
        with net.no_sync():
            yield
    else:
        yield


def mean_over_ranks(stats: dict[str, Tensor]) -> dict[str, Tensor]:
    """The average of each scalar over ranks (what a single process would have logged)."""
    if not active():
        return stats
    keys = sorted(stats)
    values = torch.stack([stats[k].detach().float().reshape(()) for k in keys])
    dist.all_reduce(values)
    return dict(zip(keys, values / world()))


def largest(value: float) -> float:
    """The largest value over ranks, the same on every rank (e.g. of their clocks: the budget is
    spent on all ranks once it is spent on any)."""
    if not active():
        return value
    t = torch.tensor([value], device=_device, dtype=torch.float64)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return float(t.item())


def barrier() -> None:
    if active():
        dist.barrier()
