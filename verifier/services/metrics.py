"""Prometheus text exposition (format 0.0.4), hand-written: counters by label, gauges
computed at scrape time."""
import threading


class Metrics:
    def __init__(self):
        self._lock = threading.Lock()
        self._counters = {}          # (name, labels tuple) -> value
        self._help = {}
        self.gauges = []             # callables returning [(name, labels dict, value, help)]

    def inc(self, name, help_text, value=1, **labels):
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._counters[key] = self._counters.get(key, 0) + value
            self._help[name] = help_text

    def value(self, name, **labels):
        return self._counters.get((name, tuple(sorted(labels.items()))), 0)

    def render(self):
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


def _labels(labels):
    if not labels:
        return ""
    esc = (str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
           for _, v in labels)
    return "{" + ",".join(f'{k}="{v}"' for (k, _), v in zip(labels, esc)) + "}"
