from tests.e2e.conftest import module_namespace, stack, stack_settings  # noqa: F401
