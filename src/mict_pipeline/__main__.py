"""``mict-pipeline`` / ``python -m mict_pipeline``: ``predict VIDEO ...`` (no Kedro, see
:mod:`mict_pipeline.predict`), and otherwise the project's Kedro commands."""

import sys
from pathlib import Path
from typing import Any


def main(*args, **kwargs) -> Any:
    if sys.argv[1:2] == ["predict"]:
        from mict_pipeline.predict import main as predict

        sys.exit(predict(sys.argv[2:]))
    from kedro.framework.cli.utils import find_run_command
    from kedro.framework.project import configure_project

    package_name = Path(__file__).parent.name
    configure_project(package_name)

    interactive = hasattr(sys, "ps1")
    kwargs["standalone_mode"] = not interactive

    run = find_run_command(package_name)
    return run(*args, **kwargs)


if __name__ == "__main__":
    main()
