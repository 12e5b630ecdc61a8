"""course_lib: the teaching library behind the course's notebooks.

From-scratch layers on NumPy (and CuPy through the same code), torch counterparts for the GPU
path, datasets, and the helpers that record each notebook's reproduced results.
"""

__version__ = "0.1.0"
