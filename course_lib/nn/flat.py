"""All of a model's parameters as views into one vector: for conjugate gradients, and later for
pruning and weight sharing, which all work on "the weights" as one array.

    flat = FlatParams(model)          # model.W... become views into flat.theta
    loss.forward(model.forward(x), y); model.backward(loss.backward())
    flat.grad                         # the whole gradient, in the same order as theta
    opt = optim.Adam([flat.theta], [flat.grad])

Building the view *moves* the parameters: arrays held before (an optimizer built from
``model.params``) are no longer the model's, so build optimizers after it.

Shared parameters (a weight used by two layers, e.g. a tied decoder) get one place in ``theta``;
each layer keeps its own gradient buffer, and the model's backward adds them up into ``grad``
(d L / d W is the sum of the gradients of every use of W).
"""

from __future__ import annotations

from course_lib.backend import get_array_module


class FlatParams:
    """``theta`` (every distinct parameter, concatenated) and ``grad`` (its gradient) for
    ``model``."""

    def __init__(self, model):
        slots = model.slots()
        if not slots:
            raise ValueError("the model has no parameters to flatten")
        groups: dict[int, list] = {}  # one group of (owner, name) per distinct array
        for owner, name in slots:
            groups.setdefault(id(getattr(owner, name)), []).append((owner, name))
        arrays = [getattr(*group[0]) for group in groups.values()]
        dtypes = {a.dtype for a in arrays}
        if len(dtypes) > 1:
            raise ValueError(f"all parameters must have one dtype to share a vector, got {dtypes}")
        xp, size = get_array_module(*arrays), sum(a.size for a in arrays)
        self.theta = xp.empty(size, dtype=arrays[0].dtype)
        self.grad = xp.zeros(size, dtype=arrays[0].dtype)
        self.views, self.shared, start = {}, [], 0  # views: id(view) -> (view, start, stop)
        for array, group in zip(arrays, groups.values()):
            self._bind(group, array, start, start + array.size)
            start += array.size
        model.flat = self

    def _bind(self, group, array, start, stop):
        """Copy ``array`` into theta[start:stop] and make every user of it hold the view."""
        view = self.theta[start:stop].reshape(array.shape)
        gview = self.grad[start:stop].reshape(array.shape)
        view[...] = array
        self.views[id(view)] = (view, start, stop)
        for owner, name in group:
            setattr(owner, name, view)
        if len(group) == 1:
            setattr(group[0][0], "d" + group[0][1], gview)
        else:
            self.shared.append((gview, group))

    @property
    def size(self) -> int:
        return int(self.theta.size)

    def gather(self):
        """Sum the gradient buffers of shared parameters into ``grad``; returns ``grad``."""
        for gview, group in self.shared:
            gview[...] = getattr(group[0][0], "d" + group[0][1])
            for owner, name in group[1:]:
                gview += getattr(owner, "d" + name)
        return self.grad

    def mask(self, arrays):
        """A 0/1 vector like ``theta`` with 1 where ``arrays`` (some of the parameters) live."""
        mask = get_array_module(self.theta).zeros_like(self.theta)
        for a in arrays:
            if id(a) not in self.views:
                raise ValueError(
                    f"an array of shape {a.shape} is not one of the model's parameters"
                )
            start, stop = self.views[id(a)][1:]
            mask[start:stop] = 1
        return mask
