"""torch counterparts of the course's models, for the GPU path (``from course_lib.torch.mlp import TorchMLP``).

Each mirrors its NumPy model layer for layer, can copy that model's weights exactly, and can be
initialised from the same seed to the same weights.
"""
