"""The Prometheus endpoint: a real /metrics page on 127.0.0.1, scraped and parsed as Prometheus
does, agrees with the training's History after every epoch."""

import numpy as np
import pytest

from course_lib import metrics_endpoint, nn, optim
from course_lib.history import History
from course_lib.models.mlp import MLP
from course_lib.train import fit


def test_a_real_training_is_scraped_epoch_by_epoch():
    g = np.random.default_rng(0)
    x = g.standard_normal((90, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = MLP([5, 7, 2], rng=1)
    opt = optim.SGD(model.params, model.grads, lr=0.1)
    history = History()
    with metrics_endpoint.TrainingMetrics() as metrics:
        assert metrics.url.startswith("http://127.0.0.1:")
        for epoch in range(3):
            h = fit(
                model,
                nn.SoftmaxCrossEntropy(),
                opt,
                x,
                y,
                epochs=1,
                batch_size=32,
                rng=epoch,
                progress=False,
            )
            history.steps += h.steps
            history.epochs.append({**h.epochs[-1], "epoch": epoch + 1})
            metrics.publish(history)
            seen = metrics_endpoint.scrape(metrics.url)
            assert seen["course_training_steps_total"] == 3 * (epoch + 1)  # 90 / 32: 3 steps
            assert seen["course_training_loss"] == pytest.approx(history.steps[-1])
            assert seen["course_epoch_metric{name=epoch}"] == epoch + 1
            assert seen["course_epoch_metric{name=loss}"] == pytest.approx(h.epochs[-1]["loss"])


def test_two_endpoints_keep_their_numbers_apart_and_close():
    a, b = metrics_endpoint.TrainingMetrics(), metrics_endpoint.TrainingMetrics()
    a.publish(History(steps=[1.0, 0.5])), b.publish(History(steps=[2.0]))
    assert metrics_endpoint.scrape(a.url)["course_training_steps_total"] == 2
    assert metrics_endpoint.scrape(b.url)["course_training_steps_total"] == 1
    url = a.url
    a.close(), b.close()
    with pytest.raises(OSError):
        metrics_endpoint.scrape(url, timeout_s=2)


def test_a_shorter_history_is_refused():
    with metrics_endpoint.TrainingMetrics() as metrics:
        metrics.publish(History(steps=[1.0, 0.9, 0.8]))
        with pytest.raises(ValueError, match="new TrainingMetrics"):
            metrics.publish(History(steps=[1.0]))
