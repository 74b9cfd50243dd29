"""The hostile-input suite drives the real stack: the e2e fixtures, shared."""

from tests.e2e.conftest import module_namespace, sink, stack, stack_settings, target

__all__ = ["module_namespace", "sink", "stack", "stack_settings", "target"]
