"""The shared figure helpers draw what they say, headless."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402

from course_lib import plot  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_decision_boundary_draws_regions_line_and_points():
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([-1, -1, -1, 1])
    fig, ax = plot.decision_boundary(lambda p: p.sum(axis=1) - 1.5, x, y, resolution=50)
    assert fig is ax.figure
    assert len(ax.collections) >= 3  # filled regions, boundary, two scatter sets
    points = [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)]
    assert sorted(len(p) for p in points) == [1, 3]


def test_decision_boundary_without_boundary_in_view():
    x = np.array([[0.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1])
    _, ax = plot.decision_boundary(lambda p: np.ones(len(p)), x, y, threshold=0.5, resolution=20)
    assert ax.get_xlim()[0] < 0


def test_learning_curves_one_and_many():
    _, ax = plot.learning_curves([3, 2, 1])
    assert list(ax.lines[0].get_xdata()) == [1, 2, 3]
    _, ax = plot.learning_curves(
        {"a": [1, 0.5], "b": [2, 1, 0.5]}, x={"a": [10, 20], "b": None}, logy=True, ylabel="error"
    )
    assert [line.get_label() for line in ax.lines] == ["a", "b"]
    assert list(ax.lines[0].get_xdata()) == [10, 20]
    assert ax.get_yscale() == "log" and ax.get_legend() is not None


def test_histogram_grid_flat_and_rows():
    rng = np.random.default_rng(0)
    arrays = {f"layer {i}": rng.standard_normal(100) for i in range(5)}
    fig, axes = plot.histogram_grid(arrays, ncols=3)
    assert axes.shape == (2, 3)
    assert sum(a.get_visible() for a in axes.ravel()) == 5
    fig, axes = plot.histogram_grid(None, rows={"naive": arrays, "xavier": arrays}, range=(-3, 3))
    assert axes.shape == (2, 5)
    assert axes[1, 0].get_ylabel() == "xavier"


def test_image_grid_rows_and_missing_panels():
    images = np.random.default_rng(0).random((3, 16))
    fig, axes = plot.image_grid({"three": images, "one": images[:1]}, shape=(4, 4), title="t")
    assert axes.shape == (2, 3)
    assert axes[1, 0].get_visible() and not axes[1, 2].get_visible()
    assert axes[0, 0].get_ylabel() == "three"
    fig2, _ = plot.image_grid({"w": [np.arange(16.0)]}, shape=(4, 4), vrange=None)
    plt.close(fig)
    plt.close(fig2)


def test_computation_graph_boxes_arrows_and_labels():
    nodes = {
        "x": (0, 1, "x = 2", "dL/dx = 3"),
        "w": (0, 0, "w = 1.5"),
        "mul": (1, 0.5, "×"),
        "L": (2, 0.5, "L = 3", "dL/dL = 1"),
    }
    edges = [("x", "mul"), ("w", "mul", "", "dL/dw = 2"), ("mul", "L", "xw = 3", "dL/d(xw) = 1")]
    fig, ax = plot.computation_graph(nodes, edges, ops=("mul",), title="t")
    texts = [t.get_text() for t in ax.texts]
    for label in [
        "x = 2",
        "w = 1.5",
        "×",
        "L = 3",
        "dL/dx = 3",
        "dL/dL = 1",
        "dL/dw = 2",
        "xw = 3",
        "dL/d(xw) = 1",
    ]:
        assert label in texts, label
    arrows = [t for t in ax.texts if t.get_text() == "" and t.arrow_patch is not None]
    assert len(arrows) == 3
    boxes = {
        t.get_text(): t.get_bbox_patch().get_boxstyle() for t in ax.texts if t.get_bbox_patch()
    }
    assert type(boxes["×"]).__name__ == "Circle" and type(boxes["x = 2"]).__name__ == "Round"
    fig.canvas.draw()  # the arrows clip to the boxes at draw time
    assert not ax.axison and ax.get_title() == "t"
    with pytest.raises(ValueError, match="y"):
        plot.computation_graph(nodes, [("x", "y")])


def test_every_helper_a_lesson_calls_is_in_plot():
    """plot is a package (charts of data, diagrams); a lesson's plot.X must still resolve."""
    import json
    import re
    from pathlib import Path

    used = set()
    for path in (Path(__file__).parents[1] / "notebooks").glob("*.ipynb"):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                used |= set(re.findall(r"\bplot\.(\w+)\(", "".join(cell["source"])))
    assert {"computation_graph", "learning_curves", "cuda_tiles"} <= used
    assert sorted(name for name in used if not callable(getattr(plot, name, None))) == []
