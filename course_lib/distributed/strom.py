"""Strom (2015): send only the gradient elements above a threshold, as an index and a sign.

Each worker adds its new gradient to the residual it kept from earlier steps, sends +-tau for
every element whose magnitude reached tau, and keeps the rest for later:

    r = residual + g                       (what this worker owes the others)
    sent = tau * sign(r) * [|r| >= tau]    (encoded as one int32 per element: (index + 1) * sign)
    residual = r - sent                    (nothing is lost, only delayed)

A message costs 4 bytes per element sent instead of 4 bytes per parameter for a dense float32
all-reduce.  Every worker decodes everyone's messages and applies the mean: the update is the
same on all workers, so the replicas stay identical.

    state = StromState(tau=0.01)
    ddp_model.register_comm_hook(state, strom_hook)     # DDP calls it once per gradient bucket
    state.bytes_sent                                    # this worker's encoded bytes so far
"""

import torch
import torch.distributed as dist


def quantise(r: torch.Tensor, tau: float) -> torch.Tensor:
    """tau * sign(r) where |r| >= tau, else 0."""
    return torch.where(r.abs() >= tau, torch.sign(r) * tau, torch.zeros_like(r))


def encode(sent: torch.Tensor) -> torch.Tensor:
    """The nonzero elements of a quantised vector as int32 (index + 1) * sign: 31 bits of index
    and one of sign, Strom's 32-bit code.  (+1 so that index 0 keeps its sign.)"""
    if sent.numel() >= 2**31 - 1:
        raise ValueError(f"a vector of {sent.numel():,} elements needs more than 31 index bits")
    index = torch.nonzero(sent, as_tuple=True)[0]
    return ((index + 1) * torch.sign(sent[index]).long()).to(torch.int32)


def decode(message: torch.Tensor, tau: float, n: int, dtype=torch.float32) -> torch.Tensor:
    """A length-n vector with +-tau at the message's indices (zeros in ``message`` are padding)."""
    message = message[message != 0].long()
    out = torch.zeros(n, dtype=dtype, device=message.device)
    out[message.abs() - 1] = tau * torch.sign(message).to(dtype)
    return out


class StromState:
    """Per-parameter residuals (kept by parameter, so DDP may regroup its buckets), the
    threshold, and counts of what was sent."""

    def __init__(self, tau: float):
        if tau <= 0:
            raise ValueError(f"tau must be > 0, got {tau}")
        self.tau, self.residual = float(tau), {}
        self.bytes_sent = self.elements_sent = self.elements_total = 0

    def step(self, params, grads) -> torch.Tensor:
        """Add the gradients to the residuals, take out what reaches tau, and return it (flat)."""
        r = torch.cat(
            [
                (self.residual[p] if p in self.residual else torch.zeros_like(g)).flatten()
                + g.flatten()
                for p, g in zip(params, grads)
            ]
        )
        sent = quantise(r, self.tau)
        left, start = r - sent, 0
        for p, g in zip(params, grads):
            self.residual[p] = left[start : start + g.numel()].view_as(g).clone()
            start += g.numel()
        return sent


def exchange(message: torch.Tensor, group=None) -> list[torch.Tensor]:
    """Every worker's message: the lengths are gathered first, then the messages padded to the
    longest (gloo's all_gather needs one size)."""
    world = dist.get_world_size(group)
    length = torch.tensor([message.numel()], dtype=torch.int64, device=message.device)
    lengths = [torch.zeros_like(length) for _ in range(world)]
    dist.all_gather(lengths, length, group=group)
    longest = int(max(n.item() for n in lengths))
    padded = torch.zeros(longest, dtype=torch.int32, device=message.device)
    padded[: message.numel()] = message
    gathered = [torch.zeros_like(padded) for _ in range(world)]
    dist.all_gather(gathered, padded, group=group)
    return gathered


def strom_hook(state: StromState, bucket) -> torch.futures.Future[torch.Tensor]:
    """A DDP communication hook: quantise this worker's bucket, exchange the encoded messages,
    and return the mean of everyone's decoded updates as the bucket's gradient."""
    buffer = bucket.buffer()
    sent = state.step(bucket.parameters(), bucket.gradients())
    message = encode(sent)
    state.bytes_sent += 4 * message.numel() + 8  # the elements, and the length sent first
    state.elements_sent += message.numel()
    state.elements_total += buffer.numel()
    update = sum(decode(m, state.tau, buffer.numel(), buffer.dtype) for m in exchange(message))
    future = torch.futures.Future()
    future.set_result(update / dist.get_world_size())
    return future
