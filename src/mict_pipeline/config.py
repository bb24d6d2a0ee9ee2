"""Reading parameter blocks with errors that name the missing or unknown key and where to fix it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class ConfigError(KeyError):
    """A parameter is missing, unknown or invalid; the message names the key and the fix."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0])


def require(block: Mapping[str, Any], keys: Iterable[str], name: str, conf_file: str) -> None:
    """Raise ConfigError naming ``name.key`` for each of ``keys`` missing from ``block``."""
    if not isinstance(block, Mapping):
        raise ConfigError(f"parameter '{name}' must be a mapping, got {block!r}; fix it in {conf_file}")
    missing = [k for k in keys if k not in block]
    if missing:
        raise ConfigError(
            f"parameter(s) {', '.join(f'{name}.{k}' for k in missing)} missing; add them to {conf_file} "
            f"(or your environment's copy of it)"
        )


def reject_unknown(block: Mapping[str, Any], allowed: Iterable[str], name: str, conf_file: str) -> None:
    """Raise ConfigError naming keys of ``block`` that are not in ``allowed``."""
    unknown = sorted(set(block) - set(allowed))
    if unknown:
        raise ConfigError(f"unknown parameter(s) {', '.join(f'{name}.{k}' for k in unknown)} in {conf_file}; valid keys: {sorted(allowed)}")
