"""The built-in SpiNNaker 2 emulator: executes a MachineImage, and only that."""

from .emulator import Emulator

__all__ = ["Emulator"]
