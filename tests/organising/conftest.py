# The back office's tests share the petitions tests' clock and petition.
from tests.petitions.conftest import _london_clock, petition, sign  # noqa: F401
