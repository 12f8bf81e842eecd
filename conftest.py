"""pytest configuration shared by the tests and the doctests in src/rebours."""

import numpy as np
import pytest

import rebours


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["rebours"] = rebours
    doctest_namespace["np"] = np


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Tests that change the default dtype or print options must not leak into others."""
    dt = rebours.get_default_dtype()
    opts = rebours.get_printoptions()
    yield
    rebours.set_default_dtype(dt)
    rebours.set_printoptions(**{k: v for k, v in opts.items()})
