"""The scaffold behind `manage.py startintegration`: a new service's files from templates, registered, all or nothing."""
from .build import Created, Layout, plan, scaffold
from .names import AUTH_CHOICES, Names, names_for
from .render import Options

__all__ = ["AUTH_CHOICES", "Created", "Layout", "Names", "Options", "names_for", "plan", "scaffold"]
