"""Data-parallel training on torch.distributed (lesson 13).

strom    Strom's (2015) threshold-quantised gradients: encoding, residuals, a DDP comm hook
worker   the training script torchrun starts once per worker (all-reduce, averaging, Strom)
launch   start torchrun from Python with a bounded time, and read the workers' results
ring     ring and tree all-reduce simulated over N workers; their alpha-beta cost models
collectives  the ring by hand on torch.distributed, timed beside gloo; throughput by workers
async_sgd    asynchronous SGD with a parameter server, simulated: gradients k steps stale
"""
