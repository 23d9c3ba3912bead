"""`--help` in French, headings and hints included: command classes Typer builds the commands
with (its `cls=` hook), whose help formatting writes French words instead of Click's English
ones. Nothing is translated after the fact: every word is written in French in the first place.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from typer._click import Context, HelpFormatter, Parameter

USAGE = "Utilisation : "
OPTIONS_METAVAR = "[OPTIONS]"
SUBCOMMAND_METAVAR = "COMMANDE [ARGUMENTS]..."
# The value kinds Typer names in a metavar (<path>, <int range>), said in French.
_VALUE_KIND = {
    "path": "chemin",
    "file": "fichier",
    "directory": "dossier",
    "str": "texte",
    "int": "nombre",
    "int range": "nombre",
    "float": "nombre",
    "float range": "nombre",
}


def _metavar(param: Parameter, ctx: Context) -> str | None:
    if param.metavar is not None:
        return param.metavar
    if getattr(param, "is_flag", False):
        return None
    display = getattr(param, "display_type", None)
    shown = display(ctx) if display is not None else None
    if shown and shown.startswith("<") and shown.endswith(">"):
        kind = shown[1:-1]
        return f"<{_VALUE_KIND.get(kind, kind)}>"
    return shown


def _range(param: Parameter) -> str | None:
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    if low is not None and high is not None:
        return f"de {low} à {high}"
    if low is not None:
        return f"au moins {low}"
    if high is not None:
        return f"au plus {high}"
    return None


def _default(param: Parameter, ctx: Context) -> str | None:
    show = getattr(param, "show_default", None)
    if isinstance(show, str):
        return show
    if not (show or ctx.show_default) or getattr(param, "is_flag", False):
        return None
    value: Any = param.default
    if value is None or value == () or callable(value):
        return None
    if isinstance(value, enum.Enum):
        value = value.value
    return str(value)


def help_record(param: Parameter, ctx: Context) -> tuple[str, str] | None:
    """(what to type, what it does) for one argument or option, in French."""
    if getattr(param, "hidden", False):
        return None
    if param.param_type_name == "argument":
        term = param.metavar or (param.name or "")
    else:
        names = [*param.opts, *param.secondary_opts]
        term = ", ".join(sorted(names, key=lambda n: (n.startswith("--"), n)))
    metavar = _metavar(param, ctx)
    if metavar and param.param_type_name == "option":
        term = f"{term} {metavar}"
    extra = []
    default = _default(param, ctx)
    if default:
        extra.append(f"par défaut : {default}")
    bounds = _range(param)
    if bounds:
        extra.append(bounds)
    if param.required:
        extra.append("obligatoire")
    text = getattr(param, "help", None) or ""
    if extra:
        text = f"{text}  [{' ; '.join(extra)}]" if text else f"[{' ; '.join(extra)}]"
    return term, text


def _format_usage(
    command: typer.core.TyperCommand | typer.core.TyperGroup, ctx: Context, formatter: HelpFormatter
) -> None:
    pieces = command.collect_usage_pieces(ctx)
    formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=USAGE)


@contextmanager
def _section(formatter: HelpFormatter, name: str) -> Iterator[None]:
    """Click's section, headed the French way: a space before the colon (« Options : »)."""
    formatter.write_paragraph()
    formatter.write(f"{'':>{formatter.current_indent}}{name} :\n")
    formatter.indent()
    try:
        yield
    finally:
        formatter.dedent()


def _format_parameters(command: Any, ctx: Context, formatter: HelpFormatter) -> None:
    arguments: list[tuple[str, str]] = []
    options: list[tuple[str, str]] = []
    for param in command.get_params(ctx):
        record = help_record(param, ctx)
        if record is None:
            continue
        (arguments if param.param_type_name == "argument" else options).append(record)
    if arguments:
        with _section(formatter, "Arguments"):
            formatter.write_dl(arguments)
    if options:
        with _section(formatter, "Options"):
            formatter.write_dl(options)


class FrenchCommand(typer.core.TyperCommand):
    """A command whose --help is French throughout."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        super().__init__(*args, **kwargs)

    def format_usage(self, ctx: Context, formatter: HelpFormatter) -> None:
        _format_usage(self, ctx, formatter)

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        _format_parameters(self, ctx, formatter)


class FrenchGroup(typer.core.TyperGroup):
    """The `accuse` command itself: its usage, options and list of commands in French."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        kwargs["subcommand_metavar"] = kwargs.get("subcommand_metavar") or SUBCOMMAND_METAVAR
        super().__init__(*args, **kwargs)

    def format_usage(self, ctx: Context, formatter: HelpFormatter) -> None:
        _format_usage(self, ctx, formatter)

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        _format_parameters(self, ctx, formatter)
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            limit = formatter.width - 6 - max(len(n) for n in self.list_commands(ctx))
            rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with _section(formatter, "Commandes"):
                formatter.write_dl(rows)
