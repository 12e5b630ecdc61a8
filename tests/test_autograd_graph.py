"""The define-and-run graph: values against NumPy, the eager Tensor and torch; symbolic gradients
against central differences and torch; second derivatives; every combination of compiler passes
giving the same numbers; what folding, CSE and fusion do to the graph; clear errors."""

import itertools
import sys
import tracemalloc

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.autograd import Tensor, cross_entropy, graph
from course_lib.autograd.graph import grad as grad_module
from course_lib.autograd.graph import kernels
from course_lib.autograd.graph.nodes import OPS, OpDef
from course_lib.gradcheck import numeric_gradient_array, rel_error


def _wrong_tanh_rule(out, g):
    return (g * (1 - out),)


# name: (function of nodes, Tensors and torch tensors; torch's own (None: the same); input
# shapes; "any" (|x| >= 0.2) or "positive")
CASES = {
    "tanh(x @ w + b), 3x5 @ 5x7 + (7,)": (
        lambda x, w, b: (x @ w + b).tanh(),
        None,
        [(3, 5), (5, 7), (7,)],
        "any",
    ),
    "batch 1: sigmoid(x @ w + b)": (
        lambda x, w, b: (x @ w + b).sigmoid(),
        None,
        [(1, 5), (5, 7), (7,)],
        "any",
    ),
    "relu, a scalar broadcast": (
        lambda x, s: (x * s - s).relu() + s / (x * x + 1.0),
        None,
        [(3, 5), ()],
        "any",
    ),
    "(3,1) and (1,4) both stretched": (
        lambda a, b: a * b - a / b + (b - a) ** 3,
        None,
        [(3, 1), (1, 4)],
        "positive",
    ),
    "exp, log, pow": (lambda a: (a**3 + a**-0.5).log() + (-a).exp(), None, [(3, 5)], "positive"),
    "sum and mean over axes": (
        lambda a: a.sum(axis=0) * a.mean(axis=1, keepdims=True) + a.mean(),
        lambda a: a.sum(0) * a.mean(1, keepdim=True) + a.mean(),
        [(3, 5)],
        "any",
    ),
    "reshape, .T": (lambda a, b: a.reshape(5, 3).T @ b, None, [(3, 5), (5, 2)], "any"),
    "a value used three times": (lambda a: a * a.tanh() + a, None, [(2, 3)], "any"),
}


def inputs_for(shapes, kind, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "positive":
        return [np.array(rng.uniform(0.5, 2.5, shape)) for shape in shapes]
    arrays = [np.array(rng.standard_normal(shape)) for shape in shapes]
    return [np.array(a + 0.2 * np.sign(a)) for a in arrays]


def placeholders(shapes, declared):
    """Declared shapes exact, or unknown (``None``: the gradients then read shapes at run time)."""
    return [graph.placeholder(f"x{k}", s if declared else None) for k, s in enumerate(shapes)]


@pytest.mark.parametrize("declared", [True, False], ids=["shapes declared", "shapes unknown"])
@pytest.mark.parametrize("name", CASES)
def test_values_and_gradients_match_eager_numeric_and_torch(name, declared):
    fn, torch_fn, shapes, kind = CASES[name]
    arrays = inputs_for(shapes, kind)
    xs = placeholders(shapes, declared)
    y = fn(*xs)
    dout = np.random.default_rng(1).standard_normal(fn(*map(Tensor, arrays)).shape)
    forward = graph.compile(y, xs)
    f = graph.compile([y, *graph.gradients(y, xs, grad_y=dout)], xs)
    value, *grads = f(*arrays)

    leaves = [Tensor(a, requires_grad=True) for a in arrays]
    eager = fn(*leaves)
    eager.backward(dout)
    torch_leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    torch_out = (torch_fn or fn)(*torch_leaves)
    torch_out.backward(torch.as_tensor(dout))
    numeric = [numeric_gradient_array(lambda: forward(*arrays), a, dout) for a in arrays]

    assert value.shape == eager.shape and rel_error(value, eager.data) < 1e-13
    assert rel_error(value, torch_out.detach()) < 1e-13
    for ours, leaf, theirs, estimate in zip(grads, leaves, torch_leaves, numeric):
        assert rel_error(ours, leaf.grad.data) < 1e-12
        assert rel_error(ours, theirs.grad) < 1e-12
        assert rel_error(ours, estimate) < 1e-7


def test_a_wrong_gradient_rule_is_caught(monkeypatch):
    monkeypatch.setitem(grad_module.RULES, "tanh", _wrong_tanh_rule)
    fn, _, shapes, kind = CASES["tanh(x @ w + b), 3x5 @ 5x7 + (7,)"]
    arrays, xs = inputs_for(shapes, kind), placeholders(shapes, True)
    y = fn(*xs).sum()
    grads = graph.compile(graph.gradients(y, xs), xs)(*arrays)
    forward = graph.compile(y, xs)
    numeric = numeric_gradient_array(lambda: forward(*arrays), arrays[1], np.ones(()))
    assert rel_error(grads[1], numeric) > 1e-2


def test_the_chain_equals_numpy_in_every_fusion_mode():
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((4, 6)), rng.standard_normal((4, 6)), rng.standard_normal(6)
    nodes = [graph.placeholder("x"), graph.placeholder("w"), graph.placeholder("b", (6,))]
    y = graph.tanh(nodes[0] * nodes[1] + nodes[2]) * 0.5 + 1
    expected = np.tanh(x * w + b) * 0.5 + 1
    for fuse in [False, "numpy", "numba"]:
        assert np.allclose(graph.compile(y, nodes, fuse=fuse)(x, w, b), expected, 0, 1e-15)
    assert np.array_equal(graph.compile(y, nodes, fuse="numpy")(x, w, b), expected)


def _mlp(activation, batch, seed=0):
    """A 7-5-3 MLP: its arrays (float64) and integer labels."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s) * 0.5 for s in [(7, 5), (5,), (5, 3), (3,)]]
    return params, rng.standard_normal((batch, 7)), rng.integers(0, 3, batch)


def _mlp_graph(activation):
    x, y = graph.placeholder("x", (None, 7)), graph.placeholder("y", (None, 3))
    params = [graph.placeholder(n, s) for n, s in zip(["w1", "b1", "w2", "b2"], _SHAPES)]
    w1, b1, w2, b2 = params
    logits = getattr(x @ w1 + b1, activation)() @ w2 + b2
    return graph.softmax_cross_entropy(logits, y), [x, y, *params], params


_SHAPES = [(7, 5), (5,), (5, 3), (3,)]


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("batch", [1, 4])
def test_mlp_loss_gradients_equal_the_eager_autograd_and_torch(activation, batch):
    arrays, x, labels = _mlp(activation, batch)
    loss, inputs, params = _mlp_graph(activation)
    f = graph.compile([loss, *graph.gradients(loss, params)], inputs)
    value, *grads = f(x, np.eye(3)[labels], *arrays)

    leaves = [Tensor(a, requires_grad=True) for a in arrays]
    w1, b1, w2, b2 = leaves
    eager = cross_entropy(getattr(Tensor(x) @ w1 + b1, activation)() @ w2 + b2, labels)
    eager.backward()
    t = [torch.tensor(a, requires_grad=True) for a in arrays]
    logits = getattr(torch, activation)(torch.as_tensor(x) @ t[0] + t[1]) @ t[2] + t[3]
    F.cross_entropy(logits, torch.as_tensor(labels)).backward()

    assert rel_error(value, eager.data) < 1e-13
    for ours, leaf, theirs in zip(grads, leaves, t):
        assert ours.shape == leaf.shape
        assert rel_error(ours, leaf.grad.data) < 1e-11 and rel_error(ours, theirs.grad) < 1e-11


def _second_derivative_case(name):
    """Graph nodes for d/dx_i sum_j r_j . (d sum(dout * fn) / dx_j), and its torch twin."""
    fn, torch_fn, shapes, kind = CASES[name]
    arrays, rng = inputs_for(shapes, kind), np.random.default_rng(3)
    xs = placeholders(shapes, True)
    y = fn(*xs)
    dout = rng.standard_normal(y.shape)
    weights = [rng.standard_normal(s) for s in shapes]
    first = graph.gradients(y, xs, grad_y=dout)
    weighted = graph.sum(first[0] * weights[0])
    for g, r in zip(first[1:], weights[1:]):
        weighted = weighted + graph.sum(g * r)
    ours = graph.compile(graph.gradients(weighted, xs), xs)(*arrays)

    leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    grads = torch.autograd.grad(
        (torch_fn or fn)(*leaves), leaves, torch.as_tensor(dout), create_graph=True
    )
    total = sum((g * torch.as_tensor(r)).sum() for g, r in zip(grads, weights))
    theirs = torch.autograd.grad(total, leaves, allow_unused=True)
    return ours, [np.zeros(a.shape) if t is None else t.numpy() for a, t in zip(arrays, theirs)]


@pytest.mark.parametrize("name", CASES)
def test_second_derivatives_match_torch(name):
    ours, theirs = _second_derivative_case(name)
    assert max(rel_error(a, b) for a, b in zip(ours, theirs)) < 1e-10


def test_hessian_vector_product_of_the_mlp_loss_against_differences_of_the_gradient():
    arrays, x, labels = _mlp("sigmoid", 4)
    loss, inputs, params = _mlp_graph("sigmoid")
    grads = graph.gradients(loss, params)
    vs = [graph.placeholder(f"v{k}", s) for k, s in enumerate(_SHAPES)]
    directional = graph.sum(grads[0] * vs[0])
    for g, v in zip(grads[1:], vs[1:]):
        directional = directional + graph.sum(g * v)
    hvp = graph.compile(graph.gradients(directional, params), inputs + vs)
    gradient = graph.compile(grads, inputs)
    v = [np.random.default_rng(4).standard_normal(s) for s in _SHAPES]
    ours = hvp(x, np.eye(3)[labels], *arrays, *v)

    eps = 1e-5
    plus = gradient(x, np.eye(3)[labels], *[a + eps * d for a, d in zip(arrays, v)])
    minus = gradient(x, np.eye(3)[labels], *[a - eps * d for a, d in zip(arrays, v)])
    for h, p, m in zip(ours, plus, minus):
        assert rel_error(h, (p - m) / (2 * eps)) < 1e-6


def test_second_derivative_of_tanh_is_its_formula():
    x = graph.placeholder("x", (13,))
    (first,) = graph.gradients(graph.tanh(x).sum(), x)
    (second,) = graph.gradients(first.sum(), x)
    points = np.linspace(-3, 3, 13)
    d1, d2 = graph.compile([first, second], [x])(points)
    t = np.tanh(points)
    assert rel_error(d1, 1 - t**2) < 1e-14 and rel_error(d2, -2 * t * (1 - t**2)) < 1e-12


def _passes_graph():
    """A loss and its gradients with a constant-only part, a repeated part, broadcasting, and
    every element-wise operation."""
    x, y = graph.placeholder("x", (None, 4)), graph.placeholder("y", (None, 3))
    w, b = graph.placeholder("w", (4, 3)), graph.placeholder("b", (3,))
    scale = (graph.constant(2.0).exp() + 1.0).log()  # constants only: folded
    z = x @ w + b
    h = (x @ w + b).tanh() * scale  # x @ w + b again: merged by CSE
    extra = graph.relu(z) ** 2 / (1.0 + graph.sigmoid(-z)) + graph.log(1.0 + z * z)
    loss = graph.softmax_cross_entropy(h, y) + 0.1 * graph.mean(extra)
    return [loss, *graph.gradients(loss, [w, b])], [x, y, w, b]


def _passes_arrays():
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((6, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    return x, np.eye(3)[rng.integers(0, 3, 6)], w, b


def test_every_combination_of_passes_gives_the_same_numbers():
    outputs, inputs = _passes_graph()
    arrays = _passes_arrays()
    reference = graph.compile(outputs, inputs, fold_constants=False, cse=False, fuse=False)
    expected = reference(*arrays)
    kernels_seen = set()
    for fold, cse, fuse in itertools.product(
        [False, True], [False, True], [False, "numpy", "numba"]
    ):
        f = graph.compile(outputs, inputs, fold_constants=fold, cse=cse, fuse=fuse)
        results = f(*arrays)
        kernels_seen.add(f.stats.kernels_per_call)
        for got, want in zip(results, expected):
            if fuse == "numba":  # its own exp and tanh: equal to the last bits or nearly
                assert np.allclose(got, want, rtol=1e-13, atol=0), (fold, cse, fuse)
            else:  # the same NumPy operations in the same order: the same bits
                assert np.array_equal(got, want), (fold, cse, fuse)
    assert len(kernels_seen) >= 4  # and the passes did change the program
    assert reference.stats.kernels_per_call == reference.stats.ops_built


def test_fusion_turns_the_chain_into_one_kernel():
    x, w, b = [
        graph.placeholder(name, shape)
        for name, shape in [("x", (3, 5)), ("w", (3, 5)), ("b", (5,))]
    ]
    y = graph.tanh(x * w + b) * 0.5 + 1
    plain = graph.compile(y, [x, w, b], fuse=False).stats
    fused = graph.compile(y, [x, w, b]).stats
    assert (plain.nodes_built, plain.ops_built, plain.kernels_per_call) == (10, 5, 5)
    assert (fused.kernels_per_call, fused.fused_groups, fused.ops_fused) == (1, 1, 5)
    assert "5 ops as built -> 5 after folding and CSE -> 1 kernels per call" in str(fused)

    # with its gradients: tanh's output is also read by the backward, so it closes a group
    f = graph.compile([y.sum(), *graph.gradients(y.sum(), [x, w, b])], [x, w, b])
    assert (f.stats.ops_built, f.stats.kernels_per_call, f.stats.fused_groups) == (14, 8, 3)


def test_the_fused_kernels_read_as_code():
    x, b = graph.placeholder("x", (3, 5)), graph.placeholder("b", (5,))
    y = graph.tanh(x * 2.0 + b) * 0.5 + 1
    numpy_f, numba_f = graph.compile(y, [x, b]), graph.compile(y, [x, b], fuse="numba")
    assert numpy_f.kernels[0].formula == "tanh(v0 * 2.0 + v1) * 0.5 + 1.0"
    assert numpy_f.source.count("out=out)") == 5 and "scratch" not in numpy_f.source
    assert "t2 = math.tanh(t1)" in numba_f.source and "1 kernels per call" in numba_f.describe()


def test_the_numpy_kernel_allocates_no_temporaries():
    x = graph.placeholder("x", (500, 200))
    y = graph.sigmoid(graph.tanh(x * 3.0 - 1.0) * x + x * x) / 4.0  # needs one scratch buffer
    array, size = np.random.default_rng(6).standard_normal((500, 200)), 500 * 200 * 8
    peaks, results = {}, {}
    for fuse in ["numpy", False]:
        f = graph.compile(y, [x], fuse=fuse)
        f(array)  # the first call makes the scratch buffer, kept for the next calls
        tracemalloc.start()
        results[fuse] = f(array)
        peaks[fuse] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert np.array_equal(results["numpy"], results[False])
    assert peaks["numpy"] < 1.2 * size <= 2 * size < peaks[False]


def test_results_are_not_overwritten_by_the_next_call():
    x = graph.placeholder("x", (2, 3))
    f = graph.compile([(x * x + 1.0).tanh(), x * 1.0], [x])
    first = f(np.ones((2, 3)))
    kept = [a.copy() for a in first]
    f(np.zeros((2, 3)))
    assert all(np.array_equal(a, b) for a, b in zip(first, kept))


def test_constant_folding_computes_a_constant_subgraph_once(monkeypatch):
    calls = []
    exp = OPS["exp"]
    monkeypatch.setitem(OPS, "exp", OpDef(lambda a: calls.append(1) or np.exp(a), exp.shape, True))
    x = graph.placeholder("x", (3,))
    c = graph.constant(2.0)
    y = x * (c.exp() * 3.0 + c).log()  # exp, mul, add, log on constants; one mul on x
    folded = graph.compile(y, [x], fuse=False)
    for _ in range(3):
        value = folded(np.arange(3.0))
    assert len(calls) == 1  # at compile time
    assert (folded.stats.nodes_built, folded.stats.ops_built) == (8, 5)
    assert (folded.stats.nodes_optimised, folded.stats.kernels_per_call) == (3, 1)
    unfolded = graph.compile(y, [x], fold_constants=False, fuse=False)
    for _ in range(3):
        assert np.array_equal(unfolded(np.arange(3.0)), value)
    assert len(calls) == 4 and unfolded.stats.kernels_per_call == 5
    assert np.allclose(value, np.arange(3.0) * np.log(3 * np.exp(2.0) + 2), rtol=1e-15)


def test_cse_merges_a_repeated_sub_expression():
    x, w = graph.placeholder("x", (2, 3)), graph.placeholder("w", (2, 3))
    y = (x * w).tanh() + (x * w).tanh() + (w * x).tanh()  # a*b and b*a are one expression
    merged = graph.compile(y, [x, w], fuse=False)
    kept = graph.compile(y, [x, w], fuse=False, cse=False)
    assert (kept.stats.ops_optimised, merged.stats.ops_optimised) == (8, 4)
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    assert np.array_equal(merged(a, b), 3 * np.tanh(a * b))
    assert np.array_equal(kept(a, b), merged(a, b))


def test_float32_stays_float32():
    x, w = graph.placeholder("x", (2, 3), "float32"), graph.placeholder("w", (3, 1), "float32")
    loss = ((2.0 * x @ w).tanh() - 1.0).mean()
    f = graph.compile([loss, *graph.gradients(loss, [x, w])], [x, w])
    results = f(np.ones((2, 3), np.float32), np.ones((3, 1), np.float32))
    assert [r.dtype for r in results] == [np.float32] * 3


def test_an_unused_input_gets_a_zero_gradient():
    x, z = graph.placeholder("x", (2,)), graph.placeholder("z", (3,))
    (gz,) = graph.gradients((x * x).sum(), [z])
    assert np.array_equal(graph.compile(gz, [x, z])(np.ones(2), np.ones(3)), np.zeros(3))


def test_bad_calls_are_clear_errors():
    x, w = graph.placeholder("x", (None, 3)), graph.placeholder("w", (3, 2))
    f = graph.compile(x @ w, [x, w])
    ok = np.ones((4, 3)), np.ones((3, 2))
    with pytest.raises(ValueError, match="missing input 'w'"):
        f(ok[0])
    with pytest.raises(ValueError, match=r"takes 2 inputs \(x, w\), got 3 arrays"):
        f(*ok, ok[1])
    with pytest.raises(ValueError, match="unknown input 'v': the inputs are x, w"):
        f(ok[0], v=ok[1])
    with pytest.raises(ValueError, match=r"'x' has shape \(4, 2\).*declared with shape"):
        f(np.ones((4, 2)), ok[1])
    with pytest.raises(TypeError, match=r"dtype int64.*astype\(np.float64\)"):
        f(np.ones((4, 3), dtype=np.int64), ok[1])
    assert f(x=ok[0], w=ok[1]).shape == (4, 2)


def test_bad_graphs_are_clear_errors(monkeypatch):
    x, w = graph.placeholder("x", (4, 3)), graph.placeholder("w", (3, 2))
    with pytest.raises(ValueError, match="depend on placeholder 'w'.*add it to inputs"):
        graph.compile(x @ w, [x])
    with pytest.raises(ValueError, match=r"shapes \(4, 3\) and \(2,\) do not broadcast"):
        x + graph.placeholder("b", (2,))
    with pytest.raises(ValueError, match="inner sizes 3 and 4 differ"):
        x @ x
    with pytest.raises(ValueError, match=r"shape \(4, 3\), not a scalar.*y.sum\(\)"):
        graph.gradients(x * 2.0, [x])
    with pytest.raises(TypeError, match="constant number"):
        x ** graph.constant(2.0)
    with pytest.raises(TypeError, match="not floating"):
        graph.placeholder("n", (2,), dtype="int64")
    monkeypatch.setattr(kernels, "_NUMBA_CACHE", {})
    monkeypatch.setitem(sys.modules, "numba", None)  # as if numba were not installed
    with pytest.raises(ImportError, match="pip install numba"):
        graph.compile((x * 2.0).tanh(), [x], fuse="numba")
