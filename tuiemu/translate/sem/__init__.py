"""Semantic handlers: importing this package registers every handler the pattern tables name."""
from . import branch, dataproc, loadstore, media, system  # noqa: F401
