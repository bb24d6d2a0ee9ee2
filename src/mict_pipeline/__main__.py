"""``mict-pipeline`` / ``python -m mict_pipeline``: the project's commands.

``run`` is Kedro's run command of this project, ``predict`` classifies videos without Kedro (see
:mod:`mict_pipeline.predict`), ``dvc-stages`` writes the environments' ``dvc.yaml`` files (see
:mod:`mict_pipeline.dvc_stages`), ``new-env`` an environment for one's own dataset (see
:mod:`mict_pipeline.environments`). No command, or Kedro run options first (``mict-pipeline --env
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
    "new-env": "Write an environment (conf/NAME) for your own dataset.",
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


@cli.command(
    "new-env",
    short_help=SUMMARIES["new-env"],
    epilog="\b\nExamples:\n"
    "  mict-pipeline new-env my_videos --format folder --videos ~/videos      # <class>/<video> folders\n"
    "  mict-pipeline new-env my_hmdb --format hmdb51 --videos hmdb51_org.rar --lists test_train_splits.rar\n"
    "  mict-pipeline new-env my_k400 --format kinetics --videos clips --lists train.csv --lists validate.csv",
)
@click.argument("name")
@click.option("--format", "dataset_format", required=True, type=click.Choice(["ucf101", "hmdb51", "kinetics", "folder"]),
              help="The dataset's format (docs/data.md, \"Datasets\").")
@click.option("--videos", required=True, type=click.Path(), help="The videos: a folder, or the archive of a ucf101 or hmdb51 dataset.")
@click.option("--lists", multiple=True, type=click.Path(),
              help="ucf101 / hmdb51: the split files' archive or folder; kinetics: each annotation CSV; folder: "
              "a train then a test list file (none: a stratified split).")
@click.option("--dataset-name", help="What checkpoints and reports call the dataset (default: NAME).")
@click.option("--split", "splits", multiple=True, type=int, help="ucf101 / hmdb51: a split to run (repeat; default: all three).")
@click.option("--experiment", "experiments", multiple=True, help="An experiment of conf/base to run (repeat; default: mict_resnet18).")
@click.option("--pretrained", is_flag=True, help="Start from torchvision's ImageNet weights (downloaded once; width 64).")
@click.option("--width", type=click.IntRange(min=1), help="The network's width (64: ResNet-18's; default 16 on a CPU).")
@click.option("--epochs", type=click.IntRange(min=1), help="Training epochs (default: 10 on a CPU, 120 on a GPU).")
@click.option("--frame-size", metavar="WxH", help="Stored frame size (default: 64x48 on a CPU, 256x192 on a GPU).")
@click.option("--force", is_flag=True, help="Replace an existing conf/NAME (its dvc.yaml and dvc.lock too).")
@click.pass_context
def new_env(ctx: click.Context, name: str, dataset_format: str, frame_size: str | None, **options: Any) -> None:
    """Write conf/NAME, an environment for a dataset of your own in any of the four formats: the
    dataset read and checked where it lies, every setting it needs written out (nothing of
    UCF-101's left to conf/base), a recipe for this machine (CPU: small frames and width; no ImageNet
    download unless --pretrained), validated, then written as a whole. Prints the next commands."""
    from mict_pipeline.environments import write_environment
    from mict_pipeline.errors import UserError
    from mict_pipeline.hooks import RunError
    from mict_pipeline.project import find_project

    size = None
    if frame_size is not None:
        width, _, height = frame_size.partition("x")
        if not (width.isdigit() and height.isdigit() and int(width) and int(height)):
            raise RunError(f"--frame-size {frame_size}: not WIDTHxHEIGHT. Fix: e.g. --frame-size 64x48")
        size = (int(width), int(height))
    options["experiments"] = options["experiments"] or ("mict_resnet18",)
    try:
        written = write_environment(find_project(), name, dataset_format, frame_size=size, **options)
    except (UserError, FileNotFoundError) as error:
        raise RunError(str(error)) from None
    experiment = options["experiments"][0]
    split = min(options["splits"] or (1,))
    click.echo(f"{written.found}\nwrote conf/{name}/: {', '.join(written.files)}\n\nNext:")
    click.echo(
        f"  make smoke KEDRO_ENV={name}    # every stage in minutes: 1 epoch of 2 batches (data/smoke/{name})\n"
        f"  make repro KEDRO_ENV={name}    # the whole run with DVC (or: kedro run --env {name})\n"
        f"  mict-pipeline predict VIDEO --checkpoint {written.data_root}/06_models/split_{split}/{experiment}/best.pt"
    )


def main(args: Sequence[str] | None = None, **kwargs: Any) -> Any:
    """The entry point; ``args`` default to the command line's."""
    # In an interactive session (IPython, a notebook), return the result rather than exit.
    kwargs.setdefault("standalone_mode", not hasattr(sys, "ps1"))
    return cli.main(args=args, **kwargs)


if __name__ == "__main__":
    main()
