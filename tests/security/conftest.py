"""The hostile-input suite runs against the real stack of the e2e tests."""

from tests.e2e.conftest import module_namespace, sink, stack, stack_settings, target

__all__ = ["module_namespace", "sink", "stack", "stack_settings", "target"]
