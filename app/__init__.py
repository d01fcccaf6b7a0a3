"""Tipstaff: keeps court protective orders and filing deadlines in compliance.

The installed namespace is ``tipstaff``; its sub-packages come from the repository's
top-level folders: ``tipstaff.engine`` (pure logic), ``tipstaff.rules`` (the law as data),
``tipstaff.store``, ``tipstaff.scheduler``.
"""

__version__ = "0.1.0"
