"""Service apps: one Django app per provider, each following the integration contract."""
