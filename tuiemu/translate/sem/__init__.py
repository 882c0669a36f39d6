"""Semantic handlers: importing this package registers every handler the pattern tables name."""
from . import branch, dataproc, loadstore, media, multiply, neon_dp, neon_mem, neon_misc, system, thumb, vfp, vfp_move  # noqa: F401
