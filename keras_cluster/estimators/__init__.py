"""estimators."""

__all__ = []
