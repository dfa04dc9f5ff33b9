"""Receivers for Django auth signals (login, logout, failed login)."""

from __future__ import annotations
