"""Abstract base models."""

from __future__ import annotations
