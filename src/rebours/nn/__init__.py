"""rebours.nn: neural-network building blocks; so far the functional activations."""

from . import functional

__all__ = ["functional"]
