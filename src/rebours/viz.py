"""`rebours.viz`: graph pictures (the doctor draws them; see `rebours.doctor.viz`)."""

from .doctor.viz import Graph, draw

__all__ = ["Graph", "draw"]
