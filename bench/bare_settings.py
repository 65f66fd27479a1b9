"""Bench-only settings: hi's own, with a URL conf that adds the bare receiver beside hi's URLs."""
from hi.settings import *  # noqa: F401,F403 - the same middleware, database and apps as hi

ROOT_URLCONF = "bare_urls"
