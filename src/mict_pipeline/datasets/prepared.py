"""The prepared set's fingerprint: which prepare made the tables and description a run reads.

``prepare`` publishes its set (the dataset description, the frame index, the split tables, the
data-quality report and split summary) only once the data-quality check has passed, but one file
after another: Kedro saves a node's outputs one by one, so a run stopped between two saves leaves
new files beside old ones. The last step therefore writes a manifest, :func:`fingerprint`, with a
digest of each member as read back from disk; training and evaluation digest what they read and
:func:`check_same_prepare` refuses a mix.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from mict_pipeline.errors import ENV_PLACEHOLDER, UserError

MANIFEST = "05_model_input/prepared.json"
PREPARE_COMMAND = f"kedro run --env {ENV_PLACEHOLDER} --pipelines=prepare"


class MixedPrepareError(UserError):
    """Inputs of a run come from different prepares (or one that did not finish)."""


def content_digest(data: pd.DataFrame | Mapping[str, Any]) -> str:
    """SHA-256 of a table (as CSV) or of JSON data (keys sorted): the same for the same content as loaded."""
    if isinstance(data, pd.DataFrame):
        payload = data.to_csv(index=False)
    else:
        payload = json.dumps(data, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def fingerprint(members: Mapping[str, pd.DataFrame | Mapping[str, Any]]) -> dict[str, Any]:
    """The manifest of a prepared set: each member's :func:`content_digest` by its catalog name."""
    return {"members": {name: content_digest(data) for name, data in sorted(members.items())}}


def check_same_prepare(manifest: Mapping[str, Any], members: Mapping[str, pd.DataFrame | Mapping[str, Any]]) -> None:
    """Raise :class:`MixedPrepareError` unless every member (by catalog name) is the one ``manifest`` records."""
    recorded = manifest.get("members", {})
    mixed = [name for name, data in members.items() if recorded.get(name) != content_digest(data)]
    if mixed:
        raise MixedPrepareError(
            f"{', '.join(mixed)} not from the prepare that wrote {MANIFEST} (a prepare that stopped part-way, "
            f"or files changed by hand), so the run would mix two datasets: rerun `{PREPARE_COMMAND}`"
        )
