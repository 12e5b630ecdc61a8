"""Small figure helpers shared by the lessons.

* :func:`decision_boundary` -- a 2-D classifier's regions, its boundary and the labelled points.
* :func:`learning_curves` -- one or more curves (loss, error, accuracy) against epochs or steps.
* :func:`histogram_grid` -- one histogram per named array (weights or activations per layer).
* :func:`image_grid` -- rows of small images (digits, reconstructions, filters), a label per row.
* :func:`computation_graph` -- a small computational graph, forward values and backward gradients.
* :func:`code_map` -- 2-D codes (a map of documents, digits, films), one colour per label.
* :func:`cuda_tiles` -- how a CUDA grid of thread blocks covers C = A B, tile by tile.
* :func:`kernel_rates` -- hand-written GPU kernels against the library (bench_kernels' rows).
* :func:`claims_overview` -- every claim's reproduced / published ratio, by lesson (the report's).
* :func:`timeline` -- milestones on a time axis with shaded periods (lesson 00's history).

Each returns the matplotlib objects it drew on, so a notebook can add titles or save the figure
with ``repro.save_figure``.  Arrays may be NumPy or CuPy (copied to the host).  The charts of data
live in :mod:`course_lib.plot.charts`, the explanatory drawings in :mod:`course_lib.plot.diagrams`,
the report's overview of the claims in :mod:`course_lib.plot.claims`.
"""

from course_lib.plot.charts import (
    code_map,
    decision_boundary,
    histogram_grid,
    image_grid,
    kernel_rates,
    learning_curves,
    plt_colours,
)
from course_lib.plot.claims import claims_overview, status_colour
from course_lib.plot.diagrams import computation_graph, cuda_tiles
from course_lib.plot.timeline import timeline

__all__ = [
    "decision_boundary",
    "learning_curves",
    "histogram_grid",
    "image_grid",
    "computation_graph",
    "code_map",
    "cuda_tiles",
    "kernel_rates",
    "plt_colours",
    "claims_overview",
    "status_colour",
    "timeline",
]
