from tests.petitions.conftest import petition  # noqa: F401
