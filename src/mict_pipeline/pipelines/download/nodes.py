"""Nodes of the download pipeline: a thin adapter over mict_pipeline.data.download."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mict_pipeline.config import reject_unknown, require
from mict_pipeline.data.download import download_file, file_digest

log = logging.getLogger(__name__)
CONF_FILE = "conf/<env>/parameters_download.yml"
ARCHIVE_KEYS = ("filename", "urls", "sha256", "md5", "size")


def download_archives(download: dict[str, Any]) -> dict[str, Any]:
    """Fetch every archive under ``download.archives`` into ``download.dest_dir``.

    An archive already present and valid is not fetched again. Returns a manifest of paths,
    sizes and SHA-256 digests (measured, so an unpinned download is pinned from then on).
    """
    require(download, ["dest_dir", "archives"], "download", CONF_FILE)
    manifest = {}
    for name, spec in download["archives"].items():
        where = f"download.archives.{name}"
        require(spec, ["filename", "urls"], where, CONF_FILE)
        reject_unknown(spec, ARCHIVE_KEYS, where, CONF_FILE)
        urls = [spec["urls"]] if isinstance(spec["urls"], str) else list(spec["urls"])
        if not urls:
            raise ValueError(f"parameter {where}.urls is empty; give at least one URL in {CONF_FILE}")
        dest = Path(download["dest_dir"]) / spec["filename"]
        download_file(
            urls[0],
            dest,
            mirrors=urls[1:],
            sha256=spec.get("sha256"),
            md5=spec.get("md5"),
            size=spec.get("size"),
            retries=download.get("retries", 5),
            timeout=download.get("timeout", 60.0),
            ca_bundle=download.get("ca_bundle"),
        )
        manifest[name] = {"path": str(dest), "bytes": dest.stat().st_size, "sha256": spec.get("sha256") or file_digest(dest, "sha256")}
        log.info("%s: %s (%s bytes, sha256 %s)", name, dest, f"{manifest[name]['bytes']:,}", manifest[name]["sha256"])
    return manifest
