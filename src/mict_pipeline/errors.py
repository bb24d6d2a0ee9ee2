"""The one base of the errors a user causes and can fix.

A :class:`UserError`'s message is one line that names the file (and line) or the parameter key, and
the fix in the YAML a user writes. Where the fix is in an environment's configuration, the message
writes ``conf/<env>/``: the command that ends with it (Kedro's hooks, ``predict``) fills in the
environment's name. Kedro runs and the project's commands print such an error alone, exit status 2,
without a traceback; any other exception keeps its traceback, as a bug should.
"""

from __future__ import annotations

ENV_PLACEHOLDER = "<env>"


class UserError(Exception):
    """Something the user can fix: the message says what, where and how."""


def for_environment(message: str, env: str | None) -> str:
    """``message`` with its ``conf/<env>/`` naming ``env``'s folder and its ``--env <env>`` the
    environment (Kedro's base when ``env`` is None)."""
    message = message.replace(f"--env {ENV_PLACEHOLDER}", f"--env {env or 'base'}")
    return message.replace(f"conf/{ENV_PLACEHOLDER}/", f"conf/{env or 'base'}/")
