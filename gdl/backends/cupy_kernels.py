"""Fused CuPy kernels: fewer, larger GPU launches for the hot ops.

Plain CuPy pays ~10-20 us of launch overhead per elementwise op, so a training
step built from many small ops is launch-bound. Each kernel here replaces several
launches of the portable Array-API path with one. Every kernel has its portable
reference in ``gdl.functional`` / ``gdl.nn.functional`` / ``gdl.optim``, and
``tests/test_fused_kernels.py`` checks that the two agree (run with
``nox -s tests_cupy`` on a GPU).

Kernels, by the name under which ops look them up in ``backend.fused``:

- ``tanh_backward(g, y) -> g·(1 - y²)``
- ``sigmoid(x) -> y`` and ``sigmoid_backward(g, y) -> g·y·(1 - y)``
- ``relu(x) -> y`` and ``relu_backward(g, y) -> g·[y > 0]``
- ``dropout(x, p, backend) -> (y, mask)`` with mask ∈ {0, 1/(1-p)}
- ``softmax_cross_entropy(logits2d, targets1d, ignore_index) -> (loss_rows, valid_rows, grad_rows)``
  where ``grad_rows = softmax - onehot`` (zero rows where the target is ignored;
  ``valid_rows`` may be None when every row counts, as the NumPy version returns); an
  out-of-range target raises ValueError (the kernel sets a flag; reading it is one sync)
- ``lstm_gates`` / ``lstm_gates_backward``: see :func:`lstm_gates`; ``lstm_step`` /
  ``lstm_step_backward`` do the same on ``gi + gh`` and ``dh_a + dh_b`` without
  separate additions (the recurrent layer's inner loop).
- ``sgd_step(param, grad, lr)``: ``param -= lr·grad`` in place.
"""

from __future__ import annotations

import cupy

_tanh_backward = cupy.ElementwiseKernel("T g, T y", "T dx", "dx = g * (T(1) - y * y)", "gdl_tanh_backward")
_sigmoid = cupy.ElementwiseKernel("T x", "T y", "y = T(1) / (T(1) + exp(-x))", "gdl_sigmoid")
_sigmoid_backward = cupy.ElementwiseKernel(
    "T g, T y", "T dx", "dx = g * y * (T(1) - y)", "gdl_sigmoid_backward"
)
_relu = cupy.ElementwiseKernel("T x", "T y", "y = x > T(0) ? x : T(0)", "gdl_relu")
_relu_backward = cupy.ElementwiseKernel("T g, T y", "T dx", "dx = y > T(0) ? g : T(0)", "gdl_relu_backward")
_dropout = cupy.ElementwiseKernel(
    "T x, float32 u, float32 p, T scale",
    "T y, T m",
    "m = u >= p ? scale : T(0); y = x * m",
    "gdl_dropout",
)
_sgd_step = cupy.ElementwiseKernel("T g, T lr", "T p", "p -= lr * g", "gdl_sgd_step")

_softmax_xent_source = r"""
template <typename T>
__device__ void gdl_softmax_xent(const T* logits, const long long* targets, long long ignore,
                                 int rows, int cols, T* loss, T* valid, T* grad, int* bad_flag) {
    extern __shared__ unsigned char smem_raw[];
    T* smem = reinterpret_cast<T*>(smem_raw);
    int row = blockIdx.x;
    if (row >= rows) return;
    const T* x = logits + (long long)row * cols;
    T* gr = grad + (long long)row * cols;
    int tid = threadIdx.x;
    T m = x[0];
    for (int c = tid; c < cols; c += blockDim.x) m = max(m, x[c]);
    smem[tid] = m;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (tid < s) smem[tid] = max(smem[tid], smem[tid + s]);
        __syncthreads();
    }
    m = smem[0];
    __syncthreads();
    T sum = 0;
    for (int c = tid; c < cols; c += blockDim.x) sum += exp(x[c] - m);
    smem[tid] = sum;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (tid < s) smem[tid] += smem[tid + s];
        __syncthreads();
    }
    sum = smem[0];
    long long t = targets[row];
    bool bad = t != ignore && (t < 0 || t >= cols);  // reported through bad_flag
    bool ok = t != ignore && !bad;
    T inv = T(1) / sum;
    for (int c = tid; c < cols; c += blockDim.x) {
        T p = exp(x[c] - m) * inv;  // relative to the max: exact for huge logits
        gr[c] = ok ? p - (c == t ? T(1) : T(0)) : T(0);
    }
    if (tid == 0) {
        loss[row] = ok ? log(sum) - (x[t] - m) : T(0);
        valid[row] = ok ? T(1) : T(0);
        if (bad) bad_flag[0] = 1;
    }
}
extern "C" __global__ void gdl_softmax_xent_f32(const float* a, const long long* t, long long ig, int r, int c,
                                                float* l, float* v, float* g, int* bad) {
    gdl_softmax_xent<float>(a, t, ig, r, c, l, v, g, bad);
}
extern "C" __global__ void gdl_softmax_xent_f64(const double* a, const long long* t, long long ig, int r, int c,
                                                double* l, double* v, double* g, int* bad) {
    gdl_softmax_xent<double>(a, t, ig, r, c, l, v, g, bad);
}
"""
_xent_module = cupy.RawModule(code=_softmax_xent_source, options=("--std=c++14",))

_lstm_forward = cupy.ElementwiseKernel(
    "raw T gates, T c, int32 H",
    "T h_new, T c_new, T ig, T fg, T gg, T og, T tc",
    """
    int b = i / H;
    int j = i % H;
    const int row = b * 4 * H;
    ig = T(1) / (T(1) + exp(-gates[row + j]));
    fg = T(1) / (T(1) + exp(-gates[row + H + j]));
    gg = tanh(gates[row + 2 * H + j]);
    og = T(1) / (T(1) + exp(-gates[row + 3 * H + j]));
    c_new = fg * c + ig * gg;
    tc = tanh(c_new);
    h_new = og * tc;
    """,
    "gdl_lstm_forward",
)
_lstm_step = cupy.ElementwiseKernel(
    "raw T gi, raw T gh, T c, int32 H",
    "T h_new, T c_new, T ig, T fg, T gg, T og, T tc",
    """
    int b = i / H;
    int j = i % H;
    const int r = b * 4 * H + j;
    ig = T(1) / (T(1) + exp(-(gi[r] + gh[r])));
    fg = T(1) / (T(1) + exp(-(gi[r + H] + gh[r + H])));
    gg = tanh(gi[r + 2 * H] + gh[r + 2 * H]);
    og = T(1) / (T(1) + exp(-(gi[r + 3 * H] + gh[r + 3 * H])));
    c_new = fg * c + ig * gg;
    tc = tanh(c_new);
    h_new = og * tc;
    """,
    "gdl_lstm_step",
)
_lstm_step_backward = cupy.ElementwiseKernel(
    "T dh_a, T dh_b, T dc_next, T c, T ig, T fg, T gg, T og, T tc, int32 H",
    "raw T dgates, T dc_prev",
    """
    int b = i / H;
    int j = i % H;
    const int row = b * 4 * H;
    T dh = dh_a + dh_b;
    T dc = dc_next + dh * og * (T(1) - tc * tc);
    dgates[row + j] = dc * gg * ig * (T(1) - ig);
    dgates[row + H + j] = dc * c * fg * (T(1) - fg);
    dgates[row + 2 * H + j] = dc * ig * (T(1) - gg * gg);
    dgates[row + 3 * H + j] = dh * tc * og * (T(1) - og);
    dc_prev = dc * fg;
    """,
    "gdl_lstm_step_backward",
)
_lstm_backward = cupy.ElementwiseKernel(
    "T dh, T dc_next, T c, T ig, T fg, T gg, T og, T tc, int32 H",
    "raw T dgates, T dc_prev",
    """
    int b = i / H;
    int j = i % H;
    const int row = b * 4 * H;
    T dc = dc_next + dh * og * (T(1) - tc * tc);
    dgates[row + j] = dc * gg * ig * (T(1) - ig);
    dgates[row + H + j] = dc * c * fg * (T(1) - fg);
    dgates[row + 2 * H + j] = dc * ig * (T(1) - gg * gg);
    dgates[row + 3 * H + j] = dh * tc * og * (T(1) - og);
    dc_prev = dc * fg;
    """,
    "gdl_lstm_backward",
)


def tanh_backward(g, y):
    return _tanh_backward(g, y)


def sigmoid(x):
    return _sigmoid(x)


def sigmoid_backward(g, y):
    return _sigmoid_backward(g, y)


def relu(x):
    return _relu(x)


def relu_backward(g, y):
    return _relu_backward(g, y)


def dropout(x, p, backend):
    """Inverted dropout in one pass over ``x`` after one uniform draw."""
    u = backend.uniform(x.shape, dtype=cupy.float32)
    return _dropout(x, u, cupy.float32(p), x.dtype.type(1.0 / (1.0 - p)))


def softmax_cross_entropy(logits, targets, ignore_index):
    """Per-row loss, validity flag and ``softmax - onehot`` for (N, C) logits."""
    rows, cols = logits.shape
    logits = cupy.ascontiguousarray(logits)
    targets = cupy.ascontiguousarray(targets.astype(cupy.int64, copy=False))
    loss = cupy.empty(rows, dtype=logits.dtype)
    valid = cupy.empty(rows, dtype=logits.dtype)
    grad = cupy.empty_like(logits)
    bad = cupy.zeros(1, dtype=cupy.int32)
    threads = 32
    while threads < cols and threads < 256:
        threads *= 2
    name = "gdl_softmax_xent_f32" if logits.dtype == cupy.float32 else "gdl_softmax_xent_f64"
    kernel = _xent_module.get_function(name)
    kernel(
        (rows,),
        (threads,),
        (logits, targets, cupy.int64(ignore_index), cupy.int32(rows), cupy.int32(cols), loss, valid, grad, bad),
        shared_mem=threads * logits.dtype.itemsize,
    )
    # One 4-byte read (a sync) so that a bad target is a clear error, not a silent NaN.
    if int(bad.get()[0]):
        raise ValueError(f"cross_entropy: target class indices must be in [0, {cols}), or ignore_index")
    return loss, valid, grad


def lstm_gates(gates, c):
    """LSTM cell arithmetic on pre-activations ``gates`` (B, 4H) ordered i, f, g, o.

    Returns ``h_new, c_new, saved`` where ``saved = (c, i, f, g, o, tanh(c_new))``
    is what :func:`lstm_gates_backward` needs.
    """
    batch, four_h = gates.shape
    hidden = four_h // 4
    gates = cupy.ascontiguousarray(gates)
    c = cupy.ascontiguousarray(c)
    h_new, c_new, ig, fg, gg, og, tc = _lstm_forward(gates, c, cupy.int32(hidden))
    return h_new, c_new, (c, ig, fg, gg, og, tc)


def lstm_gates_backward(dh, dc_next, saved):
    """Gradients ``(dgates (B, 4H), dc_prev (B, H))`` of :func:`lstm_gates`."""
    c, ig, fg, gg, og, tc = saved
    batch, hidden = c.shape
    dgates = cupy.empty((batch, 4 * hidden), dtype=c.dtype)
    if dh is None:
        dh = cupy.zeros_like(c)
    if dc_next is None:
        dc_next = cupy.zeros_like(c)
    dc_prev = cupy.empty_like(c)
    _lstm_backward(dh, dc_next, c, ig, fg, gg, og, tc, cupy.int32(hidden), dgates, dc_prev)
    return dgates, dc_prev


def lstm_step(gi, gh, c):
    """:func:`lstm_gates` of ``gi + gh`` without materialising the sum (one launch)."""
    hidden = c.shape[1]
    gi = cupy.ascontiguousarray(gi)
    gh = cupy.ascontiguousarray(gh)
    c = cupy.ascontiguousarray(c)
    h_new, c_new, ig, fg, gg, og, tc = _lstm_step(gi, gh, c, cupy.int32(hidden))
    return h_new, c_new, (c, ig, fg, gg, og, tc)


def lstm_step_backward(saved, dh_a, dh_b, dc_next):
    """:func:`lstm_gates_backward` for ``dL/dh' = dh_a + dh_b`` (one launch)."""
    c, ig, fg, gg, og, tc = saved
    batch, hidden = c.shape
    if dh_b is None:
        return lstm_gates_backward(dh_a, dc_next, saved)
    if dc_next is None:
        dc_next = cupy.zeros_like(c)
    dgates = cupy.empty((batch, 4 * hidden), dtype=c.dtype)
    dc_prev = cupy.empty_like(c)
    _lstm_step_backward(dh_a, dh_b, dc_next, c, ig, fg, gg, og, tc, cupy.int32(hidden), dgates, dc_prev)
    return dgates, dc_prev


def sgd_step(param, grad, lr):
    """``param -= lr * grad`` in place, one launch."""
    _sgd_step(grad, param.dtype.type(lr), param)


def load() -> dict:
    """The fused kernels by name, as ops look them up in ``backend.fused``."""
    return {
        "tanh_backward": tanh_backward,
        "sigmoid": sigmoid,
        "sigmoid_backward": sigmoid_backward,
        "relu": relu,
        "relu_backward": relu_backward,
        "dropout": dropout,
        "softmax_cross_entropy": softmax_cross_entropy,
        "lstm_gates": lstm_gates,
        "lstm_gates_backward": lstm_gates_backward,
        "lstm_step": lstm_step,
        "lstm_step_backward": lstm_step_backward,
        "sgd_step": sgd_step,
    }
