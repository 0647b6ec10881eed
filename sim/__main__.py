"""``python -m sim`` is the ``fraudsim`` command."""

from .cli import entry

entry()
