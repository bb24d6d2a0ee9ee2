"""Parameter blocks as frozen Pydantic models whose errors name the key path and the valid keys.

Every block of ``conf/*/parameters*.yml`` (and every part of an experiment) is a :class:`Params`
subclass. Kedro validates a node's ``params:`` inputs against the models in the node's type hints
before any node runs (``kedro.validation``), calling :meth:`Params.model_validate`; the same
models serve the library, where a block is built from a plain dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from mict_pipeline.errors import UserError


class ParameterError(UserError, ValueError):
    """A parameter block is invalid; the message names each key path, what is wrong and the valid keys."""


def describe_errors(error: ValidationError, where: str) -> str:
    """One line per problem of ``error``: ``<where>.<key path>: <what is wrong>``."""
    lines = []
    for item in error.errors(include_url=False):
        path = ".".join(str(part) for part in (where, *item["loc"]) if part != "")
        message = item["msg"].removeprefix("Value error, ")
        got = item.get("input")
        if item["type"] not in ("value_error", "missing") and not isinstance(got, (Mapping, list, tuple)):
            message += f" (got {got!r})"
        lines.append(f"{path or 'parameters'}: {message}")
    return "; ".join(lines)


class Params(BaseModel):
    """A frozen block of parameters; an unknown key is refused with the valid ones named."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in cls.model_fields)
            if unknown:
                raise ValueError(f"unknown key {', '.join(map(repr, unknown))}; valid keys: {', '.join(cls.model_fields)}")
        return data

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, where: str = "", **kwargs: Any) -> Any:
        """Validate ``obj``; a :class:`ParameterError` lists every problem in one line,
        each as ``<where>.<key path>: <what is wrong>``."""
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as error:
            raise ParameterError(describe_errors(error, where)) from None

    def explicit(self) -> dict[str, Any]:
        """The fields that were given explicitly (not left to their defaults), as plain data."""
        return self.model_dump(include=self.model_fields_set)

    def updated(self, overrides: Params) -> Params:
        """This block with the fields ``overrides`` gives explicitly replacing its own."""
        return type(self).model_validate({**self.explicit(), **overrides.explicit()})
