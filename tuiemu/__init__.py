"""tuiemu: a multi-core 32-bit ARM system emulator you can watch and debug while it runs."""
from .machine import Machine

__all__ = ["Machine"]
__version__ = "0.1.0"
