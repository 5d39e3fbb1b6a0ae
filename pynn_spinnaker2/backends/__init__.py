"""Backends: what executes a MachineImage (the built-in emulator; hardware later)."""
