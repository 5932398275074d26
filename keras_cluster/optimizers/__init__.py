"""optimizers."""

__all__ = []
