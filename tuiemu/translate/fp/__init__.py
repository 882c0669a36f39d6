"""Floating point for the VFP and Advanced SIMD front end.

``softfloat`` is the exact reference (the ARM ARM's FPUnpack/FPRound and the operations built on
them, over Python integers); ``vfpops`` and ``neonops`` are what translated code calls: fast paths
on host doubles where they are provably exact, the reference everywhere else.
"""
