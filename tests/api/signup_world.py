"""The world as the sign-up statement and driver tests import it; every other test takes the
``world`` fixture (``tests.world``)."""

from tests.world import World, make_world

__all__ = ["World", "make_world"]
