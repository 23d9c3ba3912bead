"""Jinja2 templates of the reports, installed as the package ``accuse.templates``."""
