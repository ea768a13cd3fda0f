"""Log lines of a command-line tool (the technician's `provision`, the desk terminal) to stderr
while its main() runs, and nothing of them left behind when it returns, so a test or a program
that embeds the tool keeps its own logging as it was."""
import logging
import sys

__all__ = ["ToolLogging"]


class ToolLogging:
    """`start(level)` adds one stderr handler to each named logger; `stop()` takes it away
    and puts each logger's level back."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self._setup: list[tuple[logging.Logger, logging.Handler, int]] = []

    def start(self, level_name: str) -> None:
        self.stop()
        level = getattr(logging, level_name.upper())
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.setLevel(level)
        for name in self.names:
            logger = logging.getLogger(name)
            self._setup.append((logger, handler, logger.level))
            logger.addHandler(handler)
            # a lower level set by whoever embeds the tool (a test's caplog) stays: the
            # handler filters
            logger.setLevel(min(level, logger.level) if logger.level else level)

    def stop(self) -> None:
        while self._setup:
            logger, handler, previous = self._setup.pop()
            logger.removeHandler(handler)
            logger.setLevel(previous)
