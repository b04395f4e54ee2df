"""Observability: Prometheus metrics, readiness probes and structured logs with a per-message context.

- `metrics`: the counters/histograms (`Metrics`, `default_metrics`), the backlog gauges measured on
  scrape (`BacklogProbe`), `/metrics` rendering and the workers' metrics server;
- `instrument`: the stage-handler wrapper (outcome counts, latency, logging context) and the translate
  stage's verdict observer;
- `probes`: time-bounded readiness (database and bus);
- `logs`: `log_context`, the key=value and JSON formatters, `configure_logging`.
"""

from gateway.observability.logs import configure_logging, log_context
from gateway.observability.metrics import (
    BacklogProbe,
    Metrics,
    default_metrics,
    render,
    start_metrics_server,
)
from gateway.observability.probes import bounded, readiness

__all__ = [
    "BacklogProbe",
    "Metrics",
    "bounded",
    "configure_logging",
    "default_metrics",
    "log_context",
    "readiness",
    "render",
    "start_metrics_server",
]
