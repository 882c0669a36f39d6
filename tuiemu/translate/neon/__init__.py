"""Advanced SIMD at run time: what translated code calls on 64-bit register values.

``lanes`` has the integer element operations (ARM ARM A8.8, Advanced SIMD), ``fplanes`` the
single-precision ones under the "standard FPSCR value", ``estimate`` the reciprocal and reciprocal
square root estimates, ``perm`` the permutes and table lookups. A quadword operation is two calls,
one per doubleword half, wherever its lanes stay in their half.
"""
