"""Each environment's DVC stages, derived from its Kedro pipelines and catalog: conf/base's (the
paper's experiments on UCF-101) are the project's root ``dvc.yaml``, so ``dvc repro`` in the root
reproduces them; every other environment's are ``conf/<env>/dvc.yaml``.

Every stage is one ``kedro run`` of one environment: ``synthetic`` (where the download reads its
archives), ``download``, ``prepare``, ``benchmark``, ``train-split_<n>-<experiment>`` and
``evaluate-split_<n>-<experiment>`` for each split and experiment of ``run_experiments``, and
``report``. What a stage depends on and writes is read off the pipeline it runs, so it cannot drift
from the code:

* deps: the project's source files its nodes' modules import (transitively; the wiring of
  ``pipeline.py`` is the stage definition itself; :mod:`mict_pipeline.sources`, whose digest of the
  train node's files a checkpoint records), the catalog files it reads, the folders it reads (``*_dir`` datasets another pipeline writes: frame stores, checkpoints),
  and what it reads from outside the pipeline's outputs: the archives the download fetches from
  ``file:`` URLs and the local folders and list files prepare reads (a user's own, anywhere), so a
  changed source reruns the stage;
* params: exactly the keys its nodes read (``params:`` inputs), in each parameter file of ``conf/base``
  and ``conf/<env>`` that defines them, plus ``run_experiments`` where the stage gathers experiments;
* outs: the catalog files it writes (committed to git, ``cache: false``, unless marked
  ``cache: true``; ``dvc: metrics`` ones as metrics) and the folders it writes (DVC cache, or git for
  ``commit: true``), kept across reruns (``persist``) so interrupted work resumes.

DVC reads every ``dvc.yaml`` in the repository (``dvc status``, ``dvc exp show`` and ``dvc dag``
report them all), so only the root's and the demo's are committed: ``dvc status`` in the root then
speaks of the root pipeline, and of the demo's once ``make demo`` ran. The other environments' files
are written when they are first run (``make repro KEDRO_ENV=<env>``, ``make rehearsal``) and are
then theirs to commit with their ``dvc.lock``.

``python -m mict_pipeline.dvc_stages [ENV ...]`` writes the files of the committed environments (or
of those named); ``tests/test_dvc_stages.py`` checks the committed files are what it writes.
"""

from __future__ import annotations

import inspect
import logging
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from mict_pipeline.errors import UserError
from mict_pipeline.evaluation.reports import TRAINING_CURVES
from mict_pipeline.io.atomic import write_bytes_atomic
from mict_pipeline.project import check_configuration, configuration, find_project
from mict_pipeline.sources import PACKAGE, source_files

ENVIRONMENTS = ("base", "demo", "rehearsal", "rehearsal_kinetics", "demo_hmdb51", "hmdb51")  # the environments of conf/ (conf/local is personal)
ROOT_ENVIRONMENT = "base"  # its stages are the root dvc.yaml: `dvc repro` in the root reproduces the paper's experiments
COMMITTED = ("base", "demo")  # the others' files are written when first run (see the module's docstring)
HEADER = (
    "# Generated from the Kedro pipelines and catalog of environment {env} by `python -m mict_pipeline.dvc_stages {env}`:\n"
    "# do not edit (tests/test_dvc_stages.py checks the committed ones). Run it with `dvc repro{target}`.\n"
)


def pipeline_file(env: str) -> str:
    """Where an environment's stages are, relative to the project root."""
    return "dvc.yaml" if env == ROOT_ENVIRONMENT else f"conf/{env}/dvc.yaml"


def _node_modules(pipeline: Any) -> set[str]:
    return {inspect.unwrap(getattr(node.func, "func", node.func)).__module__ for node in pipeline.nodes}


def _defines(params: dict[str, Any], key: str) -> bool:
    node: Any = params
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


class StageWriter:
    """The stages of one environment, from its pipelines (built for its ``run_experiments``) and catalog."""

    def __init__(self, project: Path, env: str) -> None:
        from kedro.framework.project import pipelines
        from kedro.framework.startup import bootstrap_project
        from kedro.io.catalog_config_resolver import CatalogConfigResolver

        from mict_pipeline.parameters.project import ProjectParameters
        from mict_pipeline.pipelines.experiments import use_session_parameters

        self.project, self.env = project, env
        self.file = pipeline_file(env)
        # Stages run in the project root; a path of a top-level plot is relative to its dvc.yaml.
        self.to_root = Path(os.path.relpath(project, (project / self.file).parent)).as_posix()
        config = configuration(project, env)
        self.parameters = config["parameters"]
        self.resolver = CatalogConfigResolver(config["catalog"])
        self.files = {
            path.relative_to(project).as_posix(): yaml.safe_load(path.read_text()) or {}
            for folder in ("base", env)
            for path in sorted((project / "conf" / folder).glob("parameters*.yml"))
        }
        bootstrap_project(project)
        self.project_parameters = ProjectParameters.model_validate(self.parameters, where="")
        use_session_parameters(self.project_parameters)
        pipelines.configure(f"{PACKAGE}.pipeline_registry")
        self.pipelines = dict(pipelines)
        self.experiments = list(self.project_parameters.run_experiments)
        self.splits = self.project_parameters.run_dataset.run_splits

    # --- what the catalog says ---------------------------------------------------------------

    def _entry(self, name: str) -> dict[str, Any] | None:
        """The catalog entry of dataset ``name`` (dataset factories resolved) if it names a file or a
        folder inside the project; None for a dataset only kept in memory, or one outside the project
        (a frame store on a scratch disk: DVC tracks only what is inside the repository)."""
        entry = self.resolver.resolve_pattern(name)
        if "filepath" not in entry and not self._folder(entry):
            return None
        return None if os.path.isabs(self._path(entry)) else entry

    def _path(self, entry: dict[str, Any]) -> str:
        return str(entry.get("filepath") or entry.get("data"))

    def _folder(self, entry: dict[str, Any]) -> bool:
        return "written_by" in (entry.get("metadata") or {})

    # --- one stage ---------------------------------------------------------------------------

    def stage(self, pipeline_name: str, namespace: str | None = None) -> dict[str, Any]:
        pipeline = self.pipelines[pipeline_name]
        if namespace:
            pipeline = pipeline.only_nodes_with_namespaces([namespace])
        cmd = f"kedro run --env {self.env} --pipelines={pipeline_name}" + (f" --namespaces={namespace}" if namespace else "")
        if pipeline_name == "train":
            cmd += " --params=training.on_other_experiment=restart"  # DVC's cache keeps a run it replaces
        deps = sorted(p.relative_to(self.project).as_posix() for p in source_files(_node_modules(pipeline)))
        outs: dict[str, dict[str, Any]] = {}
        metrics: dict[str, dict[str, Any]] = {}
        for name in sorted(pipeline.inputs()):
            if name.startswith("params:") or (entry := self._entry(name)) is None:
                continue
            metadata = entry.get("metadata") or {}
            if self._folder(entry) and metadata["written_by"] == pipeline_name:
                outs[self._path(entry)] = {"persist": True, **({"cache": False} if metadata.get("commit") else {})}
            else:
                deps.append(self._path(entry))
        for name in sorted(pipeline.all_outputs()):
            entry = self._entry(name)
            if entry is None:
                continue
            path, metadata = self._path(entry), entry.get("metadata") or {}
            if any(path.startswith(f"{folder}/") for folder in outs):
                continue  # written inside a folder this stage writes
            (metrics if metadata.get("dvc") == "metrics" else outs)[path] = {"cache": bool(metadata.get("cache", False))}
        deps += self._read_sources(pipeline_name) + self._source_checkpoint(pipeline_name, namespace)
        folders = [dep for dep in deps if not Path(dep).suffix]
        deps = [dep for dep in deps if not any(dep.startswith(f"{folder}/") for folder in folders)]  # inside a folder dep
        stage: dict[str, Any] = {"cmd": cmd, **({"wdir": self.to_root} if self.to_root != "." else {})}
        stage |= {"deps": deps, "params": self._params(pipeline_name, pipeline)}
        stage["outs"] = [{path: options} for path, options in outs.items()]
        if metrics:
            stage["metrics"] = [{path: options} for path, options in metrics.items()]
        return stage

    def _params(self, pipeline_name: str, pipeline: Any) -> list[dict[str, list[str]]]:
        keys = {name.removeprefix("params:") for name in pipeline.inputs() if name.startswith("params:")}
        if pipeline_name in ("benchmark", "report"):  # they gather the experiments of run_experiments
            keys.add("run_experiments")
        listed = []
        for file, params in self.files.items():
            defined = sorted(key for key in keys if _defines(params, key))
            if defined:
                listed.append({file: defined})
        return listed

    def _read_sources(self, pipeline_name: str) -> list[str]:
        """What the stage reads from outside DVC's outputs, so that a changed source reruns it: the
        download's ``file:`` archives (the demo's synthetic ones, a user's own anywhere), prepare's
        local folders and list files (a dataset read without archives). One outside the project that
        does not exist is left out: DVC would stop on it before the stage runs, and the stage names
        it in one line with its key and fix."""
        dataset = self.project_parameters.run_dataset
        if pipeline_name == "download":
            archives = self.project_parameters.download.archives
            urls = [url for name in sorted(dataset.archives()) for url in archives[name].urls]
            paths = [url.removeprefix("file:").removeprefix("//") for url in urls if url.startswith("file:")]
        elif pipeline_name == "prepare":
            paths = sorted({Path(source.path).as_posix() for source in dataset.sources().values() if source.archive is None})
        else:
            return []
        return [path for path in paths if not os.path.isabs(path) or os.path.exists(path)]

    def _source_checkpoint(self, pipeline_name: str, namespace: str | None) -> list[str]:
        """The checkpoint a fine-tuning experiment starts from (``model.init_from``), inside the
        project: a new one (the pretraining rerun) trains it again."""
        if pipeline_name != "train" or namespace is None:
            return []
        init_from = self.project_parameters.experiments[namespace.split(".", 1)[1]].model.init_from
        return [] if init_from is None or os.path.isabs(init_from) else [Path(init_from).as_posix()]

    # --- the environment's stages ------------------------------------------------------------

    def stages(self) -> dict[str, Any]:
        stages = {name: self.stage(name) for name in ("synthetic", "download", "prepare", "benchmark")}
        synthetic = tuple(f"{path}/" for out in stages["synthetic"]["outs"] for path in out)
        if not any(dep.startswith(synthetic) for name in ("download", "prepare") for dep in stages[name]["deps"]):
            del stages["synthetic"]  # the environment's dataset comes from elsewhere
        for kind in ("train", "evaluate"):
            for split in self.splits:
                for experiment in self.experiments:
                    stages[f"{kind}-split_{split}-{experiment}"] = self.stage(kind, f"split_{split}.{experiment}")
        stages["report"] = self.stage("report")
        return stages

    def plots(self) -> list[Any]:
        """Training curves with every experiment and split overlaid, one chart a metric; the report's
        PNGs. (Paths of top-level plots are relative to the dvc.yaml, not to a stage's wdir.)"""
        curves = []
        for metric, title in TRAINING_CURVES.items():
            y = {}
            for experiment in self.experiments:
                for split in self.splits:
                    folder = self._path(self._entry(f"split_{split}.{experiment}.training_log_dir"))
                    y[self._from_file(f"{folder}/plots/metrics/{metric}.tsv")] = metric
            curves.append({metric: {"x": "step", "y": y, "title": f"{title}, every experiment and split", "x_label": "epoch (0 = first)", "y_label": metric}})
        confusion = self._path(self._entry(f"split_{self.splits[0]}.{self.experiments[0]}.confusion_matrix_plot")).rsplit("/", 1)[0]
        images = (self._path(self._entry(name)) for name in ("training_curves", "time_accuracy_plot"))
        return [*curves, *(self._from_file(image) for image in images), self._from_file(confusion)]

    def _from_file(self, path: str) -> str:
        return path if self.to_root == "." else f"{self.to_root}/{path}"

    def text(self) -> str:
        """The environment's dvc.yaml."""
        body = yaml.safe_dump({"stages": self.stages(), "plots": self.plots()}, sort_keys=False, width=120)
        target = "" if self.env == ROOT_ENVIRONMENT else f" {self.file}"
        return HEADER.format(env=self.env, target=target) + body

    def write(self, project: Path | None = None) -> Path:
        """Write the file into ``project`` (default: this one; a copy of it gets the same text)."""
        return write_bytes_atomic((project or self.project) / self.file, self.text().encode())


def main(argv: list[str] | None = None) -> int:
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # Kedro configures its loggers while loading; the file names are the output
    try:
        return _write_files((argv if argv is not None else sys.argv[1:]) or list(COMMITTED))
    finally:
        logging.disable(previous)  # as it was, for a caller in the same process


def _write_files(envs: list[str]) -> int:
    project = find_project()
    for env in envs:
        try:
            check_configuration(project / "conf", env)
        except UserError as error:  # `make repro KEDRO_ENV=<a typo>` runs this first
            print(f"Error: {error}", file=sys.stderr)
            return 2
        print(StageWriter(project, env).write().relative_to(project))
    return 0


if __name__ == "__main__":
    sys.exit(main())
