"""The hostile-input suite drives the real stack: the e2e fixtures, shared."""

from tests.e2e.conftest import module_namespace, stack, stack_settings

__all__ = ["module_namespace", "stack", "stack_settings"]
