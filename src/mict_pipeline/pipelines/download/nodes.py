"""Nodes of the download pipeline: a thin adapter over mict_pipeline.io.download."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mict_pipeline.datasets.formats import dataset_format
from mict_pipeline.io.archives import require_archive
from mict_pipeline.io.digest import file_digest
from mict_pipeline.io.download import download_file
from mict_pipeline.parameters.download import DownloadParams

log = logging.getLogger(__name__)


def download_archives(download: DownloadParams, dataset: dict[str, Any], archives_dir: str) -> dict[str, Any]:
    """Fetch the archives of ``download.archives`` that ``dataset`` reads into ``archives_dir``.

    An archive already present and valid is not fetched again, unless its unpinned source changed
    since. Each must be a ZIP or RAR archive by content (a web page saved in its place stops here,
    naming its key). Returns a manifest of paths, sizes and SHA-256 digests (measured when unpinned).
    ``archives_dir`` is made also when the dataset reads no archive (local folders): it is the
    download stage's DVC output.
    """
    Path(archives_dir).mkdir(parents=True, exist_ok=True)
    manifest = {}
    for name in sorted(dataset_format(dataset).archives()):
        spec = download.archives[name]
        dest = Path(archives_dir) / spec.filename
        download_file(
            spec.urls[0],
            dest,
            mirrors=spec.urls[1:],
            sha256=spec.sha256,
            md5=spec.md5,
            size=spec.size,
            retries=download.retries,
            timeout=download.timeout,
            ca_bundle=download.ca_bundle,
        )
        require_archive(dest, key=f"download.archives.{name}")
        manifest[name] = {"path": str(dest), "bytes": dest.stat().st_size, "sha256": spec.sha256 or file_digest(dest, "sha256")}
        log.info("%s: %s (%s bytes, sha256 %s)", name, dest, f"{manifest[name]['bytes']:,}", manifest[name]["sha256"])
    return manifest
