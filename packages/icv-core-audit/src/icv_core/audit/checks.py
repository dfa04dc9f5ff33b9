"""System checks of the audit part."""

from __future__ import annotations
