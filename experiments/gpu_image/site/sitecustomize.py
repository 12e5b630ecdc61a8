"""Switches on experiments.gpu_image's import guard in every process that has this on its path."""

import os

if os.environ.get("COURSE_GPU_IMAGE_GUARD") == "1":
    from experiments.gpu_image import install

    install()
