"""The ``array_api_strict`` backend: the conformance check.

It implements the Array API and nothing else, so running the whole test suite on
it proves that no NumPy-ism leaked out of ``gdl/backends/``. Random numbers are
drawn on the host with NumPy and copied in.
"""

from __future__ import annotations

import array_api_strict
import numpy as np

from gdl.backends.base import Backend
from gdl.backends.numpy_backend import _host_layout


class StrictBackend(Backend):
    name = "array_api_strict"

    def __init__(self):
        super().__init__(array_api_strict, device=None)
        self._rng = np.random.default_rng()

    def is_array(self, obj) -> bool:
        return isinstance(obj, array_api_strict._array_object.Array)

    def memory_owner(self, array) -> int:
        """The NumPy array inside (array_api_strict wraps one), followed to its base."""
        inner = array._array
        while inner.base is not None:
            inner = inner.base
        return id(inner)

    def layout(self, array) -> tuple:
        """The layout of the NumPy array inside."""
        return _host_layout(array._array)

    def from_host(self, array, dtype=None):
        return array_api_strict.asarray(np.asarray(array), dtype=dtype, copy=True)

    def _put(self, host):
        return array_api_strict.asarray(host)

    def seed(self, seed):
        self._rng = np.random.default_rng(seed)

    def get_rng_state(self):
        return self._rng.bit_generator.state

    def set_rng_state(self, state):
        self._rng.bit_generator.state = state

    def uniform(self, shape, low=0.0, high=1.0, dtype=None):
        dtype = np.float64 if dtype == array_api_strict.float64 else np.float32
        return self._put(self._rng.uniform(low, high, shape).astype(dtype))

    def normal(self, shape, mean=0.0, std=1.0, dtype=None):
        dtype = np.float64 if dtype == array_api_strict.float64 else np.float32
        return self._put(self._rng.normal(mean, std, shape).astype(dtype))

    def integers(self, low, high, shape, dtype=None):
        return self._put(self._rng.integers(low, high, shape, dtype=np.int64))

    def permutation(self, n):
        return self._put(self._rng.permutation(n))

    def poisson(self, rates):
        lam = self.to_host(rates).astype(np.float64)
        return self._put(np.asarray(self._rng.poisson(lam), dtype=np.int64))
