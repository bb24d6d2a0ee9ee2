"""The source files a module's code runs, and their digest: one record wherever the project lies,
naming the files that changed."""

from __future__ import annotations

import shutil

from mict_pipeline import sources

from demo_project import ROOT


def test_source_files_follow_every_import():
    files = {p.relative_to(ROOT / "src").as_posix() for p in sources.source_files(["mict_pipeline.pipelines.download.nodes"])}
    # The download reads the dataset block (which archives), so the dataset formats are among its sources.
    assert files == {
        "mict_pipeline/config.py", "mict_pipeline/errors.py", "mict_pipeline/io/digest.py", "mict_pipeline/io/disk.py",
        "mict_pipeline/io/download.py", "mict_pipeline/parameters/download.py", "mict_pipeline/pipelines/download/nodes.py",
        "mict_pipeline/datasets/formats.py", "mict_pipeline/datasets/folder.py", "mict_pipeline/datasets/hmdb51.py",
        "mict_pipeline/datasets/kinetics.py", "mict_pipeline/datasets/ucf101.py", "mict_pipeline/io/archives.py",
        "mict_pipeline/io/atomic.py", "mict_pipeline/io/cluster.py", "mict_pipeline/io/frame_store.py", "mict_pipeline/io/workers.py",
    }


def test_the_code_record_is_the_same_elsewhere_and_names_a_changed_file(tmp_path):
    here = sources.module_code(["mict_pipeline.training.loop"])
    copies = []
    for name in here["files"]:
        copy = tmp_path / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copies.append(shutil.copyfile(ROOT / "src" / name, copy))
    assert sources.code_record(copies, tmp_path) == here  # the same code in another folder

    (tmp_path / "mict_pipeline/clips/transforms.py").open("a").write("# a comment\n")
    changed = sources.code_record(copies, tmp_path)
    assert changed["sha256"] != here["sha256"]
    assert sources.changed_files(here, changed) == ["mict_pipeline/clips/transforms.py"]
    assert sources.changed_files(here, sources.code_record(copies[1:], tmp_path)) == sorted([copies[0].relative_to(tmp_path).as_posix(), "mict_pipeline/clips/transforms.py"])
