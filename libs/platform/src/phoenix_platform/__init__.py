"""Shared runtime for Phoenix services: settings, logging, messaging, database, lifecycle."""
