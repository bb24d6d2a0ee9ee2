"""``mict-pipeline`` / ``python -m mict_pipeline``: the project's commands.

``run`` is Kedro's run command of this project, ``predict`` classifies videos without Kedro (see
:mod:`mict_pipeline.predict`), ``dvc-stages`` writes the environments' ``dvc.yaml`` files (see
:mod:`mict_pipeline.dvc_stages`). No command, or Kedro run options first (``mict-pipeline --env
demo``, as Kedro's packaged entry point takes them), is ``run``.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click

PACKAGE = Path(__file__).parent.name
HELP_OPTIONS = ["-h", "--help"]
# The front page's one line per command (click wraps at 80 columns: at most 64 characters each).
# Written here rather than read off the commands, so that `--help` imports neither Kedro nor torch.
SUMMARIES = {
    "run": "Run Kedro pipelines: download, prepare, train, evaluate, report.",
    "predict": "Top classes of video files, from a trained checkpoint.",
    "dvc-stages": "Write the environments' dvc.yaml files from their pipelines.",
}


@contextlib.contextmanager
def _quiet_kedro_import() -> Iterator[None]:
    """Importing kedro.framework.project logs an INFO line naming its logging file, before any
    command runs (and before `--help` prints): it is left out."""
    previous = logging.root.manager.disable
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(previous)


def _run_command() -> click.Command:
    """Kedro's run command for this project (or a plugin's), its options unchanged; the project is
    configured only when it runs, not for its `--help`."""
    with _quiet_kedro_import():
        from kedro.framework.cli.utils import find_run_command
        from kedro.framework.project import configure_project
    kedro_run = find_run_command(PACKAGE)

    def run(**options: Any) -> Any:
        configure_project(PACKAGE)
        return kedro_run.callback(**options)

    return click.Command(
        "run",
        params=kedro_run.params,
        callback=run,
        context_settings={"help_option_names": HELP_OPTIONS},
        help="Run the project's Kedro pipelines, as `kedro run` does. Without --pipelines: the default "
        "pipeline, i.e. download, prepare, benchmark, train, evaluate and report, every split and experiment.",
        epilog="\b\nExamples:\n"
        "  mict-pipeline run --env demo                    # the demo, every stage\n"
        "  mict-pipeline run --env demo --pipelines=train  # one pipeline\n"
        "  mict-pipeline --env demo                        # the same as `run --env demo`\n"
        '  mict-pipeline run --env demo --params="training.defaults.limit_epochs=1"',
    )


class _FrontPage(click.Group):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # No command, or an option first (`mict-pipeline --env demo`): Kedro's run, as before there were commands.
        if not args or (args[0].startswith("-") and args[0] not in HELP_OPTIONS):
            args = ["run", *args]
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SUMMARIES)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return _run_command() if name == "run" else super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl(list(SUMMARIES.items()))


@click.group(cls=_FrontPage, context_settings={"help_option_names": HELP_OPTIONS})
def cli() -> None:
    """MiCT-ResNet video action recognition with Kedro and DVC.

    Without a command, or with run's options first, it runs the pipelines: `mict-pipeline --env demo`
    is `mict-pipeline run --env demo`. `mict-pipeline COMMAND --help` gives a command's options and
    examples.
    """


# argparse parses predict's arguments and prints its help: every argument goes through untouched.
@cli.command(
    short_help=SUMMARIES["predict"],
    add_help_option=False,
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def predict(ctx: click.Context, arguments: tuple[str, ...]) -> None:
    from mict_pipeline.predict import main as predict_main

    ctx.exit(predict_main(list(arguments)))


@cli.command(
    "dvc-stages",
    short_help=SUMMARIES["dvc-stages"],
    epilog="\b\nExamples:\n"
    "  mict-pipeline dvc-stages               # the committed ones: dvc.yaml (base), conf/demo/dvc.yaml\n"
    "  mict-pipeline dvc-stages rehearsal     # conf/rehearsal/dvc.yaml only\n"
    "  dvc repro conf/rehearsal/dvc.yaml      # then: run its stages",
)
@click.argument("envs", nargs=-1, metavar="[ENV]...")
@click.pass_context
def dvc_stages(ctx: click.Context, envs: tuple[str, ...]) -> None:
    """Write each environment's DVC stages from its Kedro pipelines and catalog: base's are the root
    dvc.yaml, another's conf/<env>/dvc.yaml (tests/test_dvc_stages.py checks the committed files are
    current). Prints the files written."""
    from mict_pipeline.dvc_stages import main as write_stages

    ctx.exit(write_stages(list(envs)))


def main(args: Sequence[str] | None = None, **kwargs: Any) -> Any:
    """The entry point; ``args`` default to the command line's."""
    # In an interactive session (IPython, a notebook), return the result rather than exit.
    kwargs.setdefault("standalone_mode", not hasattr(sys, "ps1"))
    return cli.main(args=args, **kwargs)


if __name__ == "__main__":
    main()
