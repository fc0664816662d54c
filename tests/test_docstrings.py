"""The examples in gdl's docstrings run and print what they show (``>>>`` lines).

The CuPy modules are left out where CuPy is not installed (they import it at the top),
and ``gdl.__main__`` always (importing it runs the command line).
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil

import pytest

import gdl


def _modules():
    names = [gdl.__name__] + [m.name for m in pkgutil.walk_packages(gdl.__path__, prefix="gdl.")]
    names.remove("gdl.__main__")  # importing it runs the command line
    if importlib.util.find_spec("cupy") is None:
        names = [n for n in names if not n.startswith("gdl.backends.cupy")]
    return names


MODULES = _modules()


def test_the_walk_finds_the_modules_with_examples():
    assert {"gdl.tensor", "gdl.nn.module", "gdl.nn.functional.loss"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    with gdl.use_backend("numpy"):
        failed, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                                    verbose=False, report=True)
    assert failed == 0, f"{failed} docstring example(s) in {name} failed (see the output above)"
