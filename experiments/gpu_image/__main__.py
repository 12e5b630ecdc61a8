import sys

from experiments.gpu_image import main

sys.exit(main(sys.argv[1:]))
