"""Tipstaff engine."""
