"""Fused CuPy kernels: fewer, larger GPU launches for the hot ops.

Plain CuPy pays ~10-20 us of launch overhead per elementwise op, so a training
step built from many small ops is launch-bound. Each kernel here replaces several
launches of the portable Array-API path with one. Every kernel has its portable
reference in ``gdl.functional`` / ``gdl.nn.functional`` / ``gdl.optim``, and
``tests/test_fused_kernels.py`` checks that the two agree: on a GPU (``nox -s tests_cupy``),
and in every test run on the CPU, with this same CUDA source compiled for the host by g++.

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
- ``gru_gates(gi, gh, h) -> (h_new, saved)`` / ``gru_gates_backward(dh_new, saved) -> (dgi, dgh, dh)``:
  the GRU step, see ``gdl.nn.functional.recurrent``
- ``lstm_sequence`` / ``lstm_sequence_backward``: a whole LSTM layer's time loop (see
  :func:`lstm_sequence`), used by the recurrent layer node in place of the per-step pair.
- ``softmax_cross_entropy_mean(logits2d, targets1d, ignore_index) -> (mean loss, its gradient)``:
  the same kernel summing the rows' losses and counts with atomics, then one division
- ``sgd_step(param, grad, lr)``: ``param -= lr·grad`` in place; ``sgd_step_all(params, grads, lr)``
  does it for a whole list (up to eight tensors per launch) when ``sgd_step_all_fits(params, grads)``.

float16 arrays run through every kernel in float32 and come back as float16 (PyTorch
computes half-precision math in float32 too): the CUDA code is written for float and
double, and the raw softmax kernel has no half version at all.
"""

from __future__ import annotations

import functools

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
                                 int rows, int cols, T* loss, T* valid, T* grad, int* bad_flag, double* acc) {
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
        T row_loss = ok ? log(sum) - (x[t] - m) : T(0);
        loss[row] = row_loss;
        valid[row] = ok ? T(1) : T(0);
        if (acc == nullptr) {
            if (bad) bad_flag[0] = 1;
        } else {  // the mean variant: acc = (sum of losses, number of counted rows, bad-target flag),
                  // in double whatever T is: the order of atomic additions varies, its rounding must not show
            if (bad) acc[2] = 1.0;
            if (ok) {
                atomicAdd(acc, (double)row_loss);
                atomicAdd(acc + 1, 1.0);
            }
        }
    }
}
extern "C" __global__ void gdl_softmax_xent_f32(const float* a, const long long* t, long long ig, int r, int c,
                                                float* l, float* v, float* g, int* bad) {
    gdl_softmax_xent<float>(a, t, ig, r, c, l, v, g, bad, (double*)nullptr);
}
extern "C" __global__ void gdl_softmax_xent_f64(const double* a, const long long* t, long long ig, int r, int c,
                                                double* l, double* v, double* g, int* bad) {
    gdl_softmax_xent<double>(a, t, ig, r, c, l, v, g, bad, (double*)nullptr);
}
extern "C" __global__ void gdl_softmax_xent_mean_f32(const float* a, const long long* t, long long ig, int r,
                                                     int c, float* l, float* v, float* g, double* acc) {
    gdl_softmax_xent<float>(a, t, ig, r, c, l, v, g, nullptr, acc);
}
extern "C" __global__ void gdl_softmax_xent_mean_f64(const double* a, const long long* t, long long ig, int r,
                                                     int c, double* l, double* v, double* g, double* acc) {
    gdl_softmax_xent<double>(a, t, ig, r, c, l, v, g, nullptr, acc);
}
"""
_xent_module = cupy.RawModule(code=_softmax_xent_source, options=("--std=c++14",))
# The mean's last step: the gradient of every row over the count, and the mean itself.
_xent_mean_finish = cupy.ElementwiseKernel(
    "raw float64 acc", "T grad, raw T loss", "grad = grad / T(acc[1]); if (i == 0) loss[0] = T(acc[0] / acc[1]);",
    "gdl_xent_mean_finish",
)


def _sgd_multi_source(slots: int) -> str:
    """``p_k -= lr * g_k`` for up to ``slots`` tensors in one launch (unused slots have n_k = 0)."""
    def each(fmt):
        return ", ".join(fmt.format(k=k) for k in range(slots))

    body = f"""
template <typename T>
__device__ void gdl_sgd_multi(T** ps, const T** gs, const long long* ns, T lr) {{
    long long total = 0;
    for (int k = 0; k < {slots}; ++k) total += ns[k];
    long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {{
        long long j = i;
        int k = 0;
        while (k < {slots - 1} && j >= ns[k]) {{ j -= ns[k]; ++k; }}
        ps[k][j] -= lr * gs[k][j];
    }}
}}
"""
    for name, t in (("f32", "float"), ("f64", "double")):
        body += f"""
extern "C" __global__ void gdl_sgd_multi_{name}({each(t + "* p{k}")}, {each("const " + t + "* g{k}")},
                                                {each("long long n{k}")}, {t} lr) {{
    {t}* ps[{slots}] = {{{each("p{k}")}}};
    const {t}* gs[{slots}] = {{{each("g{k}")}}};
    long long ns[{slots}] = {{{each("n{k}")}}};
    gdl_sgd_multi<{t}>(ps, gs, ns, lr);
}}
"""
    return body


_SGD_SLOTS = 8
_sgd_module = cupy.RawModule(code=_sgd_multi_source(_SGD_SLOTS), options=("--std=c++14",))

# A whole LSTM layer's time loop: per step one matrix product (cuBLAS) and one of these
# kernels, writing into buffers made once per sequence. ``acts`` holds each step's
# i, f, g, o and tanh(c') as (B, 5H) rows: what the backward step reads.
_lstm_sequence_source = r"""
template <typename T>
__device__ __forceinline__ T gdl_sigm(T x) { return T(1) / (T(1) + exp(-x)); }

template <typename T>
__device__ void gdl_lstm_seq_fwd(const T* gi, const T* gh, int has_gh, const T* c, T* h_new, T* c_new,
                                 T* acts, int B, int H) {
    int n = B * H;
    for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < n; idx += gridDim.x * blockDim.x) {
        int b = idx / H, j = idx % H;
        long long r = (long long)b * 4 * H + j;
        T ai = gi[r], af = gi[r + H], ag = gi[r + 2 * H], ao = gi[r + 3 * H];
        if (has_gh) {
            ai += gh[r]; af += gh[r + H]; ag += gh[r + 2 * H]; ao += gh[r + 3 * H];
        }
        T i = gdl_sigm(ai), f = gdl_sigm(af), g = tanh(ag), o = gdl_sigm(ao);
        T cn = f * c[idx] + i * g;
        T tc = tanh(cn);
        c_new[idx] = cn;
        h_new[idx] = o * tc;
        T* a = acts + (long long)b * 5 * H + j;
        a[0] = i; a[H] = f; a[2 * H] = g; a[3 * H] = o; a[4 * H] = tc;
    }
}

// dc holds dL/dc' on entry and dL/dc on exit (each thread reads and writes its own element).
template <typename T>
__device__ void gdl_lstm_seq_bwd(const T* dh_out, const T* dh_next, int has_next, T* dc, const T* c_prev,
                                 const T* acts, T* dgates, int B, int H) {
    int n = B * H;
    for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < n; idx += gridDim.x * blockDim.x) {
        int b = idx / H, j = idx % H;
        const T* a = acts + (long long)b * 5 * H + j;
        T i = a[0], f = a[H], g = a[2 * H], o = a[3 * H], tc = a[4 * H];
        T dh = dh_out[idx];
        if (has_next) dh += dh_next[idx];
        T dct = dc[idx] + dh * o * (T(1) - tc * tc);
        T* d = dgates + (long long)b * 4 * H + j;
        d[0] = dct * g * i * (T(1) - i);
        d[H] = dct * c_prev[idx] * f * (T(1) - f);
        d[2 * H] = dct * i * (T(1) - g * g);
        d[3 * H] = dh * tc * o * (T(1) - o);
        dc[idx] = dct * f;
    }
}
"""
for _name, _t in (("f32", "float"), ("f64", "double")):
    _lstm_sequence_source += f"""
extern "C" __global__ void gdl_lstm_seq_fwd_{_name}(const {_t}* gi, const {_t}* gh, int has_gh, const {_t}* c,
        {_t}* h_new, {_t}* c_new, {_t}* acts, int B, int H) {{
    gdl_lstm_seq_fwd<{_t}>(gi, gh, has_gh, c, h_new, c_new, acts, B, H);
}}
extern "C" __global__ void gdl_lstm_seq_bwd_{_name}(const {_t}* dh_out, const {_t}* dh_next, int has_next,
        {_t}* dc, const {_t}* c_prev, const {_t}* acts, {_t}* dgates, int B, int H) {{
    gdl_lstm_seq_bwd<{_t}>(dh_out, dh_next, has_next, dc, c_prev, acts, dgates, B, H);
}}
"""
_lstm_sequence_module = cupy.RawModule(code=_lstm_sequence_source, options=("--std=c++14",))

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
_gru_forward = cupy.ElementwiseKernel(
    "raw T gi, raw T gh, T h, int32 H",
    "T h_new, T rg, T zg, T ng",
    """
    int b = i / H;
    int j = i % H;
    const int r = b * 3 * H + j;
    rg = T(1) / (T(1) + exp(-(gi[r] + gh[r])));
    zg = T(1) / (T(1) + exp(-(gi[r + H] + gh[r + H])));
    ng = tanh(gi[r + 2 * H] + rg * gh[r + 2 * H]);
    h_new = (T(1) - zg) * ng + zg * h;
    """,
    "gdl_gru_forward",
)
_gru_backward = cupy.ElementwiseKernel(
    "T dh, T rg, T zg, T ng, T h, raw T gh, int32 H",
    "raw T dgi, raw T dgh, T dh_direct",
    """
    int b = i / H;
    int j = i % H;
    const int r = b * 3 * H + j;
    T dan = dh * (T(1) - zg) * (T(1) - ng * ng);
    T daz = dh * (h - ng) * zg * (T(1) - zg);
    T dar = dan * gh[r + 2 * H] * rg * (T(1) - rg);
    dgi[r] = dar;
    dgi[r + H] = daz;
    dgi[r + 2 * H] = dan;
    dgh[r] = dar;
    dgh[r + H] = daz;
    dgh[r + 2 * H] = dan * rg;
    dh_direct = dh * zg;
    """,
    "gdl_gru_backward",
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


def _cast_half(obj, dtype):
    """``obj`` (an array, or a tuple or list of them) with float16 <-> float32 arrays cast to ``dtype``."""
    if isinstance(obj, cupy.ndarray):
        return obj.astype(dtype) if obj.dtype in (cupy.float16, cupy.float32) and obj.dtype != dtype else obj
    if isinstance(obj, (tuple, list)):
        return type(obj)(_cast_half(o, dtype) for o in obj)
    return obj


def _has_half(obj) -> bool:
    if isinstance(obj, cupy.ndarray):
        return obj.dtype == cupy.float16
    return isinstance(obj, (tuple, list)) and any(_has_half(o) for o in obj)


def _float32_for_half(kernel):
    """Run ``kernel`` on float16 arguments in float32, and give its array results back in float16."""

    @functools.wraps(kernel)
    def run(*args):
        for a in args:  # the first array argument decides (the hot path: one dtype check)
            if isinstance(a, cupy.ndarray):
                if a.dtype != cupy.float16:
                    return kernel(*args)
                break
        else:
            if not any(_has_half(a) for a in args):
                return kernel(*args)
        return _cast_half(kernel(*_cast_half(args, cupy.float32)), cupy.float16)

    return run


def dropout(x, p, backend):
    """Inverted dropout in one pass over ``x`` after one uniform draw."""
    u = backend.uniform(x.shape, dtype=cupy.float32)
    return _dropout(x, u, cupy.float32(p), x.dtype.type(1.0 / (1.0 - p)))


def softmax_cross_entropy(logits, targets, ignore_index):
    """Per-row loss, validity flag and ``softmax - onehot`` for (N, C) logits."""
    rows, cols = logits.shape
    if logits.dtype not in (cupy.float32, cupy.float64):  # the raw kernel reads float or double only
        raise TypeError(f"softmax_cross_entropy kernel: logits must be float32 or float64, got {logits.dtype}")
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


def gru_gates(gi, gh, h):
    """GRU cell arithmetic on ``gi = W_ih x + b_ih`` and ``gh = W_hh h + b_hh`` (B, 3H), order
    r, z, n. Returns ``h_new, saved`` with ``saved = (r, z, n, gh, h)`` for :func:`gru_gates_backward`."""
    hidden = h.shape[1]
    gi = cupy.ascontiguousarray(gi)
    gh = cupy.ascontiguousarray(gh)
    h = cupy.ascontiguousarray(h)
    h_new, rg, zg, ng = _gru_forward(gi, gh, h, cupy.int32(hidden))
    return h_new, (rg, zg, ng, gh, h)


def gru_gates_backward(dh_new, saved):
    """``(dgi, dgh, dh)`` of :func:`gru_gates`: ``dh`` is the part through ``z⊙h`` alone."""
    rg, zg, ng, gh, h = saved
    batch, hidden = h.shape
    dgi = cupy.empty((batch, 3 * hidden), dtype=h.dtype)
    dgh = cupy.empty_like(dgi)
    dh_direct = cupy.empty_like(h)
    _gru_backward(cupy.ascontiguousarray(dh_new), rg, zg, ng, h, gh, cupy.int32(hidden), dgi, dgh, dh_direct)
    return dgi, dgh, dh_direct


def softmax_cross_entropy_mean(logits, targets, ignore_index):
    """``(mean loss (0-d), its gradient (N, C))`` over the non-ignored rows, in three launches
    (a zeroed accumulator, the per-row kernel with atomic sums, the division) and one sync."""
    rows, cols = logits.shape
    if logits.dtype not in (cupy.float32, cupy.float64):
        raise TypeError(f"softmax_cross_entropy kernel: logits must be float32 or float64, got {logits.dtype}")
    if rows == 0:  # a mean over no rows is NaN, as in PyTorch
        return cupy.full((), cupy.nan, dtype=logits.dtype), cupy.zeros_like(logits)
    logits = cupy.ascontiguousarray(logits)
    targets = cupy.ascontiguousarray(targets.astype(cupy.int64, copy=False))
    loss_rows = cupy.empty(rows, dtype=logits.dtype)
    valid = cupy.empty(rows, dtype=logits.dtype)
    grad = cupy.empty_like(logits)
    acc = cupy.zeros(3, dtype=cupy.float64)
    loss = cupy.empty((), dtype=logits.dtype)
    threads = 32
    while threads < cols and threads < 256:
        threads *= 2
    name = "gdl_softmax_xent_mean_f32" if logits.dtype == cupy.float32 else "gdl_softmax_xent_mean_f64"
    _xent_module.get_function(name)(
        (rows,),
        (threads,),
        (logits, targets, cupy.int64(ignore_index), cupy.int32(rows), cupy.int32(cols), loss_rows, valid, grad, acc),
        shared_mem=threads * logits.dtype.itemsize,
    )
    _xent_mean_finish(acc, grad, loss)
    if float(acc[2].get()):  # one read (a sync): a bad target is a clear error, not a silent NaN
        raise ValueError(f"cross_entropy: target class indices must be in [0, {cols}), or ignore_index")
    return loss, grad


def _lstm_sequence_kernel(direction, dtype, batch, hidden):
    if dtype not in (cupy.float32, cupy.float64):
        raise TypeError(f"lstm_sequence kernel: float32 or float64 only, got {dtype}")
    kernel = _lstm_sequence_module.get_function(f"gdl_lstm_seq_{direction}_{'f32' if dtype == cupy.float32 else 'f64'}")
    blocks = min((batch * hidden + 255) // 256, 65535)
    return lambda *args: kernel((blocks,), (256,), (*args, cupy.int32(batch), cupy.int32(hidden)))


def lstm_sequence(xg, h0, c0, w_hh, h0_is_zero):
    """A whole LSTM layer's forward over time, two launches per step.

    ``xg``: every step's input projection plus both biases ``(T, B, 4H)``; ``h0``, ``c0``:
    ``(B, H)``; ``w_hh``: ``(4H, H)``; ``h0_is_zero``: skip the first step's ``h0 W_hhᵀ``.
    Returns ``(out, saved)``: ``out`` is ``(T + 1, B, H)``, the hidden states ``h_1..h_T``
    then ``c_T`` (the layer node's packed output), and ``saved`` is what
    :func:`lstm_sequence_backward` needs.
    """
    steps, batch, four_h = xg.shape
    hidden = four_h // 4
    dtype = xg.dtype
    xg = cupy.ascontiguousarray(xg)
    hbuf = cupy.empty((steps + 2, batch, hidden), dtype=dtype)  # h0, h_1..h_T, c_T
    hbuf[0] = h0
    cs = cupy.empty((steps, batch, hidden), dtype=dtype)  # the cell state entering each step
    cs[0] = c0
    acts = cupy.empty((steps, batch, 5 * hidden), dtype=dtype)
    gh = cupy.empty((batch, four_h), dtype=dtype)
    w_hh_t = w_hh.T
    step = _lstm_sequence_kernel("fwd", dtype, batch, hidden)
    for t in range(steps):
        has_gh = not (t == 0 and h0_is_zero)
        if has_gh:
            cupy.matmul(hbuf[t], w_hh_t, out=gh)
        c_new = hbuf[steps + 1] if t == steps - 1 else cs[t + 1]
        step(xg[t], gh, cupy.int32(has_gh), cs[t], hbuf[t + 1], c_new, acts[t])
    return hbuf[1:], (hbuf, cs, acts, w_hh)


def lstm_sequence_backward(g, saved, need_h0):
    """Backpropagation through time for :func:`lstm_sequence`, two launches per step.

    ``g``: the gradient of its ``out`` ``(T + 1, B, H)``. Returns ``(dgates, h_prev, dh0, dc0)``:
    the pre-activation gradients ``(T·B, 4H)`` (the same for ``gi`` and ``gh``), the hidden
    states entering each step ``(T·B, H)`` (for ``W_hh``'s gradient), ``dL/dh0`` (None unless
    ``need_h0``) and ``dL/dc0``.
    """
    hbuf, cs, acts, w_hh = saved
    steps, batch, hidden = cs.shape
    dtype = cs.dtype
    g = cupy.ascontiguousarray(g, dtype=dtype)
    dgates = cupy.empty((steps, batch, 4 * hidden), dtype=dtype)
    dc = g[steps].copy()
    dh_next = cupy.empty((batch, hidden), dtype=dtype)
    step = _lstm_sequence_kernel("bwd", dtype, batch, hidden)
    for t in range(steps - 1, -1, -1):
        step(g[t], dh_next, cupy.int32(t < steps - 1), dc, cs[t], acts[t], dgates[t])
        if t > 0 or need_h0:
            cupy.matmul(dgates[t], w_hh, out=dh_next)
    h_prev = hbuf[:steps].reshape(steps * batch, hidden)
    return dgates.reshape(steps * batch, 4 * hidden), h_prev, dh_next if need_h0 else None, dc


def sgd_step_all(params, grads, lr):
    """``p -= lr * g`` in place for every pair, up to eight tensors per launch.

    Every array must be C-contiguous and of one dtype, float32 or float64 (the caller checks
    with :func:`sgd_step_all_fits`).
    """
    dtype = params[0].dtype
    name = "gdl_sgd_multi_f32" if dtype == cupy.float32 else "gdl_sgd_multi_f64"
    kernel = _sgd_module.get_function(name)
    for start in range(0, len(params), _SGD_SLOTS):
        ps, gs = params[start : start + _SGD_SLOTS], grads[start : start + _SGD_SLOTS]
        sizes = [p.size for p in ps]
        spare = _SGD_SLOTS - len(ps)
        ps, gs, sizes = ps + [ps[0]] * spare, gs + [gs[0]] * spare, sizes + [0] * spare
        total = sum(sizes)
        if total == 0:
            continue
        blocks = min((total + 255) // 256, 4096)
        kernel((blocks,), (256,), (*ps, *gs, *(cupy.int64(n) for n in sizes), dtype.type(lr)))


def sgd_step_all_fits(params, grads) -> bool:
    """Whether :func:`sgd_step_all` takes these arrays (else update them one by one)."""
    dtype = params[0].dtype
    if dtype not in (cupy.float32, cupy.float64):
        return False
    return all(
        a.dtype == dtype and a.flags.c_contiguous for pair in zip(params, grads) for a in pair
    ) and all(p.shape == g.shape for p, g in zip(params, grads))


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
    """``param -= lr * grad`` in place, one launch (float16 through float32)."""
    if param.dtype == cupy.float16 or grad.dtype == cupy.float16:
        param[...] = (param.astype(cupy.float32) - cupy.float32(lr) * grad.astype(cupy.float32)).astype(param.dtype)
        return
    _sgd_step(grad, param.dtype.type(lr), param)


def load() -> dict:
    """The fused kernels by name, as ops look them up in ``backend.fused``."""
    kernels = {
        "tanh_backward": tanh_backward,
        "sigmoid": sigmoid,
        "sigmoid_backward": sigmoid_backward,
        "relu": relu,
        "relu_backward": relu_backward,
        "dropout": dropout,
        "softmax_cross_entropy": softmax_cross_entropy,
        "softmax_cross_entropy_mean": softmax_cross_entropy_mean,
        "lstm_gates": lstm_gates,
        "lstm_gates_backward": lstm_gates_backward,
        "lstm_step": lstm_step,
        "lstm_step_backward": lstm_step_backward,
        "gru_gates": gru_gates,
        "gru_gates_backward": gru_gates_backward,
        "lstm_sequence": lstm_sequence,
        "lstm_sequence_backward": lstm_sequence_backward,
    }
    kernels = {name: _float32_for_half(k) for name, k in kernels.items()}
    kernels["sgd_step"] = sgd_step
    kernels["sgd_step_all"] = sgd_step_all
    kernels["sgd_step_all_fits"] = sgd_step_all_fits
    return kernels
