"""Doctests of `keras_cluster` start as the tests in `tests/` do: a fixed seed, a fresh session."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_and_clear_for_doctests(request):
    if not isinstance(request.node, pytest.DoctestItem):
        yield
        return
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()
