"""The autograd Tensor: every operation's gradient against central differences and against
torch autograd, second derivatives, lesson 02's MLP against the hand-written engine, the tape."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import nn
from course_lib.autograd import (
    Tensor,
    cross_entropy,
    functions,
    grad,
    hvp,
    log_softmax,
    nll_loss,
    no_grad,
    tape_size,
)
from course_lib.autograd import arith as arith_module
from course_lib.gradcheck import numeric_gradient_array, rel_error
from course_lib.models.mlp import MLP

ROWS, COLS = np.array([0, 2, 2, 1]), np.array([1, 1, 1, 3])  # (2, 1) is picked twice
LABELS = np.array([0, 2, 2, 1])


def log_softmax_any(x, axis=-1):
    return log_softmax(x, axis) if isinstance(x, Tensor) else torch.log_softmax(x, axis)


def composition(x, w, b):
    return ((x @ w + b).tanh() @ w.T).sigmoid().mean(axis=0).exp()


# name: (our function, torch's (None: the same one), input shapes, "any" (away from 0) or
# "positive")
CASES = {
    "add (3,1)+(1,4)": (lambda a, b: a + b, None, [(3, 1), (1, 4)], "any"),
    "add bias (5,4)+(4,)": (lambda a, b: a + b, None, [(5, 4), (4,)], "any"),
    "sub (3,5)-(3,5)": (lambda a, b: a - b, None, [(3, 5), (3, 5)], "any"),
    "sub (7,1)-(1,)": (lambda a, b: a - b, None, [(7, 1), (1,)], "any"),
    "numbers on either side": (lambda a: 2.5 * a - 1.0 + (3.0 - a) / 4.0, None, [(3, 5)], "any"),
    "neg": (lambda a: -a, None, [(7, 1)], "any"),
    "mul (1,4)*(3,1)": (lambda a, b: a * b, None, [(1, 4), (3, 1)], "any"),
    "mul batch 1": (lambda a, b: a * b, None, [(1, 4), (1, 4)], "any"),
    "div (3,5)/(5,)": (lambda a, b: a / b, None, [(3, 5), (5,)], "positive"),
    "1/a": (lambda a: 1.0 / a, None, [(7, 1)], "positive"),
    "pow 3": (lambda a: a**3, None, [(7, 1)], "any"),
    "pow -0.5": (lambda a: a**-0.5, None, [(2, 3)], "positive"),
    "matmul (3,5)@(5,2)": (lambda a, b: a @ b, None, [(3, 5), (5, 2)], "any"),
    "matmul batch 1": (lambda a, b: a @ b, None, [(1, 5), (5, 1)], "any"),
    "matmul batched": (lambda a, b: a @ b, None, [(2, 3, 4), (2, 4, 5)], "any"),
    "matmul (2,3,4)@(4,5)": (lambda a, b: a @ b, None, [(2, 3, 4), (4, 5)], "any"),
    "matmul (1,3,4)@(6,4,2)": (lambda a, b: a @ b, None, [(1, 3, 4), (6, 4, 2)], "any"),
    "exp": (lambda a: a.exp(), None, [(3, 5)], "any"),
    "log": (lambda a: a.log(), None, [(7, 1)], "positive"),
    "tanh": (lambda a: a.tanh(), None, [(1, 4)], "any"),
    "sigmoid": (lambda a: a.sigmoid(), None, [(3, 5)], "any"),
    "relu": (lambda a: a.relu(), None, [(5, 4)], "any"),
    "sum": (lambda a: a.sum(), None, [(3, 5)], "any"),
    "sum axis 0 keepdims": (
        lambda a: a.sum(axis=0, keepdims=True),
        lambda a: a.sum(0, keepdim=True),
        [(3, 5)],
        "any",
    ),
    "sum axis -1": (lambda a: a.sum(axis=-1), lambda a: a.sum(-1), [(2, 3, 4)], "any"),
    "sum axes (0,2)": (lambda a: a.sum(axis=(0, 2)), lambda a: a.sum((0, 2)), [(2, 3, 4)], "any"),
    "mean": (lambda a: a.mean(), None, [(7, 1)], "any"),
    "mean axis 1 keepdims": (
        lambda a: a.mean(axis=1, keepdims=True),
        lambda a: a.mean(1, keepdim=True),
        [(3, 5)],
        "any",
    ),
    "reshape": (lambda a: a.reshape(4, 3) * a.reshape((4, 3)), None, [(3, 4)], "any"),
    "transpose": (
        lambda a: a.transpose((1, 2, 0)),
        lambda a: a.permute(1, 2, 0),
        [(2, 3, 4)],
        "any",
    ),
    ".T": (lambda a, b: a.T @ b, None, [(3, 5), (3, 2)], "any"),
    "index by integer arrays": (
        lambda a: a[ROWS, COLS],
        lambda a: a[torch.as_tensor(ROWS), torch.as_tensor(COLS)],
        [(3, 5)],
        "any",
    ),
    "index by slices": (lambda a: a[1:, ::2], None, [(3, 5)], "any"),
    "log_softmax": (log_softmax_any, None, [(3, 5)], "any"),
    "log_softmax axis 0": (lambda a: log_softmax_any(a, 0), None, [(3, 5)], "any"),
    "nll_loss of log_softmax": (
        lambda a: nll_loss(log_softmax(a), LABELS),
        lambda a: F.cross_entropy(a, torch.as_tensor(LABELS)),
        [(4, 3)],
        "any",
    ),
    "cross_entropy": (
        lambda a: cross_entropy(a, LABELS),
        lambda a: F.cross_entropy(a, torch.as_tensor(LABELS)),
        [(4, 3)],
        "any",
    ),
    "composition": (
        composition,
        lambda x, w, b: ((x @ w + b).tanh() @ w.T).sigmoid().mean(0).exp(),
        [(6, 5), (5, 3), (3,)],
        "any",
    ),
}
FIRST_ORDER_ONLY = {"cross_entropy"}


def inputs_for(shapes, kind, seed=0):
    """Float64 inputs: |x| >= 0.2 (no relu kink, no division by ~0), or x in [0.5, 2.5)."""
    rng = np.random.default_rng(seed)
    if kind == "positive":
        return [rng.uniform(0.5, 2.5, shape) for shape in shapes]
    arrays = [rng.standard_normal(shape) for shape in shapes]
    return [a + 0.2 * np.sign(a) for a in arrays]


def gradient_errors(fn, torch_fn, arrays):
    """Our gradients of sum(dout * fn(inputs)) against central differences and torch."""
    leaves = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(dout)
    ours = [leaf.grad.data for leaf in leaves]
    numeric = [
        numeric_gradient_array(lambda: fn(*map(Tensor, arrays)).data, a, dout) for a in arrays
    ]
    torch_leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    torch_out = (torch_fn or fn)(*torch_leaves)
    torch_out.backward(torch.as_tensor(dout))
    return {
        "value": rel_error(out.data, torch_out.detach()),
        "numeric": max(rel_error(g, n) for g, n in zip(ours, numeric)),
        "torch": max(rel_error(g, t.grad) for g, t in zip(ours, torch_leaves)),
    }


@pytest.mark.parametrize("name", CASES)
def test_gradient_matches_central_differences_and_torch(name):
    fn, torch_fn, shapes, kind = CASES[name]
    errors = gradient_errors(fn, torch_fn, inputs_for(shapes, kind))
    assert errors["value"] < 1e-12 and errors["torch"] < 1e-10, errors
    assert errors["numeric"] < 1e-7, errors


@pytest.mark.parametrize(
    "wrong_rule",
    [
        (functions, "_tanh_backward", lambda out, g: (g * (1 - out),)),
        (arith_module, "_mul_backward", lambda out, g: (g * out._parents[0], g)),
    ],
)
def test_a_wrong_backward_rule_is_caught(monkeypatch, wrong_rule):
    module, name, rule = wrong_rule
    monkeypatch.setattr(module, name, rule)
    fn = {"_tanh_backward": lambda a, b: a.tanh() * b, "_mul_backward": lambda a, b: a * b}[name]
    errors = gradient_errors(fn, None, inputs_for([(3, 4), (3, 4)], "any"))
    assert errors["numeric"] > 1e-2 and errors["torch"] > 1e-2


def second_derivatives(fn, arrays, module):
    """d/dinputs of sum_i r_i . (d sum(dout * fn) / d input_i), by double backward."""
    rng = np.random.default_rng(2)
    if module is torch:
        leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
        out = fn(*leaves)
        dout = torch.as_tensor(rng.standard_normal(tuple(out.shape)))
        grads = torch.autograd.grad(out, leaves, dout, create_graph=True)
    else:
        leaves = [Tensor(a, requires_grad=True) for a in arrays]
        out = fn(*leaves)
        dout = rng.standard_normal(out.shape)
        grads = grad(out, leaves, dout, create_graph=True)
    weighted = sum((g * module.as_tensor(rng.standard_normal(g.shape))).sum() for g in grads)
    if not weighted.requires_grad:  # the gradient is constant (add, reshape): zero Hessian
        return [np.zeros(a.shape) for a in arrays]
    if module is torch:
        second = torch.autograd.grad(weighted, leaves, allow_unused=True)
        return [np.zeros(a.shape) if s is None else s.numpy() for a, s in zip(arrays, second)]
    return [s.data for s in grad(weighted, leaves)]


class _Ours:
    """Our side of ``second_derivatives``: the one torch function it calls, ``as_tensor``."""

    as_tensor = staticmethod(Tensor)


@pytest.mark.parametrize("name", [n for n in CASES if n not in FIRST_ORDER_ONLY])
def test_second_derivatives_match_torch(name):
    fn, torch_fn, shapes, kind = CASES[name]
    arrays = inputs_for(shapes, kind)
    ours = second_derivatives(fn, arrays, _Ours)
    theirs = second_derivatives(torch_fn or fn, arrays, torch)
    assert max(rel_error(a, b) for a, b in zip(ours, theirs)) < 1e-10


def test_dtypes_float64_by_default_float32_kept():
    assert Tensor([1, 2]).dtype == np.float64 and Tensor(np.arange(3)).dtype == np.float64
    x = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    w = Tensor(np.ones((3, 1), dtype=np.float32), requires_grad=True)
    loss = ((2.0 * x @ w).tanh() - 1.0).mean()
    loss.backward()
    assert loss.dtype == x.grad.dtype == w.grad.dtype == np.float32


def test_a_value_used_twice_gets_the_sum_of_its_gradients():
    x = Tensor(np.array([[-1.5, 0.5, 2.0]]), requires_grad=True)
    (x * x + x).sum().backward()
    assert np.array_equal(x.grad.data, 2 * x.data + 1)
    (x * 3.0).sum().backward()  # a second backward adds to .grad, as in torch
    assert np.array_equal(x.grad.data, 2 * x.data + 4)


def test_a_chain_of_5000_operations_needs_no_recursion():
    x = Tensor(1.0001, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * x  # y = x^5001
    (dy,) = grad(y, x, create_graph=True)  # the recorded backward is 10,000 operations deep
    (d2y,) = grad(dy, x)
    assert dy.item() == pytest.approx(5001 * 1.0001**5000, rel=1e-9)
    assert d2y.item() == pytest.approx(5001 * 5000 * 1.0001**4999, rel=1e-9)


def _mlp_and_batch(activation, batch):
    """Lesson 02's MLP (7-5-3 here) in float64 with random biases, a batch and its labels."""
    model = MLP([7, 5, 3], activation=activation, rng=0, dtype="float64")
    rng = np.random.default_rng(1)
    for layer in model.layers:
        if isinstance(layer, nn.Linear):
            layer.b[...] = 0.1 * rng.standard_normal(layer.b.shape)
    return model, rng.standard_normal((batch, 7)), rng.integers(0, 3, batch)


def _mlp_loss(params, x, labels, activation, loss):
    """The same network on Tensors: act(x W1 + b1) W2 + b2, then the loss."""
    w1, b1, w2, b2 = params
    logits = getattr(x @ w1 + b1, activation)() @ w2 + b2
    if loss == "fused":
        return cross_entropy(logits, labels)
    return nll_loss(log_softmax(logits), labels)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("loss", ["fused", "composed"])
@pytest.mark.parametrize("batch", [1, 4])
def test_mlp_gradients_equal_the_hand_written_engine_and_torch(activation, loss, batch):
    model, x, labels = _mlp_and_batch(activation, batch)
    hand_loss = nn.SoftmaxCrossEntropy()
    expected = hand_loss.forward(model.forward(x), labels)
    model.backward(hand_loss.backward())

    params = [Tensor(p.copy(), requires_grad=True) for p in model.params]
    value = _mlp_loss(params, Tensor(x), labels, activation, loss)
    value.backward()

    torch_params = [torch.tensor(p, requires_grad=True) for p in model.params]
    w1, b1, w2, b2 = torch_params
    logits = getattr(torch, activation)(torch.as_tensor(x) @ w1 + b1) @ w2 + b2
    F.cross_entropy(logits, torch.as_tensor(labels)).backward()

    assert rel_error(value.data, expected) < 1e-12
    for ours, hand, theirs in zip(params, model.grads, torch_params):
        assert rel_error(ours.grad.data, hand) < 1e-10
        assert rel_error(ours.grad.data, theirs.grad) < 1e-10


def _bumpy(x, w):
    """A scalar function of x (1, 5) with a full Hessian; works on ours and torch's tensors."""
    return ((x @ w).tanh() ** 2).sum() + x.exp().mean() + (x * x * x).sum()


def test_hessian_vector_product_against_differences_of_the_gradient_and_torch():
    rng = np.random.default_rng(3)
    x, v, w = rng.standard_normal((1, 5)), rng.standard_normal((1, 5)), rng.standard_normal((5, 3))
    ours = hvp(lambda t: _bumpy(t, Tensor(w)), x, v).data

    def gradient_at(point):
        leaf = Tensor(point, requires_grad=True)
        return grad(_bumpy(leaf, Tensor(w)), leaf)[0].data

    eps = 1e-5
    differences = (gradient_at(x + eps * v) - gradient_at(x - eps * v)) / (2 * eps)
    wt = torch.as_tensor(w)
    _, theirs = torch.autograd.functional.hvp(
        lambda t: _bumpy(t, wt), torch.as_tensor(x), torch.as_tensor(v)
    )
    assert rel_error(ours, differences) < 1e-7
    assert rel_error(ours, theirs) < 1e-10


def test_hessian_vector_product_of_the_mlp_loss_in_the_first_weights():
    model, x, labels = _mlp_and_batch("sigmoid", 4)
    w1, b1, w2, b2 = model.params
    v = np.random.default_rng(4).standard_normal(w1.shape)
    consts = [Tensor(p) for p in (b1, w2, b2)]
    ours = hvp(lambda w: _mlp_loss([w, *consts], Tensor(x), labels, "sigmoid", "composed"), w1, v)

    def torch_loss(w):
        logits = torch.sigmoid(torch.as_tensor(x) @ w + torch.as_tensor(b1)) @ torch.as_tensor(w2)
        return F.cross_entropy(logits + torch.as_tensor(b2), torch.as_tensor(labels))

    _, theirs = torch.autograd.functional.hvp(torch_loss, torch.as_tensor(w1), torch.as_tensor(v))
    assert rel_error(ours.data, theirs) < 1e-10


def test_hvp_of_a_linear_function_is_zero():
    assert np.array_equal(hvp(lambda t: (3.0 * t).sum(), np.ones(4), np.ones(4)).data, np.zeros(4))


def test_second_derivative_of_tanh_is_its_formula():
    x = Tensor(np.linspace(-3, 3, 13), requires_grad=True)
    (first,) = grad(x.tanh().sum(), x, create_graph=True)
    (second,) = grad(first.sum(), x)
    t = np.tanh(x.data)
    assert rel_error(first.data, 1 - t**2) < 1e-14
    assert rel_error(second.data, -2 * t * (1 - t**2)) < 1e-12
    assert x.grad is None  # grad() returns gradients; it leaves .grad alone


def test_backward_with_create_graph_gives_a_differentiable_grad():
    x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    (x**3).sum().backward(create_graph=True)  # x.grad = 3 x^2, with a tape
    first = x.grad
    x.grad = None
    first.sum().backward()
    assert np.allclose(first.data, 3 * x.data**2) and np.allclose(x.grad.data, 6 * x.data)


def test_backward_on_a_non_scalar_without_grad_is_refused():
    y = Tensor(np.ones((3, 4)), requires_grad=True) * 2.0
    with pytest.raises(ValueError, match=r"shape \(3, 4\) needs grad="):
        y.backward()
    with pytest.raises(ValueError, match=r"grad of shape \(4,\)"):
        y.backward(np.ones(4))
    with pytest.raises(RuntimeError, match="does not require a gradient"):
        Tensor(np.ones(2)).sum().backward()


@pytest.mark.parametrize(
    "op, shapes",
    [
        (lambda a, b: a + b, "(3, 4) and (5,)"),
        (lambda a, b: a * b, "(3, 4) and (5,)"),
        (lambda a, b: a / b, "(3, 4) and (5,)"),
        (lambda a, b: a @ b.reshape(5, 1), "(3, 4) @ (5, 1)"),
    ],
)
def test_mismatched_shapes_name_both(op, shapes):
    with pytest.raises(ValueError, match=shapes.replace("(", r"\(").replace(")", r"\)")):
        op(Tensor(np.ones((3, 4)), requires_grad=True), Tensor(np.ones(5)))


def test_bad_arguments_are_clear_errors():
    x = Tensor(np.ones((4, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"labels of shape \(3,\) for scores of shape \(4, 3\)"):
        cross_entropy(x, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="integers"):
        nll_loss(x, np.zeros(4))
    with pytest.raises(ValueError, match="0..2"):
        cross_entropy(x, np.array([0, 1, 2, 3]))
    with pytest.raises(TypeError, match="constant"):
        x ** Tensor(2.0)
    with pytest.raises(ValueError, match="2 or more axes"):
        x @ Tensor(np.ones(3))


def test_create_graph_through_the_fused_cross_entropy_is_refused():
    logits = Tensor(np.zeros((4, 3)), requires_grad=True)
    with pytest.raises(NotImplementedError, match="through cross_entropy"):
        grad(cross_entropy(logits.tanh(), LABELS), logits, create_graph=True)
    with pytest.raises(NotImplementedError, match="nll_loss"):
        cross_entropy(logits, LABELS).backward(create_graph=True)
    assert logits.grad is None  # refused before any gradient was written


def test_no_grad_records_nothing_and_restores_recording():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    with no_grad():
        y = (x * 2.0).tanh().sum()
    assert not y.requires_grad and y.is_leaf and tape_size(y).nodes == 0
    with pytest.raises(KeyError), no_grad():
        raise KeyError("an error inside the block")
    assert (x * 2.0).requires_grad


def test_tape_size_counts_nodes_and_the_memory_they_keep():
    x = Tensor(np.ones((4, 3)), requires_grad=True)
    y = (x * 2.0).reshape(3, 4).T.sum()
    assert tape_size(y).nodes == 4  # mul, reshape, transpose, sum
    assert tape_size(y).bytes == 12 * 8 + 8  # the product; reshape and .T are views of it
    assert tape_size(x.reshape(2, 6)).bytes == 0  # a view of a leaf costs nothing


def test_labels_sliced_from_a_dataset_do_not_count_the_whole_dataset():
    all_labels = np.arange(60_000) % 10  # 480,000 bytes, alive anyway
    logits = Tensor(np.zeros((2, 10)), requires_grad=True)
    size = tape_size(cross_entropy(logits, all_labels[:2]))
    assert size.bytes == 8 + 2 * 10 * 8 + 2 * 8  # the loss, softmax p and the two labels


def test_the_fused_cross_entropy_keeps_a_smaller_tape():
    logits = Tensor(np.random.default_rng(5).standard_normal((32, 10)), requires_grad=True)
    fused = tape_size(cross_entropy(logits, np.arange(32) % 10))
    composed = tape_size(nll_loss(log_softmax(logits), np.arange(32) % 10))
    assert fused.nodes == 1 and composed.nodes >= 8
    assert fused.bytes < composed.bytes
