from tests.ivr.conftest import queues  # noqa: F401  (the same queues fixture)
