"""The line protocol of a simulated device process: its stdout read by a thread into a queue
(every line also kept in `log`), and `expect` waiting for the next line with a given prefix."""
import queue
import threading
import time


class LineReader:
    """Mixin for SimBadge and SimTerminal. `name` labels errors; `timeout_tail` is how many log
    lines a timeout error shows (0: none)."""

    name = "device"
    expect_timeout = 10
    timeout_tail = 0
    exit_tail = 30

    def _read_lines(self, proc):
        """Start the reader thread for `proc` (stdout in text mode)."""
        self.lines = queue.Queue()
        threading.Thread(target=self._reader, args=(proc, self.lines), daemon=True).start()

    def _reader(self, proc, lines):
        for line in proc.stdout:
            line = line.rstrip("\n")
            self.log.append(line)
            lines.put(line)
        lines.put(None)

    def expect(self, prefix, timeout=None):
        """The next line starting with prefix (others are skipped; they stay in .log)."""
        if timeout is None:
            timeout = self.expect_timeout
        end = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                msg = "%s: no %r line in %ss" % (self.name, prefix, timeout)
                if self.timeout_tail:
                    msg += ":\n" + "\n".join(self.log[-self.timeout_tail:])
                raise TimeoutError(msg) from None
            if line is None:
                raise RuntimeError("%s exited:\n%s"
                                   % (self.name, "\n".join(self.log[-self.exit_tail:])))
            if line.startswith(prefix):
                return line
