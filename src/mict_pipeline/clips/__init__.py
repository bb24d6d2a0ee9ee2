"""Clips (no Kedro): the clip recipe (:mod:`.config`), frame sampling (:mod:`.sampling`), the
original's augmentation in the loader workers (:mod:`.transforms`, :mod:`.dataset`) or on the
training device (:mod:`.device`), and normalisation. Nothing is imported here, so reading the clip
recipe does not load torch."""
