"""The HTTP API and web pages (FastAPI, server-rendered Jinja2): ``tipstaff serve``."""
