"""Files: atomic writes, verified downloads, safe archive extraction and the per-video frame store (no Kedro)."""
