"""Reading parameter blocks with errors that name the missing or unknown key and where to fix it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")


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


def dataclass_from_params(cls: type[T], params: Mapping[str, Any], where: str) -> T:
    """Build the dataclass ``cls`` from a parameters block (YAML lists become tuples).

    Unknown keys are named with the valid ones, missing required keys by their full name.
    """
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - set(fields))
    if unknown:
        raise ConfigError(f"unknown parameter(s) {[f'{where}.{k}' for k in unknown]}; valid keys: {sorted(fields)}")
    required = [
        name for name, f in fields.items()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and name not in params
    ]
    if required:
        raise ConfigError(f"parameter(s) {[f'{where}.{k}' for k in required]} missing; add them to {where}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})
