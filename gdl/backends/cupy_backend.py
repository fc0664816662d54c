"""The CuPy backend (NVIDIA GPUs)."""

from __future__ import annotations

import array_api_compat
import cupy

from gdl.backends import strided
from gdl.backends.base import Backend


class CupyBackend(Backend):
    name = "cupy"

    def __init__(self):
        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError("CuPy found no CUDA GPU")
        super().__init__(array_api_compat.array_namespace(cupy.empty(0)), device=cupy.cuda.Device())
        self._rng = cupy.random.default_rng()
        self._seed = None
        from gdl.backends import cupy_kernels

        self.fused = cupy_kernels.load()
        self.drop_fused_turned_off()

    def is_array(self, obj) -> bool:
        return isinstance(obj, cupy.ndarray)

    def from_host(self, array, dtype=None):
        return cupy.array(array, dtype=dtype, order="C")  # row-major, as the NumPy backend

    def copy(self, array):
        return cupy.array(array, copy=True, order="C")

    def to_host(self, array):
        return cupy.asnumpy(array)

    def synchronize(self):
        cupy.cuda.get_current_stream().synchronize()

    # -- gdl.cuda's queries --
    def device_count(self) -> int:
        return cupy.cuda.runtime.getDeviceCount()

    def device_name(self) -> str:
        name = cupy.cuda.runtime.getDeviceProperties(self.device.id)["name"]
        return name.decode() if isinstance(name, bytes) else name

    def memory_allocated(self) -> int:
        """Bytes of CuPy's default pool in use by arrays."""
        return cupy.get_default_memory_pool().used_bytes()

    def memory_reserved(self) -> int:
        """Bytes CuPy's default pool holds (in use plus cached)."""
        return cupy.get_default_memory_pool().total_bytes()

    def empty_cache(self) -> None:
        cupy.get_default_memory_pool().free_all_blocks()

    def seed(self, seed):
        self._seed = seed
        self._rng = cupy.random.default_rng(seed)

    def get_rng_state(self):
        # CuPy's generators expose no portable state; a checkpoint records the seed
        # and the number of draws is not tracked, so resumed GPU runs re-seed.
        return {"seed": self._seed}

    def set_rng_state(self, state):
        if state.get("seed") is not None:
            self.seed(state["seed"])

    def fork_rng(self):
        """The generator and a device copy of its cuRAND states (about 13 MB on an H100):
        unlike :meth:`get_rng_state`, this restores the stream's position."""
        states = getattr(self._rng.bit_generator, "_state", None)
        return self._seed, self._rng, None if states is None else states.copy()

    def restore_rng(self, snapshot):
        seed, rng, states = snapshot
        self._seed, self._rng = seed, rng
        if states is not None:
            rng.bit_generator._state[...] = states

    def uniform(self, shape, low=0.0, high=1.0, dtype=None):
        dtype = dtype or cupy.float32
        if dtype == cupy.float16:  # CuPy's generator draws float32/float64 only
            return self.uniform(shape, low, high, cupy.float32).astype(cupy.float16)
        out = self._rng.random(shape, dtype=dtype)
        if low != 0.0 or high != 1.0:
            out = out * (high - low) + low
        return out

    def normal(self, shape, mean=0.0, std=1.0, dtype=None):
        dtype = dtype or cupy.float32
        if dtype == cupy.float16:  # CuPy's generator draws float32/float64 only
            return self.normal(shape, mean, std, cupy.float32).astype(cupy.float16)
        out = self._rng.standard_normal(shape, dtype=dtype)
        if std != 1.0 or mean != 0.0:
            out = out * std + mean
        return out

    def integers(self, low, high, shape, dtype=None):
        return self._rng.integers(low, high, shape, dtype=dtype or cupy.int64)

    def permutation(self, n):
        # CuPy's Generator has no permutation(): the order that sorts n uniform draws is one
        return cupy.argsort(self._rng.random(n, dtype=cupy.float64))

    def bernoulli(self, p, shape, dtype=None):
        return (self._rng.random(shape, dtype=cupy.float32) < p).astype(dtype or cupy.float32)

    def poisson(self, rates):
        return self._rng.poisson(rates.astype(cupy.float64, copy=False))  # int64

    def scatter_add(self, target_shape, index, values):
        out = cupy.zeros(target_shape, dtype=values.dtype)
        cupy.add.at(out, index, values)  # accumulates repeated indices (cupyx.scatter_add is deprecated)
        return out

    def coalesce_rows(self, index, values):
        uniq, inverse = cupy.unique(index, return_inverse=True)
        sums = cupy.zeros((uniq.shape[0],) + tuple(values.shape[1:]), dtype=values.dtype)
        cupy.add.at(sums, inverse.reshape(-1), values)
        return uniq, sums

    def index_add(self, target, index, values, in_place=True):
        out = target if in_place else target.copy()
        cupy.add.at(out, index, values)  # atomic adds: repeated rows accumulate
        return out

    def fmod(self, a, b):
        return cupy.fmod(a, b)  # exact, as C's

    def memory_owner(self, array) -> int:
        while array.base is not None:
            array = array.base
        return id(array)

    def sigmoid(self, a):
        return 1.0 / (1.0 + cupy.exp(-a))  # exp's overflow to inf gives the right 0, silently

    def layout(self, array) -> tuple:
        owner = array
        while owner.base is not None:
            owner = owner.base
        size = array.itemsize
        address = array.data.ptr
        return tuple(s // size for s in array.strides), (address - owner.data.ptr) // size, address

    def put_rows(self, target, index, rows):
        target[index] = rows
        return target

    def einsum(self, subscripts, *arrays):
        return cupy.einsum(subscripts, *arrays)

    def im2col(self, x, kernel, stride, padding, dilation, pad_value=0.0):
        view = strided.im2col(cupy, x, kernel, stride, padding, dilation, pad_value)
        return cupy.ascontiguousarray(view)

    def col2im(self, cols, input_shape, kernel, stride, padding, dilation):
        return strided.col2im(cupy, cols, input_shape, kernel, stride, padding, dilation)


def describe_device() -> str:
    """The current GPU's name and memory, e.g. 'NVIDIA H100 80GB HBM3, 79.1 GiB'."""
    dev = cupy.cuda.Device()
    props = cupy.cuda.runtime.getDeviceProperties(dev.id)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    free, total = dev.mem_info
    return f"{name}, {total / 2**30:.1f} GiB ({free / 2**30:.1f} GiB free)"
