"""torch twins of the course's NumPy models, for the framework and GPU path.

    from course_lib.twins.layers import to_torch
    twin = to_torch(model)         # a torch.nn.Sequential with the same layers and weights

A twin computes the same function as its NumPy model, layer for layer, and gets its gradients
from autograd instead of the hand-written backward passes, so comparing the two checks both.
(The package is not called ``torch`` so that ``course_lib.torch`` is never mistaken for torch.)
"""
