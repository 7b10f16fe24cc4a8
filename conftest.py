import pytest

import matcalc


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["mc"] = matcalc
