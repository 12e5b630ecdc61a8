"""From-scratch layers on NumPy/CuPy: each has ``forward``/``backward`` and ``params``/``grads``.

    model = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
    loss = nn.SoftmaxCrossEntropy()
    L = loss.forward(model.forward(x), labels)
    model.backward(loss.backward())          # fills model.grads in place
"""
from course_lib.nn.activations import ReLU, Sigmoid, Tanh, sigmoid
from course_lib.nn.batchnorm import BatchNorm
from course_lib.nn.dropout import Dropout
from course_lib.nn.linear import Linear
from course_lib.nn.losses import MSELoss, SigmoidCrossEntropy, SoftmaxCrossEntropy, log_softmax
from course_lib.nn.sequential import Sequential

__all__ = [
    "Linear", "Sigmoid", "Tanh", "ReLU", "Dropout", "BatchNorm", "Sequential",
    "SoftmaxCrossEntropy", "SigmoidCrossEntropy", "MSELoss", "sigmoid", "log_softmax",
]
