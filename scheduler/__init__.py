"""Tipstaff scheduler."""
