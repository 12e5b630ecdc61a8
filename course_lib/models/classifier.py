"""What every classification network offers: scores in eval mode, accuracy and error.

A model class derives from :class:`Classifier` (a Sequential of layers ending in class scores);
then ``model.predict(x)`` gives its logits in batches with dropout off, and
``model.error(x_test, y_test)`` the test error the papers report.
"""

from __future__ import annotations

from course_lib import nn
from course_lib.backend import get_array_module


class Classifier(nn.Sequential):
    """A Sequential whose output is one score per class (logits; the loss layer is kept apart)."""

    def predict(self, x, batch_size=1000):
        """Scores (logits) in eval mode, in batches; the model's train/eval mode is restored."""
        was_training = self.training
        self.eval()
        xp = get_array_module(x)
        out = xp.concatenate(
            [self.forward(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
        )
        self.train(was_training)
        return out

    def accuracy(self, x, labels, batch_size=1000):
        """Fraction of rows whose arg-max score is the label (integer labels or one-hot rows)."""
        if labels.ndim == 2:
            labels = labels.argmax(axis=1)
        return float((self.predict(x, batch_size).argmax(axis=1) == labels).mean())

    def error(self, x, labels, batch_size=1000):
        """1 - accuracy: the test error the papers report."""
        return 1.0 - self.accuracy(x, labels, batch_size)
