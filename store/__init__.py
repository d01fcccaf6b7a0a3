"""Tipstaff store."""
