"""Sliding windows for NumPy-like libraries (NumPy, CuPy): a strided view for
im2col, slice-wise in-place adds for col2im (and for col2im_matmul, one product per
kernel offset). ``lib`` is the library module."""

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


def col2im_matmul(lib, a, b, input_shape, kernel, stride, padding, dilation):
    """``col2im`` of the patches ``a @ b`` (see ``Backend.col2im_matmul``), one kernel offset
    at a time: each offset's product is added in place, and the full patch array
    ``(N, C, kH, kW, oH, oW)`` is never made."""
    n, c, h, w = input_shape
    kh, kw = kernel
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    groups, m, oh, ow = b.shape[1:]
    taps = a.reshape(groups, c // groups, kh, kw, m)
    b = b.reshape(n, groups, m, oh * ow)
    out = lib.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=lib.result_type(a, b))
    for i in range(kh):
        for j in range(kw):
            tap = taps[:, :, i, j, :]
            if tap.shape[1] == m == 1:  # one input and one output channel per group: a product
                part = tap.reshape(1, groups, 1) * b[:, :, 0, :]
            else:
                part = lib.ascontiguousarray(tap) @ b
            hi, wj = i * dh, j * dw
            out[:, :, hi : hi + sh * (oh - 1) + 1 : sh, wj : wj + sw * (ow - 1) + 1 : sw] += part.reshape(n, c, oh, ow)
    return out[:, :, ph : ph + h, pw : pw + w]
