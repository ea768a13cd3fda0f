"""Prometheus text exposition (format 0.0.4), hand-written: counters by label, gauges
computed at scrape time."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

Labels = tuple[tuple[str, Any], ...]
# a gauge callable returns [(name, labels, value, help)], computed at scrape time
Gauge = tuple[str, dict[str, Any], float, str]


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, Labels], float] = {}
        self._help: dict[str, str] = {}
        self.gauges: list[Callable[[], Iterable[Gauge]]] = []

    def inc(self, name: str, help_text: str, value: float = 1, **labels: Any) -> None:
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._counters[key] = self._counters.get(key, 0) + value
            self._help[name] = help_text

    def value(self, name: str, **labels: Any) -> float:
        return self._counters.get((name, tuple(sorted(labels.items()))), 0)

    def render(self) -> str:
        lines, seen = [], set()
        with self._lock:
            items = sorted(self._counters.items())
        for (name, labels), value in items:
            if name not in seen:
                seen.add(name)
                lines += [f"# HELP {name} {self._help[name]}", f"# TYPE {name} counter"]
            lines.append(f"{name}{_labels(labels)} {value}")
        for fn in self.gauges:
            for name, labels, value, help_text in fn():
                if name not in seen:
                    seen.add(name)
                    lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
                lines.append(f"{name}{_labels(tuple(sorted(labels.items())))} {value}")
        return "\n".join(lines) + "\n"


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    esc = (str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
           for _, v in labels)
    return "{" + ",".join(f'{k}="{v}"' for (k, _), v in zip(labels, esc, strict=True)) + "}"
