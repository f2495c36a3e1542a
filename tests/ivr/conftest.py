import pytest

from apps.queues.models import Queue


@pytest.fixture
def queues(db):
    return {name: Queue.objects.get_or_create(name=name)[0] for name in ("Sales", "Billing", "Technical")}
