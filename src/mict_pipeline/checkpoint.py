"""One checkpoint format for every trained model, and one loader for it and the original's.

A checkpoint is a ``torch.save`` file holding plain data and tensors only::

    {"format": "mict-pipeline checkpoint", "format_version": 2,
     "experiment": Experiment.describe(),      # what it is and how to use it
     "code": {"sha256": ..., "files": {...}},  # the sources it was trained with (mict_pipeline.sources)
     "model": state_dict,
     "training": {...},                        # last.pt only: optimizer, scheduler, history, ...
     "content_sha256": ...}                    # of everything above: tensors' raw bytes and plain data

``best.pt`` and ``last.pt`` share the format; only ``last.pt`` carries the training state, so a
run can resume from it, and only with the code it records (the training loop checks it; loading
the model for evaluation or prediction does not: there it is provenance). Files are always opened
with ``torch.load(weights_only=True)``: opening a checkpoint never runs code from it, and a file
that would need to is refused. Reading checks the content digest (a file damaged on disk or in a
copy is refused, not used) and that every weight is finite.

Version 1 files (no code record, no content digest) are still read: their weights are checked
for being finite; resuming from one restarts or stops as for code that changed, since what code
trained it is unknown.

:func:`load_checkpoint` gives the model and its :class:`~mict_pipeline.experiment.Experiment` from
either file. A checkpoint of the original MiCT-Net-PyTorch (``{'epoch', 'state_dict',
'optimizer', 'best_pred'}``) loads too when its architecture is named: it was trained on UCF-101,
so its classes are UCF-101's in classInd order and its preprocessing the original recipe's.
"""

from __future__ import annotations

import _compat_pickle  # Python 2's module names in old pickle protocols, as pickle maps them
import functools
import hashlib
import os
import pickle
import pickletools
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mict_pipeline.datasets.ucf101 import CLASS_NAMES as UCF101_CLASS_NAMES
from mict_pipeline.errors import UserError
from mict_pipeline.experiment import DatasetSpec, Experiment, ModelOptions
from mict_pipeline.io.atomic import write_atomic
from mict_pipeline.io.digest import file_digest
from mict_pipeline.models import architecture_family
from mict_pipeline.models.weights import load_state_into, rename_keys

FORMAT = "mict-pipeline checkpoint"
FORMAT_VERSION = 2
LAST, BEST = "last.pt", "best.pt"


class CheckpointError(UserError, ValueError):
    """A file cannot be used as a checkpoint; the one-line message names the file, what is wrong and the fix."""


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint read from ``path``: its experiment, weights and (``last.pt`` only) training state."""

    path: Path
    experiment: Experiment
    state_dict: dict[str, torch.Tensor]
    training: dict[str, Any] | None = None
    code: dict[str, Any] | None = None

    def build_model(self) -> nn.Module:
        """The experiment's model with these weights, in eval mode."""
        model = self.experiment.build_model(initialise=False)
        try:
            load_state_into(model, self.state_dict, f"checkpoint {self.path}")
        except ValueError as error:
            raise CheckpointError(str(error)) from None
        return model.eval()


def _canonical(value: Any) -> Any:
    """``value`` with every string interned: pickle shares one copy of equal strings only when they
    are one object, so a state loaded from a checkpoint (fresh strings) would otherwise be written
    with other bytes than the same state built in memory."""
    if isinstance(value, str):
        return sys.intern(value)
    if isinstance(value, dict):  # dict, OrderedDict, Counter (the scheduler's milestones): same type, same order
        canonical = type(value)()
        for key, item in value.items():
            canonical[_canonical(key)] = _canonical(item)
        return canonical
    if isinstance(value, (list, tuple)):
        return type(value)(_canonical(v) for v in value)
    return value


def _content_digest(payload: dict[str, Any]) -> str:
    """SHA-256 of ``payload``: every tensor's dtype, shape and raw bytes (read once, no copy on the
    CPU) and every other value's repr, in the payload's order; a loaded payload gives its writer's."""
    hasher = hashlib.sha256()

    def feed(value: Any) -> None:
        if isinstance(value, torch.Tensor):
            tensor = value.detach().cpu().contiguous()
            hasher.update(f"tensor {tensor.dtype} {tuple(tensor.shape)}\0".encode())
            hasher.update(tensor.reshape(-1).view(torch.uint8).numpy())
        elif isinstance(value, dict):
            hasher.update(b"{")
            for key, item in value.items():
                feed(key)
                feed(item)
            hasher.update(b"}")
        elif isinstance(value, (list, tuple)):
            hasher.update(b"[")
            for item in value:
                feed(item)
            hasher.update(b"]")
        else:
            hasher.update(f"{type(value).__name__} {value!r}\0".encode())

    feed(payload)
    return hasher.hexdigest()


def save_checkpoint(
    path: str | os.PathLike, model: nn.Module, experiment: Experiment, training: dict[str, Any] | None = None,
    code: dict[str, Any] | None = None,
) -> Path:
    """Write ``model``'s weights with ``experiment`` (and the training state, for ``last.pt``; and
    ``code``, the :func:`~mict_pipeline.sources.code_record` of the sources that trained it).

    Atomic (temporary file, then rename), and the same content gives the same bytes, also after a
    resume, so a rerun that reproduces the weights leaves a DVC-tracked file unchanged. The digest
    of the content is written with it and checked by :func:`read_checkpoint`.
    """
    payload: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "experiment": experiment.describe(),
        "code": code,
        "model": model.state_dict(),
    }
    if training is not None:
        payload["training"] = training
    payload = _canonical(payload)
    payload["content_sha256"] = _content_digest(payload)
    return write_atomic(path, functools.partial(torch.save, payload))


def _check_finite(path: Path, state_dict: dict[str, torch.Tensor]) -> None:
    """A :class:`CheckpointError` when a weight is NaN or infinite: such a model scores every video NaN."""
    bad = [name for name, tensor in state_dict.items() if tensor.is_floating_point() and not torch.isfinite(tensor).all()]
    if bad:
        raise CheckpointError(
            f"{path}: {len(bad)} weight tensor(s) hold NaN or infinite values (first: {bad[0]}), so the training that wrote "
            "it diverged; retrain it (a lower `lr:` in the experiment's recipe), or restore a good copy (`dvc checkout "
            f"{path}` if DVC tracks it)"
        )


def _code_it_would_run(path: Path) -> str | None:
    """The first callable outside torch and collections that the pickle of ``path`` (torch's zip or a
    bare pickle) names, read with :mod:`pickletools` (which runs nothing); None when it names none or
    is not readable pickle data. torch's own refusal messages differ by case and version."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                data = archive.read(next(name for name in archive.namelist() if name.endswith("data.pkl")))
        else:
            data = path.read_bytes()
        strings: list[str] = []
        for opcode, arg, _ in pickletools.genops(data):
            if opcode.name in ("GLOBAL", "INST"):  # "module name", in Python 2's names below protocol 3
                module, _, attribute = arg.partition(" ")
                name = f"{_compat_pickle.IMPORT_MAPPING.get(module, module)}.{attribute}"
            elif opcode.name == "STACK_GLOBAL":  # module and name pushed as the last two strings
                name = ".".join(strings[-2:])
            else:
                if isinstance(arg, str):
                    strings.append(arg)
                continue
            if not name.startswith(("torch.", "collections.")):
                return name
    except Exception:  # noqa: BLE001 - damaged data: not a pickle to describe
        return None
    return None


def _load_safely(path: Path) -> Any:
    """``torch.load(weights_only=True)`` with a one-line :class:`CheckpointError` for every way it fails."""
    if not path.exists():
        raise CheckpointError(f"{path}: no such file")
    if not path.is_file():
        raise CheckpointError(f"{path}: is a directory, not a checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: empty file (0 bytes), not a checkpoint")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        code = _code_it_would_run(path)
        if code:
            raise CheckpointError(
                f"{path}: refused, loading it would run code ({code}): it holds Python objects, and only weights and "
                "plain data are read from checkpoints; use a best.pt or last.pt this project wrote, or, if you trust its "
                "source, save its weights alone there (torch.save of the model's state_dict)"
            ) from None
        raise CheckpointError(f"{path}: not a PyTorch checkpoint (unreadable pickle data)") from None
    except Exception:  # noqa: BLE001 - torch raises many types for a file that is not its format
        with path.open("rb") as f:
            zipped = f.read(4) == b"PK\x03\x04"  # torch.save writes a zip archive
        what = "truncated or damaged (its zip archive cannot be read)" if zipped else "not a PyTorch checkpoint"
        raise CheckpointError(f"{path}: {what}") from None


def read_checkpoint(path: str | os.PathLike, *, arch: str | None = None, version: str = "v1") -> Checkpoint:
    """Read a checkpoint of this project (``arch`` not needed) or of the original MiCT-Net-PyTorch
    (``arch`` names its architecture; ``version`` its temporal strides, v1 or v2).

    Raises :class:`CheckpointError`, naming the file, for a missing, empty, truncated or foreign
    file, one that would run code when opened, one of a newer format version, and an original
    checkpoint whose architecture was not named.
    """
    path = Path(path)
    payload = _load_safely(path)
    if not isinstance(payload, dict):
        raise CheckpointError(f"{path}: holds a {type(payload).__name__}, not a checkpoint (a dict with weights)")
    if payload.get("format") == FORMAT:
        version_found = payload.get("format_version")
        if not isinstance(version_found, int) or version_found > FORMAT_VERSION:
            raise CheckpointError(
                f"{path}: checkpoint format version {version_found!r}, but this mict-pipeline reads versions up to "
                f"{FORMAT_VERSION}; upgrade mict-pipeline to read it"
            )
        if version_found >= 2 and payload.pop("content_sha256", None) != _content_digest(payload):
            raise CheckpointError(
                f"{path}: damaged, its content does not match the digest written with it; restore it (`dvc checkout {path}` "
                "if DVC tracks it, or copy it again) or retrain the run"
            )
        try:
            experiment = Experiment.from_description(payload.get("experiment"))
        except ValueError as error:
            raise CheckpointError(f"{path}: invalid experiment description: {error}") from None
        _check_finite(path, payload["model"])
        return Checkpoint(path, experiment, payload["model"], payload.get("training"), payload.get("code"))
    if "state_dict" in payload:
        if arch is None:
            raise CheckpointError(
                f"{path}: not a mict-pipeline checkpoint; if it is an original MiCT-Net-PyTorch checkpoint, "
                "name its architecture (--arch mict_resnet18, mict_resnet34, resnet3d_18 or resnet3d_34)"
            )
        return _original_checkpoint(path, payload["state_dict"], arch, version)
    raise CheckpointError(
        f"{path}: not a mict-pipeline checkpoint (no {FORMAT!r} format tag"
        f"{', written by an older mict-pipeline: retrain it' if 'model' in payload or 'epoch' in payload else ''})"
    )


def describe_source(path: str | os.PathLike) -> dict[str, Any]:
    """What a fine-tuning run starts from (``model.init_from``), for its summary and the report: the
    checkpoint's path and SHA-256, and the experiment, dataset, class count, split and epochs (its
    pretraining budget) it holds."""
    source = read_checkpoint(path)
    experiment = source.experiment
    return {
        "path": str(path),
        "sha256": file_digest(path),
        "experiment": experiment.name,
        "arch": experiment.arch,
        "dataset": experiment.dataset.name,
        "classes": experiment.num_classes,
        "split": experiment.split,
        "epochs": experiment.recipe.epochs_to_run,
    }


def _original_checkpoint(path: Path, state_dict: dict[str, torch.Tensor], arch: str, version: str) -> Checkpoint:
    _check_finite(path, state_dict)
    family = architecture_family(arch)
    state_dict = rename_keys(state_dict, family)
    options: dict[str, Any] = {}
    if family == "mict":
        stem = state_dict.get("stem.stem_3d.0.weight")
        options = {"version": version, "first_kernel_depth": int(stem.shape[2]) if stem is not None else 7}
    experiment = Experiment(
        name=path.stem,
        arch=arch,
        model=ModelOptions.model_validate(options),
        dataset=DatasetSpec(name="UCF-101", class_names=UCF101_CLASS_NAMES),
    )
    return Checkpoint(path, experiment, state_dict)


def load_checkpoint(path: str | os.PathLike, *, arch: str | None = None, version: str = "v1") -> tuple[nn.Module, Experiment]:
    """The model (eval mode, on the CPU) and its experiment, from ``best.pt``, ``last.pt`` or an
    original checkpoint with ``arch`` named (see :func:`read_checkpoint`)."""
    checkpoint = read_checkpoint(path, arch=arch, version=version)
    return checkpoint.build_model(), checkpoint.experiment


def import_seed_checkpoint(path: str | os.PathLike, arch: str, version: str = "v1") -> nn.Module:
    """The model of an original MiCT-Net-PyTorch checkpoint (``arch`` and ``version`` name what it
    is), in eval mode; its key names map one to one onto this project's modules."""
    path = Path(path)
    payload = _load_safely(path)
    if not isinstance(payload, dict) or "state_dict" not in payload:
        raise CheckpointError(f"{path}: not an original MiCT-Net-PyTorch checkpoint (no 'state_dict')")
    return _original_checkpoint(path, payload["state_dict"], arch, version).build_model()
