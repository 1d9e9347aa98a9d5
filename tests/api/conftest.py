import pytest

from tests.api.attendance_world import Running, running_event
from tests.world import World


@pytest.fixture
async def running(world: World) -> Running:
    """An event of the world's station under way: check-in open, two people confirmed, one not."""
    return await running_event(world)
