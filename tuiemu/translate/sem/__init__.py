"""Semantic handlers: importing this package registers every handler the pattern tables name."""
from . import branch, dataproc, loadstore, media, multiply, system, thumb  # noqa: F401
