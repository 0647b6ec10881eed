"""fraudsim: a discrete-event simulator of card fraud under adaptive fraudsters and delayed labels."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fraudsim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
