"""Models built from ``course_lib.nn`` layers, one module per model.

from course_lib.models.mlp import MLP
"""
