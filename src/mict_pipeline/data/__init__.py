"""Data: download, archives, frame store, UCF-101 split lists, synthetic dataset, clips (no Kedro)."""
