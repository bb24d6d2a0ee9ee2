"""The prepared set's manifest: digests of its members as loaded, and the refusal of a mix."""

from __future__ import annotations

import pandas as pd
import pytest

from mict_pipeline.datasets.prepared import MixedPrepareError, check_same_prepare, fingerprint
from mict_pipeline.errors import UserError, for_environment

SPEC = {"name": "mine", "class_names": ["a", "b"]}
TABLE = pd.DataFrame({"video": ["a/1", "b/2"], "n_frames": [16, 20]})


def test_the_members_of_one_prepare_pass_and_a_member_of_another_is_named():
    manifest = fingerprint({"dataset_spec": SPEC, "split_1.test_index": TABLE})
    check_same_prepare(manifest, {"dataset_spec": dict(reversed(SPEC.items())), "split_1.test_index": TABLE.copy()})  # key order aside
    other = {**SPEC, "class_names": ["a", "b", "c"]}
    with pytest.raises(MixedPrepareError, match=r"^dataset_spec not from the prepare that wrote 05_model_input/prepared.json") as mixed:
        check_same_prepare(manifest, {"dataset_spec": other, "split_1.test_index": TABLE})
    assert isinstance(mixed.value, UserError)
    message = for_environment(str(mixed.value), "mine")
    assert message.endswith("rerun `kedro run --env mine --pipelines=prepare`") and "\n" not in message
    with pytest.raises(MixedPrepareError, match=r"^split_1.test_index not from"):
        check_same_prepare(manifest, {"split_1.test_index": TABLE.iloc[:1]})
    with pytest.raises(MixedPrepareError, match=r"^split_2.test_index not from"):  # not in the manifest at all
        check_same_prepare(manifest, {"split_2.test_index": TABLE})
