"""One checkpoint format: round trips, reproducible bytes, and one-line errors for every file that is
not a usable checkpoint, including one that would run code when opened."""

from __future__ import annotations

import collections
import io
import os
import pickle
import re
from pathlib import Path

import pytest
import torch

from mict_pipeline.checkpoint import (
    FORMAT,
    FORMAT_VERSION,
    CheckpointError,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from mict_pipeline.experiment import DatasetSpec, Experiment, ModelOptions

EXPERIMENT = Experiment(
    name="mict_resnet18_v2",
    arch="mict_resnet18",
    model=ModelOptions(version="v2", first_kernel_depth=5, width=8),
    dataset=DatasetSpec(name="three", class_names=("a", "b", "c")),
    split=2,
)


@pytest.fixture
def model(randomize_batchnorm) -> torch.nn.Module:
    torch.manual_seed(0)
    model = EXPERIMENT.build_model()
    randomize_batchnorm(model)
    return model.eval()


def test_round_trip_gives_the_model_and_its_experiment(tmp_path, model):
    path = save_checkpoint(tmp_path / "best.pt", model, EXPERIMENT)
    assert not list(tmp_path.glob(".*tmp"))  # nothing half-written left behind
    loaded, experiment = load_checkpoint(path)
    assert experiment == EXPERIMENT and not loaded.training
    x = torch.randn(1, 3, 16, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))
    assert read_checkpoint(path).training is None


def test_same_content_same_bytes_also_from_a_loaded_state(tmp_path, model):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, [3], 0.1)
    model(torch.randn(2, 3, 16, 32, 32)).sum().backward()
    optimizer.step()
    state = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "epoch": 1, "history": [{"epoch": 1}]}
    first = save_checkpoint(tmp_path / "a" / "last.pt", model, EXPERIMENT, training=state)
    # The same state as a resumed run holds it: read back from the file (other objects, equal values).
    loaded = read_checkpoint(first)
    assert loaded.training["scheduler"]["milestones"] == collections.Counter({3: 1})
    again = save_checkpoint(tmp_path / "b" / "last.pt", loaded.build_model(), EXPERIMENT, training=loaded.training)
    assert again.read_bytes() == first.read_bytes()


def test_a_damaged_copy_is_refused_in_one_line(tmp_path, model):
    """4 KiB overwritten in the middle of a copy of best.pt: torch still reads the file (its zip
    does not check the tensors' bytes), the digest written with it does not match."""
    data = bytearray(save_checkpoint(tmp_path / "best.pt", model, EXPERIMENT, code={"sha256": "0" * 64, "files": {}}).read_bytes())
    assert read_checkpoint(tmp_path / "best.pt").code == {"sha256": "0" * 64, "files": {}}
    middle = len(data) // 2
    data[middle : middle + 4096] = bytes(4096)
    copy = tmp_path / "copy" / "best.pt"
    copy.parent.mkdir()
    copy.write_bytes(data)
    torch.load(copy, weights_only=True)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(copy)
    assert str(caught.value) == (
        f"{copy}: damaged, its content does not match the digest written with it; restore it (`dvc checkout {copy}` "
        "if DVC tracks it, or copy it again) or retrain the run"
    )


def test_non_finite_weights_are_refused_also_in_a_version_1_file(tmp_path, model):
    with torch.no_grad():
        model.fc.bias[1] = float("nan")
    written = save_checkpoint(tmp_path / "best.pt", model, EXPERIMENT)
    version_1 = _payload(model=model.state_dict())  # as written before the digest: still read
    torch.save(version_1, tmp_path / "v1.pt")
    for path in (written, tmp_path / "v1.pt"):
        with pytest.raises(CheckpointError, match=rf"^{re.escape(str(path))}: 1 weight tensor\(s\) hold NaN or infinite values \(first: fc.bias\), so the training that wrote it diverged; retrain"):
            read_checkpoint(path)
    with torch.no_grad():
        model.fc.bias[1] = 0.0
    torch.save(_payload(model=model.state_dict()), tmp_path / "v1.pt")
    assert read_checkpoint(tmp_path / "v1.pt").code is None


def _payload(**changes) -> dict:
    return {"format": FORMAT, "format_version": 1, "experiment": EXPERIMENT.describe(), "model": {}, **changes}  # no digest to write


def _bad_files(tmp_path: Path, model: torch.nn.Module) -> list[tuple[Path, str]]:
    good = save_checkpoint(tmp_path / "good.pt", model, EXPERIMENT).read_bytes()
    files = {
        "text.pt": (b"just some text\n", "not a PyTorch checkpoint"),
        "empty.pt": (b"", r"empty file \(0 bytes\), not a checkpoint"),
        "truncated.pt": (good[: len(good) // 2], "truncated or damaged"),
    }
    out = []
    for name, (data, message) in files.items():
        (tmp_path / name).write_bytes(data)
        out.append((tmp_path / name, message))
    for name, payload, message in [
        ("newer.pt", _payload(format_version=FORMAT_VERSION + 1), rf"checkpoint format version {FORMAT_VERSION + 1}, but this mict-pipeline reads versions up to {FORMAT_VERSION}; upgrade"),
        ("older.pt", {"format": "mict_pipeline/checkpoint-v1", "arch": "mict_resnet18", "model": {}}, "written by an older mict-pipeline: retrain it"),
        ("list.pt", [1, 2, 3], "holds a list, not a checkpoint"),
        ("no-experiment.pt", _payload(experiment={"name": "x"}), r"experiment.arch: Field required"),
        ("original.pth.tar", {"epoch": 3, "state_dict": {}}, r"name its architecture \(--arch mict_resnet18"),
    ]:
        torch.save(payload, tmp_path / name)
        out.append((tmp_path / name, message))
    out.append((tmp_path / "missing.pt", "no such file"))
    out.append((tmp_path, "is a directory, not a checkpoint file"))
    return out


def test_every_unusable_file_gets_one_line_naming_it(tmp_path, model):
    for path, message in _bad_files(tmp_path, model):
        with pytest.raises(CheckpointError) as caught:
            read_checkpoint(path)
        text = str(caught.value)
        assert text.startswith(f"{path}: ") and "\n" not in text, text
        assert re.search(message, text), (path.name, text)


class _WritesAFile:
    """Unpickling this object calls ``exec``: it writes a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",)


class _RunsACommand:
    """Unpickling this object runs a shell command (torch names its module as blocked)."""

    def __reduce__(self):
        return os.system, ("true",)


def test_a_checkpoint_that_would_run_code_is_refused_and_runs_nothing(tmp_path, model):
    marker = tmp_path / "pwned.txt"
    path = tmp_path / "best.pt"
    torch.save({**_payload(), "model": model.state_dict(), "extra": _WritesAFile(marker)}, path)

    with pytest.raises(CheckpointError, match=r"best.pt: refused, loading it would run code \(builtins.exec\): it holds Python objects, and only weights"):
        load_checkpoint(path)
    assert not marker.exists()
    # Named whatever torch's message says: torch.save's zip, or a bare pickle of any protocol.
    torch.save({**_payload(), "extra": _RunsACommand()}, tmp_path / "command.pt")
    (tmp_path / "bare.pt").write_bytes(pickle.dumps({"extra": _RunsACommand()}, protocol=0))
    for name in ("command.pt", "bare.pt"):
        with pytest.raises(CheckpointError, match=rf"{name}: refused, loading it would run code \({os.system.__module__}.system\)"):
            load_checkpoint(tmp_path / name)

    # The payload is real: a plain torch.load(weights_only=False) would have run it.
    buffer = io.BytesIO(path.read_bytes())
    torch.load(buffer, weights_only=False)
    assert marker.read_text() == "pwned"
