"""The `symgraph` command group and the one place where errors become an `error:` line and an exit status."""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import click

from symgraph.errors import InputError, SymgraphError

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

__all__ = ["App", "flag", "Progress", "CONTEXT"]

#: Exit status of an unexpected internal error (a bug): never shown as a traceback.
INTERNAL_ERROR = 3
#: Exit status after Ctrl-C (128 + SIGINT, as a shell reports it).
INTERRUPTED = 130
#: Every command, the group's own help and each subcommand's, answers -h as well as --help.
CONTEXT = {"help_option_names": ["-h", "--help"]}


#: Library parameters whose option is not their name spelt with dashes.
_OPTIONS = {"directory": "--frames", "fmt": "--format"}


def flag(parameter: str) -> str:
    """The option that sets a library parameter: relu_at_zero → --relu-at-zero, directory → --frames."""
    return _OPTIONS.get(parameter, "--" + parameter.replace("_", "-"))


def fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


class Interrupted(Exception):
    """Ctrl-C, carried past click's own handling (an empty line and "Aborted!") to one `error:` line."""


class Progress:
    """A `progress(k, n)` callback that draws click's progress bar on standard error once the work has taken
    AFTER seconds, when standard error is a terminal; otherwise (a pipe, a file, a test) it prints nothing."""

    AFTER = 2.0

    def __init__(self, label: str):
        self.label = label
        self.start = time.monotonic()
        self.bar: ProgressBar[int] | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if not sys.stderr.isatty() or time.monotonic() - self.start < self.AFTER:
                return
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr, show_pos=True)
            self.bar.render_progress()
        self.bar.update(done - self.bar.pos)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.render_finish()


class App(click.Group):
    """A click group that prints one `error:` line instead of usage dumps or tracebacks.

    `lazy` names commands by "module:attribute", imported when one is invoked or listed (help, completion):
    `symgraph derive` then never imports the drawing code, the network tables or the gallery.
    """

    def __init__(self, *args, lazy: Mapping[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, _, attribute = self.lazy[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Each command's own settings answer -h, also when it is invoked alone (click caches a command's help
        option the first time it parses, from that context's settings)."""
        for command in [cmd, *getattr(cmd, "commands", {}).values()]:
            command.context_settings.setdefault("help_option_names", CONTEXT["help_option_names"])
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted from None

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as e:
            click.echo(e.ctx.get_help())
            sys.exit(0)
        except click.UsageError as e:
            command = e.ctx.command_path if e.ctx is not None else "symgraph"
            hint = f"see '{command} --help'"
            if isinstance(e, click.NoSuchOption) and not e.option_name.startswith("--"):
                hint = "a program that starts with '-' reads as options: write it as 'L = -…', or put it last after '--'"
            fail(f"{e.format_message()} ({hint})", 2)
        except click.ClickException as e:
            fail(e.format_message(), e.exit_code)
        except InputError as e:
            fail(e.message(flag), e.exit_code)
        except SymgraphError as e:
            fail(str(e), e.exit_code)
        except Interrupted:
            fail("interrupted (Ctrl-C); no partial file is left", INTERRUPTED)
        except click.exceptions.Abort:
            fail("aborted", 1)
        except RecursionError:
            fail("input nests too deeply to process; split it into named assignments", 2)
        except Exception as e:  # a bug: say so in one line, never a traceback
            fail(f"internal error ({type(e).__name__}: {e}); please report it with the command you ran", INTERNAL_ERROR)
        sys.exit(result if isinstance(result, int) else 0)
