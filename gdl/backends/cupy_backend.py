"""The CuPy backend (NVIDIA GPUs)."""

from __future__ import annotations

import array_api_compat
import cupy

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

    def is_array(self, obj) -> bool:
        return isinstance(obj, cupy.ndarray)

    def from_host(self, array, dtype=None):
        return cupy.array(array, dtype=dtype)

    def to_host(self, array):
        return cupy.asnumpy(array)

    def synchronize(self):
        cupy.cuda.get_current_stream().synchronize()

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

    def uniform(self, shape, low=0.0, high=1.0, dtype=None):
        dtype = dtype or cupy.float32
        out = self._rng.random(shape, dtype=dtype)
        if low != 0.0 or high != 1.0:
            out = out * (high - low) + low
        return out

    def normal(self, shape, mean=0.0, std=1.0, dtype=None):
        dtype = dtype or cupy.float32
        out = self._rng.standard_normal(shape, dtype=dtype)
        if std != 1.0 or mean != 0.0:
            out = out * std + mean
        return out

    def integers(self, low, high, shape, dtype=None):
        return self._rng.integers(low, high, shape, dtype=dtype or cupy.int64)

    def permutation(self, n):
        return self._rng.permutation(n)

    def bernoulli(self, p, shape, dtype=None):
        return (self._rng.random(shape, dtype=cupy.float32) < p).astype(dtype or cupy.float32)

    def scatter_add(self, target_shape, index, values):
        out = cupy.zeros(target_shape, dtype=values.dtype)
        cupy.add.at(out, index, values)  # accumulates repeated indices (cupyx.scatter_add is deprecated)
        return out

    def im2col(self, x, kernel, stride, padding, dilation, pad_value=0.0):
        kh, kw = kernel
        sh, sw = stride
        ph, pw = padding
        dh, dw = dilation
        if ph or pw:
            x = cupy.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
        n, c, h, w = x.shape
        oh = (h - dh * (kh - 1) - 1) // sh + 1
        ow = (w - dw * (kw - 1) - 1) // sw + 1
        s0, s1, s2, s3 = x.strides
        view = cupy.lib.stride_tricks.as_strided(
            x, shape=(n, c, kh, kw, oh, ow), strides=(s0, s1, s2 * dh, s3 * dw, s2 * sh, s3 * sw)
        )
        return cupy.ascontiguousarray(view)

    def col2im(self, cols, input_shape, kernel, stride, padding, dilation):
        n, c, h, w = input_shape
        kh, kw = kernel
        sh, sw = stride
        ph, pw = padding
        dh, dw = dilation
        oh, ow = cols.shape[4], cols.shape[5]
        out = cupy.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
        for i in range(kh):
            for j in range(kw):
                hi, wj = i * dh, j * dw
                out[:, :, hi : hi + sh * (oh - 1) + 1 : sh, wj : wj + sw * (ow - 1) + 1 : sw] += cols[:, :, i, j]
        return out[:, :, ph : ph + h, pw : pw + w]


def describe_device() -> str:
    """The current GPU's name and memory, e.g. 'NVIDIA H100 80GB HBM3, 79.1 GiB'."""
    dev = cupy.cuda.Device()
    props = cupy.cuda.runtime.getDeviceProperties(dev.id)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    free, total = dev.mem_info
    return f"{name}, {total / 2**30:.1f} GiB ({free / 2**30:.1f} GiB free)"
