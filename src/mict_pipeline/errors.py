"""The one base of the errors a user causes and can fix.

A :class:`UserError`'s message is one line that names the file (and line) or the parameter key, and
the fix in the YAML a user writes. Where the fix is in an environment's configuration, the message
writes ``conf/<env>/`` (and ``experiments.<name>`` for an experiment's key): the command that ends
with it (Kedro's hooks, ``predict``) fills in the environment's (and the experiment's) name. Kedro runs and the project's commands print such an error alone, exit status 2,
without a traceback; any other exception keeps its traceback, as a bug should.
"""

from __future__ import annotations

ENV_PLACEHOLDER = "<env>"
NAME_PLACEHOLDER = "<name>"  # in ``experiments.<name>``: the experiment a failing node trains or evaluates


class UserError(Exception):
    """Something the user can fix: the message says what, where and how."""


def for_environment(message: str, env: str | None, experiment: str | None = None) -> str:
    """``message`` with its ``conf/<env>/`` naming ``env``'s folder and its ``--env <env>`` the
    environment (Kedro's base when ``env`` is None; ``env`` may also be a phrase for a command that
    cannot know it), and its ``experiments.<name>`` the ``experiment`` when known."""
    message = message.replace(f"--env {ENV_PLACEHOLDER}", f"--env {env or 'base'}")
    if experiment:
        message = message.replace(f"experiments.{NAME_PLACEHOLDER}", f"experiments.{experiment}")
    return message.replace(f"conf/{ENV_PLACEHOLDER}/", f"conf/{env or 'base'}/")
