"""System checks of the core part."""

from __future__ import annotations
