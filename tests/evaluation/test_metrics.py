"""Accuracy metrics, confusion matrices and the predictions table."""

from __future__ import annotations

import io

import matplotlib.figure
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mict_pipeline.evaluation import (
    PREDICTION_COLUMNS,
    confusion_matrix,
    confusion_matrix_figure,
    confusion_matrix_table,
    metrics_from_scores,
    per_class_accuracy,
    predictions_table,
    row_normalise,
    top_confusions,
    topk_accuracy,
    topk_labels,
)

# --------------------------------------------------------------------------------------------- #
# top-k
# --------------------------------------------------------------------------------------------- #


def test_topk_known_values():
    scores = np.array(
        [
            [0.1, 0.7, 0.2],  # label 1: top-1 hit
            [0.5, 0.3, 0.2],  # label 2: rank 3
            [0.2, 0.3, 0.5],  # label 1: rank 2
            [0.6, 0.1, 0.3],  # label 0: top-1 hit
        ]
    )
    labels = np.array([1, 2, 1, 0])
    assert topk_accuracy(scores, labels, 1) == 0.5
    assert topk_accuracy(scores, labels, 2) == 0.75
    assert topk_accuracy(scores, labels, 3) == 1.0


def test_topk_ties_break_towards_lower_class_index():
    scores = np.array([[0.2, 0.4, 0.4, 0.0], [1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(topk_labels(scores, 2), [[1, 2], [0, 1]])
    # Row 0: classes 1 and 2 tie; class 1 wins top-1.
    assert topk_accuracy(scores[:1], np.array([1]), 1) == 1.0
    assert topk_accuracy(scores[:1], np.array([2]), 1) == 0.0
    assert topk_accuracy(scores[:1], np.array([2]), 2) == 1.0
    # All equal: the first k classes by index.
    assert topk_accuracy(scores[1:], np.array([3]), 3) == 0.0
    assert topk_accuracy(scores[1:], np.array([2]), 3) == 1.0


def test_topk_clamps_k_to_number_of_classes():
    scores = np.array([[0.1, 0.9, 0.0], [0.3, 0.3, 0.4]])
    labels = np.array([2, 0])
    assert topk_labels(scores, 5).shape == (2, 3)
    assert topk_accuracy(scores, labels, 5) == 1.0
    assert topk_accuracy(scores, labels, 3) == 1.0


def test_topk_rejects_bad_input():
    scores = np.zeros((2, 3))
    with pytest.raises(ValueError, match="k must be"):
        topk_accuracy(scores, np.array([0, 1]), 0)
    with pytest.raises(ValueError, match="outside"):
        topk_accuracy(scores, np.array([0, 3]), 1)
    with pytest.raises(ValueError, match="entries"):
        topk_accuracy(scores, np.array([0]), 1)
    with pytest.raises(ValueError, match="empty"):
        topk_accuracy(np.zeros((0, 3)), np.array([], dtype=int), 1)
    with pytest.raises(ValueError, match="NaN"):
        topk_accuracy(np.array([[0.0, np.nan]]), np.array([0]), 1)
    with pytest.raises(ValueError, match="2-D"):
        topk_accuracy(np.zeros(3), np.array([0]), 1)


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    n=st.integers(1, 12),
    c=st.integers(1, 8),
    k=st.integers(1, 10),
)
def test_topk_matches_brute_force(data, n, c, k):
    # Small integer scores produce many ties.
    scores = data.draw(hnp.arrays(np.int64, (n, c), elements=st.integers(0, 3))).astype(float)
    labels = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    hits = 0
    for row, label in zip(scores, labels):
        ranked = sorted(range(c), key=lambda j: (-row[j], j))
        hits += label in ranked[:k]
    assert topk_accuracy(scores, labels, k) == pytest.approx(hits / n)
    if k == 1:
        assert topk_accuracy(scores, labels, 1) == pytest.approx(np.mean(scores.argmax(axis=1) == labels))


# --------------------------------------------------------------------------------------------- #
# per class / confusion matrix
# --------------------------------------------------------------------------------------------- #


def test_per_class_accuracy_with_an_empty_class():
    labels = np.array([0, 0, 0, 2, 2])
    predicted = np.array([0, 1, 0, 2, 0])
    table = per_class_accuracy(predicted, labels, ["a", "b", "c"])
    assert list(table.columns) == ["label", "class_name", "n_videos", "correct", "accuracy"]
    assert table["label"].tolist() == [0, 1, 2]
    assert table["class_name"].tolist() == ["a", "b", "c"]
    assert table["n_videos"].tolist() == [3, 0, 2]
    assert table["correct"].tolist() == [2, 0, 1]
    assert table.loc[0, "accuracy"] == pytest.approx(2 / 3)
    assert np.isnan(table.loc[1, "accuracy"])
    assert table.loc[2, "accuracy"] == 0.5
    assert table["n_videos"].dtype == np.int64 and table["accuracy"].dtype == np.float64


def test_per_class_accuracy_rejects_labels_beyond_class_names():
    with pytest.raises(ValueError, match="outside"):
        per_class_accuracy(np.array([0]), np.array([3]), ["a", "b"])


def test_confusion_matrix_counts():
    labels = np.array([0, 0, 1, 1, 1, 2])
    predicted = np.array([0, 1, 1, 1, 2, 0])
    cm = confusion_matrix(predicted, labels, 4)
    expected = np.zeros((4, 4), dtype=np.int64)
    expected[0, 0] = 1
    expected[0, 1] = 1
    expected[1, 1] = 2
    expected[1, 2] = 1
    expected[2, 0] = 1
    np.testing.assert_array_equal(cm, expected)
    assert cm.dtype == np.int64
    assert cm.sum() == len(labels)
    np.testing.assert_array_equal(cm.sum(axis=1), np.bincount(labels, minlength=4))
    # Diagonal / row total = per-class accuracy.
    per_class = per_class_accuracy(predicted, labels, list("abcd"))
    np.testing.assert_allclose(np.diag(cm)[:3] / cm.sum(axis=1)[:3], per_class["accuracy"][:3])


def test_row_normalise_leaves_empty_rows_at_zero():
    norm = row_normalise(np.array([[1, 3], [0, 0]]))
    np.testing.assert_allclose(norm, [[0.25, 0.75], [0.0, 0.0]])


def test_confusion_matrix_table_round_trips_through_csv(tmp_path):
    cm = confusion_matrix(np.array([0, 1, 1]), np.array([0, 0, 1]), 2)
    table = confusion_matrix_table(cm, ["Walk", "Run"])
    assert list(table.index) == ["Walk", "Run"] and list(table.columns) == ["Walk", "Run"]
    path = tmp_path / "cm.csv"
    table.to_csv(path)
    back = pd.read_csv(path, index_col=0)
    np.testing.assert_array_equal(back.to_numpy(), cm)
    assert list(back.index) == ["Walk", "Run"] and list(back.columns) == ["Walk", "Run"]
    with pytest.raises(ValueError, match="class names"):
        confusion_matrix_table(cm, ["only one"])


@pytest.mark.parametrize("num_classes", [8, 101])
def test_confusion_matrix_figure_renders_without_display(num_classes):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, num_classes, 400)
    predicted = np.where(rng.random(400) < 0.6, labels, rng.integers(0, num_classes, 400))
    cm = confusion_matrix(predicted, labels, num_classes)
    names = [f"Class{i}" for i in range(num_classes)]
    fig = confusion_matrix_figure(cm, names, "split 1")
    assert isinstance(fig, matplotlib.figure.Figure)
    ax = fig.axes[0]
    assert ax.get_title() == "split 1"
    image = ax.get_images()[0].get_array()
    np.testing.assert_allclose(image, row_normalise(cm))
    assert [t.get_text() for t in ax.get_xticklabels()] == names  # every class named, also at 101
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=40)
    assert buffer.getvalue().startswith(b"\x89PNG")


def test_top_confusions_lists_the_largest_mix_ups_first():
    cm = np.array([[5, 3, 0], [1, 4, 1], [0, 3, 2]])
    table = top_confusions(cm, ["Walk", "Run", "Jump"], k=3)
    assert table.to_dict("records") == [
        {"true_class": "Walk", "predicted_class": "Run", "videos": 3, "share_of_true_class": 0.375},
        {"true_class": "Jump", "predicted_class": "Run", "videos": 3, "share_of_true_class": 0.6},
    ][::-1] + [{"true_class": "Run", "predicted_class": "Walk", "videos": 1, "share_of_true_class": 1 / 6}]


# --------------------------------------------------------------------------------------------- #
# predictions table
# --------------------------------------------------------------------------------------------- #


def _random_split(n: int = 60, c: int = 10, seed: int = 1):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, c, n)
    clip_logits = rng.normal(size=(n, c))
    clip_logits[np.arange(n), labels] += 1.0
    video_logits = clip_logits + rng.normal(scale=0.5, size=(n, c))
    video_logits[np.arange(n), labels] += 0.5
    e = np.exp(video_logits)
    video_probs = e / e.sum(axis=1, keepdims=True)
    videos = [f"Class{label}/v_Class{label}_g{i:02d}_c01" for i, label in enumerate(labels)]
    names = [f"Class{i}" for i in range(c)]
    return videos, labels, names, clip_logits, video_probs


def test_predictions_table_columns_and_values():
    videos, labels, names, clip_logits, video_probs = _random_split()
    table = predictions_table(videos, labels, names, clip_logits, video_probs)
    assert tuple(table.columns) == PREDICTION_COLUMNS
    assert table["video"].tolist() == videos
    assert table["class_name"].tolist() == [names[i] for i in labels]
    np.testing.assert_array_equal(table["clip_pred"], clip_logits.argmax(axis=1))
    np.testing.assert_array_equal(table["video_pred"], video_probs.argmax(axis=1))
    first = [int(s.split()[0]) for s in table["clip_top5"]]
    assert first == table["clip_pred"].tolist()
    assert all(len(s.split()) == 5 for s in table["video_top5"])
    # Logits are softmaxed; probabilities are kept as they are.
    e = np.exp(clip_logits - clip_logits.max(axis=1, keepdims=True))
    softmax = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(table["clip_prob"], softmax.max(axis=1))
    np.testing.assert_allclose(table["video_prob"], video_probs.max(axis=1))
    assert ((table["clip_prob"] > 0) & (table["clip_prob"] <= 1)).all()


def _table_metrics(table: pd.DataFrame) -> dict[str, float]:
    """Top-1 and top-5 accuracy as a reader of predictions.csv computes them."""
    result = {}
    for prefix in ("clip", "video"):
        top5 = [{int(c) for c in str(row).split()} for row in table[f"{prefix}_top5"]]
        result[f"{prefix}_top1"] = float((table[f"{prefix}_pred"] == table["label"]).mean())
        result[f"{prefix}_top5"] = float(np.mean([label in row for label, row in zip(table["label"], top5)]))
    return result


def test_predictions_table_round_trips_through_csv(tmp_path):
    videos, labels, names, clip_logits, video_probs = _random_split()
    expected = metrics_from_scores(clip_logits, video_probs, labels)
    assert set(expected) == {"clip_top1", "clip_top5", "video_top1", "video_top5"}
    assert all(0.0 <= v <= 1.0 for v in expected.values())
    table = predictions_table(videos, labels, names, clip_logits, video_probs)
    assert _table_metrics(table) == expected
    path = tmp_path / "predictions.csv"
    table.to_csv(path, index=False)
    back = pd.read_csv(path)
    assert tuple(back.columns) == PREDICTION_COLUMNS
    assert _table_metrics(back) == expected
    np.testing.assert_allclose(back["clip_prob"], table["clip_prob"])


def test_predictions_table_with_fewer_than_five_classes_and_one_class(tmp_path):
    labels = np.array([0, 1, 2])
    scores = np.eye(3)[[0, 2, 2]]
    table = predictions_table(["a", "b", "c"], labels, ["x", "y", "z"], scores, scores)
    assert table["clip_top5"].tolist() == ["0 1 2", "2 0 1", "2 0 1"]
    assert _table_metrics(table) == {"clip_top1": 2 / 3, "clip_top5": 1.0, "video_top1": 2 / 3, "video_top5": 1.0}
    # One class: the top-5 column is a bare integer once read back from CSV.
    single = predictions_table(["a", "b"], [0, 0], ["x"], np.ones((2, 1)), np.ones((2, 1)))
    single.to_csv(tmp_path / "one.csv", index=False)
    back = pd.read_csv(tmp_path / "one.csv")
    assert _table_metrics(back) == {"clip_top1": 1.0, "clip_top5": 1.0, "video_top1": 1.0, "video_top5": 1.0}


def test_predictions_table_rejects_mismatches():
    scores = np.zeros((2, 3))
    with pytest.raises(ValueError, match="class names"):
        predictions_table(["a", "b"], [0, 1], ["x", "y"], scores, scores)
    with pytest.raises(ValueError, match="videos"):
        predictions_table(["a"], [0, 1], ["x", "y", "z"], scores, scores)
    with pytest.raises(ValueError, match="differ in shape"):
        predictions_table(["a", "b"], [0, 1], ["x", "y", "z"], scores, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="normalise"):
        predictions_table(["a", "b"], [0, 1], ["x", "y", "z"], scores, scores, normalise="bogus")
