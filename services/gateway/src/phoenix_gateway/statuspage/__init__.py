"""Public status pages: the view, its cache, HTML and badges, passwords and unlocking."""
