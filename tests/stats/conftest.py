import pytest

from tests.stats.scenario import Scenario, make_scenario
from tests.world import World


@pytest.fixture
async def scenario(world: World) -> Scenario:
    """The world with a fixed history of events, attendance and residents served."""
    return await make_scenario(world)
