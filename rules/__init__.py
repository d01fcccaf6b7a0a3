"""Tipstaff rules."""
