"""What the command-line tools (the technician's `provision`, the bureau's `xinka-authority`,
the desk terminal) share: their log lines on stderr while main() runs, and nothing of them left
behind when it returns (a test or a program that embeds a tool keeps its own logging as it was);
the base of each tool's one error hierarchy; and main()'s way of ending on an error."""
import logging
import sys

import click

__all__ = ["ToolLogging", "ToolError", "run"]


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


class ToolError(Exception):
    """Base of a tool's error hierarchy: a stable `reason`, a process `exit_code` distinct per
    kind, and `zh` / `en` saying what went wrong and what to do."""

    reason = "error"
    exit_code = 1
    zh = "出错了"
    en = "something went wrong"

    def __init__(self, detail: str = "", zh: str | None = None, en: str | None = None) -> None:
        self.detail = detail
        if zh:
            self.zh = zh
        if en:
            self.en = en
        super().__init__(self.message())

    def message(self) -> str:
        text = f"{self.zh} / {self.en}"
        return f"{text} ({self.detail})" if self.detail else text

    def notes(self) -> list[str]:
        """Lines said after the message (what was undone, ...)."""
        return []

    def __str__(self) -> str:
        return f"[{self.reason}] {self.message()}"


def run(cli: click.Command, argv: list[str] | None, prog_name: str, errors: type[ToolError],
        logs: ToolLogging, log: logging.Logger, **kw) -> int:
    """Run a click group without its own exit handling; the process exit code: 0, the error's
    own code for one of `errors`, 1 for an aborted prompt, click's code for a usage error."""
    try:
        cli.main(args=argv, prog_name=prog_name, standalone_mode=False, **kw)
        return 0
    except errors as err:
        log.info("%s exits %d: %s", prog_name, err.exit_code, err.reason)
        click.echo(f"错误 / error [{err.reason}]: {err.message()}", err=True)
        for line in err.notes():
            click.echo(line, err=True)
        return err.exit_code
    except click.exceptions.Abort:
        click.echo("已取消 / aborted", err=True)
        return 1
    except click.ClickException as err:
        err.show()
        return err.exit_code
    finally:
        logs.stop()
