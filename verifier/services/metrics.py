"""The verifier's Prometheus metrics, on prometheus_client.

One `Metrics` per app, its own `CollectorRegistry` (tests build many apps in one process).
Under gunicorn with several workers, prometheus_client's multiprocess mode is on when
`PROMETHEUS_MULTIPROC_DIR` is set in the environment before the workers start (the library
reads it at import): each worker writes its counters and histograms to files in that folder,
a scrape answered by any worker merges every worker's files (`MultiProcessCollector`), and
`verifier.gunicorn_config` marks a dead worker's files with gunicorn's `child_exit` hook.

Gauges that describe the state held (status list age and seq, trust list seq) are computed at
scrape time by the answering worker from its refreshed snapshot; gauges set on events (the
ingest lag, each terminal's journal lag) keep the most recent value any worker set.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge,
                               Histogram, generate_latest)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

# a scrape-time gauge: (name, labels, value, help)
ScrapeGauge = tuple[str, dict[str, Any], float, str]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def multiprocess_dir() -> str | None:
    """The folder of prometheus_client's multiprocess mode, or None (one process)."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _ScrapeGauges:
    """A collector yielding the gauges computed at scrape time."""

    def __init__(self, sources: list[Callable[[], Iterable[ScrapeGauge]]]) -> None:
        self.sources = sources

    def collect(self):
        families: dict[str, GaugeMetricFamily] = {}
        label_names: dict[str, list[str]] = {}
        for fn in self.sources:
            for name, labels, value, help_text in fn():
                if name not in families:
                    label_names[name] = sorted(labels)
                    families[name] = GaugeMetricFamily(name, help_text,
                                                       labels=label_names[name])
                families[name].add_metric([str(labels[k]) for k in label_names[name]], value)
        return list(families.values())


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.verifications = Counter("xinka_verifications", "verifications by reason",
                                     ["reason"], registry=r)
        self.checkin_items = Counter("xinka_checkin_items", "check-in items by result",
                                     ["result"], registry=r)
        self.checkin_batches = Counter("xinka_checkin_batches", "check-in batches received",
                                       registry=r)
        self.employer_pages = Counter("xinka_employer_pages",
                                      "employer pages by colour and reason",
                                      ["colour", "reason"], registry=r)
        self.requests = Counter("xinka_http_requests", "HTTP requests by endpoint and status",
                                ["endpoint", "method", "status"], registry=r)
        self.refusals = Counter("xinka_http_refusals", "refused requests by reason",
                                ["endpoint", "reason"], registry=r)
        self.latency = Histogram("xinka_http_request_duration_seconds",
                                 "request latency by endpoint", ["endpoint"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.ingest_lag = Gauge("xinka_ingest_lag_seconds",
                                "receive time minus terminal time of the last accepted check-in",
                                registry=r, multiprocess_mode="mostrecent")
        self.journal_lag = Gauge("xinka_terminal_journal_lag_seconds",
                                 "receive time minus terminal time of the newest check-in "
                                 "accepted from each terminal", ["terminal"],
                                 registry=r, multiprocess_mode="mostrecent")
        self.gauges: list[Callable[[], Iterable[ScrapeGauge]]] = []
        self._scrape = _ScrapeGauges(self.gauges)
        if multiprocess_dir() is None:
            r.register(self._scrape)

    def render(self) -> tuple[bytes, str]:
        """(body, content type) of a scrape: every worker's values in multiprocess mode."""
        if multiprocess_dir() is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        registry.register(self._scrape)
        return generate_latest(registry), CONTENT_TYPE_LATEST
