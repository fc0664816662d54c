"""Sliding windows for NumPy-like libraries (NumPy, CuPy): a strided view for
im2col, slice-wise in-place adds for col2im. ``lib`` is the library module."""

from __future__ import annotations


def im2col(lib, x, kernel, stride, padding, dilation, pad_value=0.0):
    """Patches of NCHW ``x`` as a view ``(N, C, kH, kW, oH, oW)`` of the padded input."""
    kh, kw = kernel
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    if ph or pw:
        x = lib.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    n, c, h, w = x.shape
    oh = (h - dh * (kh - 1) - 1) // sh + 1
    ow = (w - dw * (kw - 1) - 1) // sw + 1
    s0, s1, s2, s3 = x.strides
    return lib.lib.stride_tricks.as_strided(
        x, shape=(n, c, kh, kw, oh, ow), strides=(s0, s1, s2 * dh, s3 * dw, s2 * sh, s3 * sw)
    )


def col2im(lib, cols, input_shape, kernel, stride, padding, dilation):
    """Adjoint of :func:`im2col`: each kernel offset's patch values added in place."""
    n, c, h, w = input_shape
    kh, kw = kernel
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    oh, ow = cols.shape[4], cols.shape[5]
    out = lib.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            hi, wj = i * dh, j * dw
            out[:, :, hi : hi + sh * (oh - 1) + 1 : sh, wj : wj + sw * (ow - 1) + 1 : sw] += cols[:, :, i, j]
    return out[:, :, ph : ph + h, pw : pw + w]
