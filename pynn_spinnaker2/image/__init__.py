"""MachineImage: per-core regions and router tables; build, save and load."""

from .build import build_image
from .io import load_image, save_image
from .machine_image import CoreImage, CoreSlice, MachineImage

__all__ = ["CoreImage", "CoreSlice", "MachineImage", "build_image", "load_image", "save_image"]
