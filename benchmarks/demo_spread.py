"""How much the demo's figures move beyond its splits: another seed, or another CPU's kernels.

Bit-identical results hold on one machine and software stack only: another CPU runs other
floating-point kernels (oneDNN and ATen pick them by instruction set), and from-scratch training
on a few hundred clips amplifies the last-bit differences. This script trains the demo's
experiments again on the prepared demo data (after `make demo`), with ``--seed`` or under other
kernels, e.g. those of an AVX2-only CPU on an AVX-512 one::

    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/demo_spread.py --json avx2.json

and prints each run's clip top-1 (best epoch, evaluated as the pipeline does, and last epoch) per
split beside the committed demo outputs (the pipeline's run). With several seeds, e.g. ::

    python benchmarks/demo_spread.py --seeds 0 1 2 --splits 1

it ends with each experiment's spread over the seeds on each split (mean, sample std, range) and
the difference between the experiments seed by seed, so the gap the report tests can be read
against what retraining alone moves. Runs go to a temporary folder.

Usage: python benchmarks/demo_spread.py [--seeds 0 ...] [--splits 1 2 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
from pathlib import Path

import torch
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from mict_pipeline.evaluation.evaluate import evaluate_checkpoint
from mict_pipeline.experiment import ExperimentConfig, TrainingParams
from mict_pipeline.pipelines.train.nodes import train_experiment

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="recipe.seed of the runs, one run per seed (the demo's: 0)")
    parser.add_argument("--splits", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    logging.disable(logging.INFO)

    bootstrap_project(ROOT)
    with KedroSession.create(project_path=ROOT, env="demo") as session:
        context = session.load_context()
        catalog, params = context.catalog, context.params
    training = TrainingParams.model_validate(params["training"])
    kernels = torch.backends.cpu.get_cpu_capability()
    print(f"seeds {' '.join(map(str, args.seeds))}; ATen CPU kernels: {kernels}; torch {torch.__version__}")
    print(f"{'experiment':16s} {'split':>5s} {'seed':>4s} {'committed best':>15s} {'this best':>10s} {'this last':>10s}")
    rows = []
    frames_dir, dataset_spec, prepared = catalog.load("frames_dir"), catalog.load("dataset_spec"), catalog.load("prepared")
    with tempfile.TemporaryDirectory(prefix="demo_spread_") as tmp:
        for split in args.splits:
            train_index, test_index = catalog.load(f"split_{split}.train_index"), catalog.load(f"split_{split}.test_index")
            committed = {name: catalog.load(f"split_{split}.{name}.metrics")["clip_top1"] for name in params["run_experiments"]}
            for seed in args.seeds:
                seeded = training.model_copy(update={"defaults": training.defaults.model_copy(update={"seed": seed})})
                for name in params["run_experiments"]:
                    run_dir = Path(tmp) / f"split_{split}" / f"seed_{seed}" / name
                    summary = train_experiment(
                        train_index, test_index, dataset_spec, prepared, frames_dir,
                        str(run_dir), str(run_dir / "log"), ExperimentConfig.model_validate(params["experiments"][name]),
                        seeded, name=name, split=split,
                    )
                    best = evaluate_checkpoint(run_dir / "best.pt", test_index, frames_dir).metrics["clip_top1"]
                    last = summary["history"][-1]["val_top1"]
                    rows.append({"experiment": name, "split": split, "seed": seed, "committed_best": committed[name], "best": best, "last": last})
                    print(f"{name:16s} {split:5d} {seed:4d} {100 * committed[name]:15.1f} {100 * best:10.1f} {100 * last:10.1f}", flush=True)
    if len(args.seeds) > 1:
        print_seed_spread(rows, params["run_experiments"], args.splits)
    if args.json:
        Path(args.json).write_text(json.dumps({"seeds": args.seeds, "kernels": kernels, "runs": rows}, indent=2))


def print_seed_spread(rows: list[dict], experiments: list[str], splits: list[int]) -> None:
    """Per split: each experiment's best-epoch clip top-1 over the seeds, and the first experiment's
    lead over each other one seed by seed (same seed, same data)."""
    print("\nspread over seeds (best-epoch clip top-1, percent): mean, sample std, min-max")
    for split in splits:
        best = {name: [100 * r["best"] for r in rows if r["split"] == split and r["experiment"] == name] for name in experiments}
        for name, values in best.items():
            print(f"  split {split} {name:16s} {statistics.mean(values):5.1f} ± {statistics.stdev(values):4.1f}  "
                  f"{min(values):5.1f}-{max(values):5.1f}")
        first, *others = experiments
        for other in others:
            gaps = [a - b for a, b in zip(best[first], best[other])]
            print(f"  split {split} {first} - {other}: {', '.join(f'{g:+.1f}' for g in gaps)} "
                  f"(mean {statistics.mean(gaps):+.1f}, std {statistics.stdev(gaps):.1f})")


if __name__ == "__main__":
    main()
