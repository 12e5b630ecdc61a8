"""Training metrics on a Prometheus ``/metrics`` endpoint: how a running job is watched in
production (seed 003: DL4J's training UI beside Prometheus and Grafana).

    with metrics_endpoint.TrainingMetrics() as metrics:   # serves http://127.0.0.1:<port>/metrics
        metrics.publish(history)                          # after each epoch, or at the end
        samples = metrics_endpoint.scrape(metrics.url)    # what Prometheus reads, parsed

Prometheus *pulls*: every few seconds it fetches ``/metrics``, a plain-text page of
``name{labels} value`` lines, and stores each value with the time it read it; Grafana draws
those series.  The job only keeps its current numbers up to date:

- ``course_training_steps_total`` (a counter: it only goes up) -- minibatches trained;
- ``course_training_loss`` (a gauge: the last minibatch's loss);
- ``course_epoch_metric{name="..."}`` (a gauge per column of the last epoch's row).

The server is the official client's (``prometheus_client``), on 127.0.0.1 only, with a
registry of its own, so two trainings in one process do not mix their numbers.
"""

from __future__ import annotations

import math
import urllib.request
from numbers import Real


class TrainingMetrics:
    """A ``/metrics`` endpoint for one training; ``port=0`` takes a free port."""

    def __init__(self, port: int = 0, addr: str = "127.0.0.1"):
        from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

        self.registry = CollectorRegistry()
        self.steps = Counter("course_training_steps", "Minibatches trained", registry=self.registry)
        self.loss = Gauge("course_training_loss", "Last minibatch loss", registry=self.registry)
        self.epoch = Gauge(
            "course_epoch_metric", "The last epoch's numbers", ["name"], registry=self.registry
        )
        self.server, self.thread = start_http_server(port, addr=addr, registry=self.registry)
        self.published_steps = 0

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/metrics"

    def publish(self, history) -> None:
        """Bring the endpoint up to date with a :class:`course_lib.history.History`: the steps
        trained since the last call, the last loss, and every number of the last epoch's row."""
        steps = list(history.steps)
        if len(steps) < self.published_steps:
            raise ValueError(
                f"the history has {len(steps)} steps, fewer than the "
                f"{self.published_steps} already published: a new training needs "
                "a new TrainingMetrics"
            )
        self.steps.inc(len(steps) - self.published_steps)
        self.published_steps = len(steps)
        if steps:
            self.loss.set(float(steps[-1]))
        if history.epochs:
            for name, value in history.epochs[-1].items():
                if isinstance(value, Real) and math.isfinite(value):
                    self.epoch.labels(name=name).set(float(value))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def scrape(url: str, timeout_s: float = 10) -> dict:
    """Fetch ``url`` as Prometheus does and parse it with the client's own parser:
    ``{"name{label=value}": value}`` for every sample (``name`` alone without labels)."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        text = response.read().decode("utf-8")
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            out[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return out
