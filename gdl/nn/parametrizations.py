"""Ready-made parametrizations, as ``torch.nn.utils.parametrizations`` (reached as
``gdl.nn.utils.parametrizations``): :func:`weight_norm`, :func:`spectral_norm` and
:func:`orthogonal`, each registered with :func:`gdl.nn.utils.parametrize.register_parametrization`,
so their state_dict keys are PyTorch's (``parametrizations.weight.original0``, ...).

>>> import gdl
>>> from gdl.nn.utils.parametrizations import weight_norm
>>> m = weight_norm(gdl.nn.Linear(3, 2))
>>> list(m.state_dict())
['bias', 'parametrizations.weight.original0', 'parametrizations.weight.original1']
>>> m.parametrizations.weight.original0.shape     # g: one norm per output row
(2, 1)

The hook-based versions that PyTorch keeps (deprecated) as ``torch.nn.utils.weight_norm``
and ``torch.nn.utils.spectral_norm`` are :func:`gdl.nn.utils.weight_norm` and
:func:`gdl.nn.utils.spectral_norm`; their hooks are the classes :class:`WeightNorm` and
:class:`SpectralNorm` here.
"""

from __future__ import annotations

import math
import warnings
from enum import Enum, auto

from gdl import functional as ops
from gdl.nn import parametrize
from gdl.nn.functional import normalize
from gdl.nn.module import Module
from gdl.nn.parameter import Parameter
from gdl.tensor import Tensor, eye, no_grad, randn, zeros

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


# -- helpers ------------------------------------------------------------------------------------------
def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm of ``v`` over every dimension but ``dim``, keeping ``v``'s rank
    (``torch.norm_except_dim(v, 2, dim)``); ``dim=-1`` is the norm of the whole tensor (a 0-d
    tensor), as PyTorch's (not the last dimension)."""
    from gdl.linalg import vector_norm

    if dim == -1:
        return vector_norm(v)
    if not -v.ndim <= dim < v.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-v.ndim}, {v.ndim - 1}], but got {dim})")
    d = dim % v.ndim
    axes = tuple(a for a in range(v.ndim) if a != d)
    if not axes:
        return ops.abs(v)
    return vector_norm(v, 2, dim=axes, keepdim=True)


def _weight_norm(v: Tensor, g: Tensor, dim: int) -> Tensor:
    """``v * (g / ‖v‖)`` with the norm taken over every dimension but ``dim`` (``torch._weight_norm``)."""
    return v * (g / _norm_except_dim(v, dim))


def _eps(t: Tensor) -> float:
    return float(t._backend.xp.finfo(t.data.dtype).eps)


def _is_orthogonal(Q: Tensor) -> bool:
    n, k = Q.shape[-2], Q.shape[-1]
    xp = Q._backend.xp
    Id = xp.eye(k, dtype=Q.data.dtype, device=Q._backend.device)
    eps = 10.0 * n * _eps(Q)
    a = (Q.mT @ Q).data
    return bool(xp.all(xp.abs(a - Id) <= eps + 1e-5 * xp.abs(Id)))


def _make_orthogonal(A: Tensor) -> Tensor:
    """The Q of A's QR decomposition with R's diagonal made positive (PyTorch's geqrf +
    householder_product, normalised by the signs of R's diagonal)."""
    Q, R = _linalg().qr(A)
    return Q * ops.sign(R.diagonal(0, -2, -1)).unsqueeze(-2)


def _linalg():
    from gdl import linalg

    return linalg


# Padé [13/13] coefficients and the norm bound of Higham (2005), "The scaling and squaring
# method for the matrix exponential revisited".
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _matrix_exp(A: Tensor) -> Tensor:
    """``exp(A)`` of a (batch of) square matrices by scaling and squaring with a [13/13] Padé
    approximant, built of differentiable gdl ops (so gradients flow through it)."""
    n = A.shape[-1]
    xp = A._backend.xp
    if A.numel() == 0:
        return A + 0
    norm1 = float(A._backend.to_host(xp.max(xp.sum(xp.abs(A.data), axis=-2))))
    s = 0 if not (norm1 > _THETA13) else max(0, int(math.ceil(math.log2(norm1 / _THETA13))))
    if not math.isfinite(norm1):
        s = 0
    if s:
        A = A * (0.5 ** s)
    b = _PADE13
    Id = eye(n, dtype=A.dtype, backend=A.backend)
    A2 = A @ A
    A4 = A2 @ A2
    A6 = A4 @ A2
    U = A @ (A6 @ (b[13] * A6 + b[11] * A4 + b[9] * A2) + b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * Id)
    V = A6 @ (b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + b[2] * A2 + b[0] * Id
    X = _linalg().solve(V - U, V + U)
    for _ in range(s):
        X = X @ X
    return X


def _householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first ``k`` columns of ``H_1 H_2 ... H_k`` with ``H_i = I - tau_i v_i v_iᵀ`` and
    ``v_i`` column ``i`` of ``A`` below the diagonal with a 1 on it
    (``torch.linalg.householder_product``), differentiable in ``A`` and ``tau``."""
    n, k = A.shape[-2], A.shape[-1]
    V = ops.tril(A, -1) + eye(n, k, dtype=A.dtype, backend=A.backend)
    Q = eye(n, k, dtype=A.dtype, backend=A.backend)
    for i in reversed(range(k)):
        v = V[..., :, i : i + 1]  # (..., n, 1)
        Q = Q - (tau[..., i : i + 1].unsqueeze(-1) * v) @ (v.mT @ Q)
    return Q


def _geqrf(A: Tensor):
    """LAPACK's ``geqrf`` (``torch.geqrf``): R on and above the diagonal of the result,
    the Householder vectors below it, and the scalars ``tau`` (0 where a column needs no
    reflection). Host-side arithmetic on the backend's arrays, without gradients."""
    be = A._backend
    xp = be.xp
    a = be.copy(A.data)
    m, n = a.shape[-2], a.shape[-1]
    batch = tuple(a.shape[:-2])
    k = min(m, n)
    tau = xp.zeros(batch + (k,), dtype=a.dtype, device=be.device)
    for j in range(k):
        x = a[..., j:, j]
        alpha = x[..., 0]
        tail = x[..., 1:]
        xnorm = xp.sqrt(xp.sum(tail * tail, axis=-1))
        live = xnorm != 0
        r = xp.sqrt(alpha * alpha + xnorm * xnorm)
        beta = xp.where(live, xp.where(alpha >= 0, -r, r), alpha)
        safe_beta = xp.where(live, beta, xp.ones_like(beta))
        t = xp.where(live, (beta - alpha) / safe_beta, xp.zeros_like(beta))
        denom = xp.where(live, alpha - beta, xp.ones_like(beta))
        vtail = xp.where(live[..., None], tail / denom[..., None], xp.zeros_like(tail))
        if j + 1 < n:
            C = a[..., j:, j + 1 :]
            v = xp.concat([xp.ones(batch + (1,), dtype=a.dtype, device=be.device), vtail], axis=-1)
            w = xp.sum(v[..., :, None] * C, axis=-2)
            a[..., j:, j + 1 :] = C - t[..., None, None] * v[..., :, None] * w[..., None, :]
        a[..., j, j] = beta
        a[..., j + 1 :, j] = vtail
        tau[..., j] = t
    return Tensor._wrap(a, be), Tensor._wrap(tau, be)


# -- orthogonal ---------------------------------------------------------------------------------------
class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    def __init__(self, weight, orthogonal_map: _OrthMaps, *, use_trivialization=True) -> None:
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = ops.tril(X)
            if n != k:
                pad = zeros(*(X.shape[:-2] + (n, n - k)), dtype=X.dtype, backend=X.backend)
                X = ops.concat([X, pad], axis=-1)
            A = X - X.mT
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = _matrix_exp(A)
            else:
                Id = eye(n, dtype=A.dtype, backend=A.backend)
                Q = _linalg().solve(Id - 0.5 * A, Id + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = ops.tril(X, -1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            Q = Q * ops.trunc(X.detach().diagonal(0, -2, -1)).unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        with no_grad():
            return self._right_inverse(Q)

    def _right_inverse(self, Q: Tensor) -> Tensor:
        if tuple(Q.shape) != tuple(self.shape):
            raise ValueError(
                f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of shape {Q.shape}."
            )
        Q_init = Q
        n, k = Q.shape[-2], Q.shape[-1]
        transpose = n < k
        if transpose:
            Q = Q.mT
            n, k = k, n
        xp = Q._backend.xp
        if not hasattr(self, "base"):
            if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                raise NotImplementedError(
                    "It is not possible to assign to the matrix exponential "
                    "or the Cayley parametrizations when use_trivialization=False."
                )
            A, tau = _geqrf(Q)
            a = A.data
            for j in range(min(n, k)):
                d = xp.sign(a[..., j, j])
                a[..., j, j] = xp.where(tau.data[..., j] == 0.0, -d, d)
            return A.mT if transpose else A
        if n == k:
            Q = _make_orthogonal(Q) if not _is_orthogonal(Q) else Q.clone()
        else:
            N = randn(*(tuple(Q.shape[:-2]) + (n, n - k)), dtype=Q.dtype, backend=Q.backend)
            Q = _make_orthogonal(ops.concat([Q, N], axis=-1))
        self.base = Q
        neg_id = xp.zeros(Q_init.shape, dtype=Q_init.data.dtype, device=Q_init._backend.device)
        for j in range(min(Q_init.shape[-2], Q_init.shape[-1])):
            neg_id[..., j, j] = -1.0
        return Tensor._wrap(neg_id, Q_init._backend)


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Make ``module.<name>`` (a matrix or a batch of them) orthogonal: ``QᵀQ = I`` for a
    tall one, ``QQᵀ = I`` for a wide one (PyTorch's
    ``torch.nn.utils.parametrizations.orthogonal``). Returns ``module``.

    ``orthogonal_map``: ``"matrix_exp"`` (the default for a square matrix), ``"cayley"``
    or ``"householder"`` (the default otherwise). With ``use_trivialization=True`` (the
    default) the current weight, made orthogonal, is kept as the buffer
    ``parametrizations.<name>.0.base`` and the map is applied around it (the original
    then starts as ``-I``); assigning ``module.<name> = Q`` resets it. With ``False``
    only ``"householder"`` can be assigned to.

    gdl's matrix exponential is a [13/13] Padé approximant with scaling and squaring,
    and its Householder product a loop of rank-one updates, both through autograd; the
    values and gradients agree with PyTorch's to rounding. Real dtypes only.

    >>> import gdl
    >>> from gdl.nn.utils.parametrizations import orthogonal
    >>> m = orthogonal(gdl.nn.Linear(5, 3, dtype=gdl.float64))
    >>> W = m.weight                     # 3 x 5: orthonormal rows
    >>> bool(gdl.allclose(W @ W.mT, gdl.eye(3, dtype=gdl.float64)))
    True
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if not weight.dtype.is_floating_point:
        raise TypeError(f"orthogonal: needs a floating-point {name}, got {weight.dtype.name}")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None) if isinstance(orthogonal_map, str) else None
    if orth_enum is None:
        raise ValueError(
            f'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got: {orthogonal_map}'
        )
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


# -- weight norm ----------------------------------------------------------------------------------------
class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        if dim is None:
            dim = -1
        self.dim = dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        weight_g = _norm_except_dim(weight, self.dim)
        weight_v = weight
        return weight_g, weight_v


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Weight normalisation ``w = g · v / ‖v‖`` of ``module.<name>`` as a parametrization
    (PyTorch's ``torch.nn.utils.parametrizations.weight_norm``). Returns ``module``.

    The magnitude ``g`` is ``parametrizations.<name>.original0`` and the direction ``v``
    ``parametrizations.<name>.original1``. The norm is taken over every dimension but
    ``dim`` (``g`` keeps the weight's rank with size 1 elsewhere); ``dim=None`` (or
    ``-1``, as in PyTorch) uses the norm of the whole tensor (``g`` is then 0-d).

    As PyTorch's, ``load_state_dict`` takes a state_dict saved with the old hook-based
    weight norm too: its ``<name>_g``/``<name>_v`` keys become ``original0``/``original1``.

    >>> import gdl
    >>> from gdl.nn.utils.parametrizations import weight_norm
    >>> lin = gdl.nn.Linear(4, 2)
    >>> w = lin.weight.detach().clone()
    >>> _ = weight_norm(lin)
    >>> bool(gdl.allclose(lin.weight, w, atol=1e-6))      # the same weight at the start
    True
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    module.register_load_state_dict_pre_hook(_old_weight_norm_keys(name))
    return module


def _old_weight_norm_keys(name: str):
    """A load pre-hook renaming the old weight norm's ``<name>_g``/``<name>_v`` keys."""

    def hook(module, state_dict, prefix, *unused):
        for old, new in (("_g", "original0"), ("_v", "original1")):
            key = f"{prefix}{name}{old}"
            if key in state_dict:
                state_dict[f"{prefix}parametrizations.{name}.{new}"] = state_dict.pop(key)

    return hook


# -- spectral norm ---------------------------------------------------------------------------------------
def _is_conv_transpose(module) -> bool:
    from gdl.nn.conv import _ConvTransposeNd

    return isinstance(module, _ConvTransposeNd)


def _to_matrix(weight: Tensor, dim: int) -> Tensor:
    """``weight`` with ``dim`` moved to the front, flattened to ``(size(dim), -1)``."""
    if dim != 0:
        weight = ops.permute(weight, dim, *(d for d in range(weight.ndim) if d != dim))
    return ops.reshape(weight, (weight.shape[0], -1))


class _SpectralNorm(Module):
    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(
                f"Expected n_power_iterations to be positive, but got n_power_iterations={n_power_iterations}"
            )
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            with no_grad():
                weight_mat = self._reshape_weight_to_matrix(weight.detach())
                h, w = weight_mat.shape
                u = randn(h, dtype=weight.dtype, backend=weight.backend)
                v = randn(w, dtype=weight.dtype, backend=weight.backend)
                self.register_buffer("_u", normalize(u, dim=0, eps=self.eps))
                self.register_buffer("_v", normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if weight.ndim <= 1:
            raise AssertionError(f"Expected weight to have more than 1 dimension, got {weight.ndim}")
        return _to_matrix(weight, self.dim)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        """``n_power_iterations`` steps of the power method, written into the buffers ``_u``
        and ``_v`` (the same tensor objects, as PyTorch's in-place update)."""
        with no_grad():
            weight_mat = weight_mat.detach()
            u, v = self._u.detach(), self._v.detach()
            for _ in range(n_power_iterations):
                u = normalize(ops.mv(weight_mat, v), dim=0, eps=self.eps)
                v = normalize(ops.mv(weight_mat.mT, u), dim=0, eps=self.eps)
            self._u.data = u.data
            self._v.data = v.data

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u = self._u.detach()
        v = self._v.detach()
        sigma = ops.dot(u, ops.mv(weight_mat, v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """Divide ``module.<name>`` by its spectral norm (largest singular value), estimated by
    the power method, as a parametrization (PyTorch's
    ``torch.nn.utils.parametrizations.spectral_norm``, used to constrain GAN
    discriminators). Returns ``module``.

    The weight is seen as a matrix with ``dim`` first (default 0; 1 for the
    ``ConvTranspose`` layers). The estimates of its top singular vectors are the buffers
    ``parametrizations.<name>.0._u`` and ``._v``: random at registration, refined by 15
    power iterations then (plus, as in PyTorch, the ``n_power_iterations`` of the check
    that registration makes in training mode), and by ``n_power_iterations`` more on
    each access in training mode (none in eval mode). A 1-D weight is simply normalised. ``eps`` guards the
    normalisations.

    >>> import gdl
    >>> from gdl.nn.utils.parametrizations import spectral_norm
    >>> m = spectral_norm(gdl.nn.Linear(20, 40, dtype=gdl.float64))
    >>> list(m.state_dict())[1:]
    ['parametrizations.weight.original', 'parametrizations.weight.0._u', 'parametrizations.weight.0._v']
    >>> for _ in range(100):             # each access in training mode: one more power step
    ...     W = m.weight
    >>> round(float(gdl.linalg.matrix_norm(W, ord=2)), 4)
    1.0
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if _is_conv_transpose(module) else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


# -- the hook-based versions (torch.nn.utils.weight_norm / spectral_norm) ---------------------------------
def _forward_pre_hooks(module):
    return module.__dict__.get("_forward_pre_hooks", {})


def _drop_buffer(module, name) -> None:
    delattr(module, name)
    parametrize._drop_buffer_name(module, name)


class WeightNorm:
    """The forward pre-hook of the hook-based :func:`gdl.nn.utils.weight_norm` (PyTorch's
    ``torch.nn.utils.weight_norm.WeightNorm``): recomputes ``module.<name>`` from
    ``<name>_g`` and ``<name>_v`` before each forward."""

    def __init__(self, name: str, dim: int | None) -> None:
        if dim is None:
            dim = -1
        self.name = name
        self.dim = dim

    def compute_weight(self, module: Module) -> Tensor:
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return _weight_norm(v, g, self.dim)

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        warnings.warn(
            "`gdl.nn.utils.weight_norm` is deprecated in favor of `gdl.nn.utils.parametrizations.weight_norm` "
            "(as in PyTorch).",
            FutureWarning,
            stacklevel=3,
        )
        for hook in _forward_pre_hooks(module).values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        if dim is None:
            dim = -1
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        if name not in module._parameters:
            raise ValueError(f"weight_norm: {name!r} is not a parameter of {type(module).__name__}")
        with no_grad():
            g = _norm_except_dim(weight.detach(), dim)
        del module._parameters[name]
        module.__dict__.pop(name, None)
        module.register_parameter(name + "_g", Parameter(g))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module)
        delattr(module, self.name)
        delattr(module, self.name + "_g")
        delattr(module, self.name + "_v")
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))


class SpectralNorm:
    """The forward pre-hook of the hook-based :func:`gdl.nn.utils.spectral_norm` (PyTorch's
    ``torch.nn.utils.spectral_norm.SpectralNorm``): recomputes ``module.<name>`` from
    ``<name>_orig`` and the buffers ``<name>_u``, ``<name>_v`` before each forward,
    running the power method in training mode."""

    _version = 1

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError(
                f"Expected n_power_iterations to be positive, but got n_power_iterations={n_power_iterations}"
            )
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        return _to_matrix(weight, self.dim)

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u_buf = getattr(module, self.name + "_u")
        v_buf = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        u, v = u_buf.detach(), v_buf.detach()
        if do_power_iteration:
            with no_grad():
                wm = weight_mat.detach()
                for _ in range(self.n_power_iterations):
                    v = normalize(ops.mv(wm.mT, u), dim=0, eps=self.eps)
                    u = normalize(ops.mv(wm, v), dim=0, eps=self.eps)
                u_buf.data = u.data
                v_buf.data = v.data
        sigma = ops.dot(u, ops.mv(weight_mat, v))
        return weight / sigma

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        _drop_buffer(module, self.name + "_u")
        _drop_buffer(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int, eps: float) -> SpectralNorm:
        for hook in _forward_pre_hooks(module).values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        with no_grad():
            weight_mat = fn.reshape_weight_to_matrix(weight.detach())
            h, w = weight_mat.shape
            u = normalize(randn(h, dtype=weight.dtype, backend=weight.backend), dim=0, eps=fn.eps)
            v = normalize(randn(w, dtype=weight.dtype, backend=weight.backend), dim=0, eps=fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        setattr(module, fn.name, weight.detach())
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def _remove_pre_hook(module: Module, kind, name: str, what: str) -> Module:
    store = _forward_pre_hooks(module)
    for k, hook in list(store.items()):
        if isinstance(hook, kind) and hook.name == name:
            hook.remove(module)
            del store[k]
            return module
    raise ValueError(f"{what} of '{name}' not found in {module}")
