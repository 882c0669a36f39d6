"""Semantic handlers. Importing this package registers the integer handlers every program needs;
the VFP and Advanced SIMD modules register theirs when the decode-table group that names them is
first built (``vfp_group``, ``neon_groups``), which keeps them out of start-up."""
from . import branch, dataproc, loadstore, media, multiply, system, thumb

__all__ = ["branch", "dataproc", "loadstore", "media", "multiply", "system", "thumb"]
