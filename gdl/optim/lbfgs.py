"""L-BFGS, as ``torch.optim.LBFGS`` (PyTorch 2.13's algorithm, step for step).

All parameters are seen as one flat vector (their ``reshape(-1)`` views, in order).
Each :meth:`LBFGS.step` runs up to ``max_iter`` quasi-Newton iterations and calls the
closure (which recomputes the loss and its gradients) as often as it needs, at most
``max_eval`` times. The direction comes from the two-loop recursion over the last
``history_size`` curvature pairs; the step length is ``lr`` (the first iteration ever:
``min(1, 1/|g|_1) * lr``), or a strong-Wolfe line search with cubic interpolation
(``line_search_fn='strong_wolfe'``).

>>> import gdl, gdl.optim
>>> from gdl.nn.parameter import Parameter
>>> x = Parameter(gdl.tensor([-1.5, 2.0], dtype=gdl.float64))
>>> opt = gdl.optim.LBFGS([x], line_search_fn="strong_wolfe")
>>> def closure():
...     opt.zero_grad()
...     loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2   # Rosenbrock
...     loss.backward()
...     return loss
>>> for _ in range(5):
...     _ = opt.step(closure)
>>> [round(v, 4) for v in x.tolist()]
[1.0, 1.0]
"""

from __future__ import annotations

import math

from gdl.optim.optimizer import Optimizer, _as_index, _snapshot, check_nonneg
from gdl.tensor import Tensor, enable_grad

__all__ = ["LBFGS"]


def _div(a: float, b: float) -> float:
    """``a / b`` with IEEE results for ``b == 0`` (inf or nan), as PyTorch's 0-d tensors give."""
    if b != 0:
        return a / b
    if a == 0 or math.isnan(a) or math.isnan(b):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through two points with values and slopes, clipped to
    ``bounds`` (PyTorch's ``_cubic_interpolate``, from torch/optim's ``polyinterp.lua``)."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * _div(f1 - f2, x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * _div(g2 + d2 - d1, g2 - g1 + 2 * d2)
        else:
            min_pos = x1 - (x1 - x2) * _div(g1 + d2 - d1, g1 - g2 + 2 * d2)
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, dot, x, t, d, d_norm, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """PyTorch's ``_strong_wolfe`` (from torch/optim's ``lswolfe.lua``) over flat arrays.

    ``obj_func(x, t, d)`` gives ``(loss, flat_grad)`` at ``x + t d``; ``dot(a, b)`` is a
    Python float; ``d_norm = max |d|``. Returns ``(f_new, g_new, t, evaluations)``.
    """
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = dot(g_new, d)

    # bracket an interval containing a point satisfying the Wolfe criteria
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    bracket = bracket_f = bracket_g = bracket_gtd = None
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        # interpolate
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        # next step
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new, gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = dot(g_new, d)
        ls_iter += 1

    # reached the maximum number of iterations? (``>=``: PyTorch fails with max_ls < 0)
    if ls_iter >= max_ls and bracket is None:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom phase: refine the bracket until a point satisfies the criteria
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # a trial too close to an end of the bracket moves 0.1 * its length inside
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = dot(g_new, d)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # Armijo condition not satisfied or not lower than the lowest point
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new, gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True  # Wolfe conditions satisfied
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # old high becomes new low
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            # new point becomes new low
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new, gtd_new

    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


_VECTOR_STATE = ("d", "prev_flat_grad")
_LIST_STATE = ("old_dirs", "old_stps")
_FLOAT_STATE = ("t", "H_diag", "prev_loss")
_INT_STATE = ("func_evals", "n_iter")
_STATE_KEYS = _VECTOR_STATE + _LIST_STATE + _FLOAT_STATE + _INT_STATE + ("ro",)


class LBFGS(Optimizer):
    """L-BFGS (heavily inspired by minFunc), exactly as ``torch.optim.LBFGS``.

    ``step(closure)`` needs a closure that clears the gradients, recomputes the loss,
    calls ``backward()`` and returns the loss; it returns the closure's first loss.
    One parameter group only, all parameters on one backend. Memory: ``history_size``
    pairs of flat vectors.

    Args:
        params: the parameters (one group).
        lr: step length (>= 0), default 1.
        max_iter: iterations per ``step()``, default 20.
        max_eval: closure evaluations per ``step()``, default ``max_iter * 5 // 4``.
        tolerance_grad: stop when ``max |grad| <= tolerance_grad``, default 1e-7.
        tolerance_change: stop when the step or the loss change is below it, default 1e-9.
        history_size: curvature pairs kept, default 100.
        line_search_fn: None (fixed step ``lr``) or ``'strong_wolfe'``.

    State (PyTorch's, kept as ``state[first parameter]``): ``func_evals``, ``n_iter``
    (ints), ``d``, ``prev_flat_grad`` (flat tensors), ``old_dirs``, ``old_stps`` (lists
    of flat tensors), ``ro`` (list of floats), ``t``, ``H_diag``, ``prev_loss`` (floats).
    PyTorch's scratch list ``al`` is not kept (it is accepted when loading).

    Example::

        opt = gdl.optim.LBFGS(model.parameters(), lr=1, line_search_fn="strong_wolfe")
        def closure():
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            return loss
        opt.step(closure)
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if max_eval is None and isinstance(max_iter, int) and not isinstance(max_iter, bool):
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size,
                        line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        # PyTorch's LBFGS has no maximize option: keep its group keys
        self.defaults.pop("maximize", None)
        self.param_groups[0].pop("maximize", None)

    @property
    def _params(self):
        return self.param_groups[0]["params"]

    def add_param_group(self, param_group: dict) -> None:
        """Only the constructor's group: ``ValueError`` for a second one (as PyTorch's)."""
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)
        backends = {p._backend for p in self.param_groups[0]["params"]}
        if len(backends) > 1:
            self.param_groups.clear()
            raise ValueError("LBFGS: all parameters must be on one backend (it works on one flat vector)")

    def _validate(self, group):
        check_nonneg("LBFGS", "lr", group["lr"])
        for key in ("max_iter", "max_eval", "history_size"):
            value = group[key]
            kinds = (int, float) if key == "max_eval" else int  # older PyTorch saved max_iter * 1.25
            if isinstance(value, bool) or not isinstance(value, kinds):
                raise TypeError(f"LBFGS: {key} must be an int, got {value!r}")
        if group["history_size"] < 1:
            raise ValueError(f"LBFGS: history_size must be >= 1, got {group['history_size']}")
        for key in ("tolerance_grad", "tolerance_change"):
            value = group[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"LBFGS: {key} must be a number, got {value!r}")
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {group['line_search_fn']!r}")

    # -- the flat vector ---------------------------------------------------------------------
    def _xp(self):
        return self._params[0]._backend.xp

    def _gather_flat_grad(self):
        xp = self._xp()
        views = []
        for p in self._params:
            g = p.grad
            if g is None:
                views.append(xp.zeros((p.numel(),), dtype=p.data.dtype, device=p._backend.device))
                continue
            if g.is_sparse:
                g = g.to_dense()
            views.append(xp.reshape(g.data, (-1,)))
        return views[0] if len(views) == 1 else xp.concat(views)

    def _add_grad(self, step_size, update):
        xp = self._xp()
        offset = 0
        for p in self._params:
            n = p.numel()
            u = xp.reshape(update[offset:offset + n], p.data.shape)
            if u.dtype != p.data.dtype:
                u = xp.astype(u, p.data.dtype)
            p.data = p.data + step_size * u
            offset += n

    def _set_param(self, arrays):
        for p, a in zip(self._params, arrays):
            p.data = a

    @staticmethod
    def _loss(closure):
        with enable_grad():
            loss = closure()
        try:
            return loss, float(loss)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"LBFGS: the closure must return the loss (a one-element tensor or a number), got {loss!r}"
            ) from exc

    def _directional_evaluate(self, closure, x, t, d):
        self._add_grad(t, d)
        _, loss = self._loss(closure)
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # -- the step ----------------------------------------------------------------------------
    def step(self, closure=None):
        """Run up to ``max_iter`` L-BFGS iterations; returns the closure's first loss.

        ``closure`` (required) clears the gradients, recomputes the loss, calls
        ``backward()`` and returns the loss.
        """
        if closure is None or not callable(closure):
            raise TypeError(
                "LBFGS.step needs a closure: a function that clears the gradients, recomputes the loss, "
                f"calls loss.backward() and returns the loss (got {closure!r})"
            )
        group = self.param_groups[0]
        lr = float(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]
        xp = self._xp()

        def dot(a, b):
            return float(xp.vecdot(a, b))

        def abs_max(a):
            return float(xp.max(xp.abs(a)))

        backend = self._params[0]._backend
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        # evaluate the initial f(x) and df/dx
        orig_loss, loss = self._loss(closure)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if abs_max(flat_grad) <= tolerance_grad:
            return orig_loss

        d = _unwrap(state.get("d"))
        t = state.get("t")
        old_dirs = _unwrap_list(state.get("old_dirs"))
        old_stps = _unwrap_list(state.get("old_stps"))
        ro = None if state.get("ro") is None else list(state["ro"])
        H_diag = state.get("H_diag")
        prev_flat_grad = _unwrap(state.get("prev_flat_grad"))
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # -- the descent direction --
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                # update the memory
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = dot(y, s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:  # shift the history by one
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(_div(1.0, ys))
                    H_diag = _div(ys, dot(y, y))  # scale of the initial Hessian approximation
                # the two-loop recursion: d = -H g
                num_old = len(old_dirs)
                al = [0.0] * num_old
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = dot(old_stps[i], q) * ro[i]
                    q = q + (-al[i]) * old_dirs[i]
                r = q * H_diag
                for i in range(num_old):
                    be_i = dot(old_dirs[i], r) * ro[i]
                    r = r + (al[i] - be_i) * old_stps[i]
                d = r

            prev_flat_grad = flat_grad
            prev_loss = loss

            # -- the step length --
            if state["n_iter"] == 1:
                t = min(1.0, _div(1.0, float(xp.sum(xp.abs(flat_grad))))) * lr
            else:
                t = lr

            gtd = dot(flat_grad, d)  # directional derivative
            if gtd > -tolerance_change:
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                x_init = [p.data for p in self._params]

                def obj_func(x, step, direction):
                    return self._directional_evaluate(closure, x, step, direction)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, dot, x_init, t, d, abs_max(d), loss, flat_grad, gtd,
                    max_ls=max_eval - current_evals,
                )
                self._add_grad(t, d)
                opt_cond = abs_max(flat_grad) <= tolerance_grad
            else:
                self._add_grad(t, d)  # a fixed step
                opt_cond = False
                if n_iter != max_iter:  # re-evaluate, except after the last iteration
                    _, loss = self._loss(closure)
                    flat_grad = self._gather_flat_grad()
                    opt_cond = abs_max(flat_grad) <= tolerance_grad
                    ls_func_evals = 1

            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # -- stopping rules --
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if abs_max(d * t) <= tolerance_change:  # lack of progress
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        def wrap(a):
            return None if a is None else Tensor._wrap(a, backend)

        state["d"] = wrap(d)
        state["t"] = t
        state["old_dirs"] = [wrap(a) for a in old_dirs] if old_dirs is not None else None
        state["old_stps"] = [wrap(a) for a in old_stps] if old_stps is not None else None
        state["ro"] = ro
        state["H_diag"] = H_diag
        state["prev_flat_grad"] = wrap(prev_flat_grad)
        state["prev_loss"] = prev_loss
        return orig_loss

    # -- checkpoints -------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """PyTorch's layout: the whole state under parameter 0; tensors and lists are copies."""
        out = super().state_dict()
        for st in out["state"].values():
            for key, value in st.items():
                if isinstance(value, list):
                    st[key] = [_snapshot(v) for v in value]
        return out

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a :meth:`state_dict` (gdl's or PyTorch's, tensors as gdl/NumPy arrays or numbers)."""
        name = "LBFGS"
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups'")
        saved_state = dict(state_dict["state"])
        super().load_state_dict(dict(state_dict, state={}))  # checks and loads the group
        self.param_groups[0].pop("maximize", None)
        saved_group = state_dict["param_groups"][0]
        known = {_as_index(i, name) for i in saved_group.get("params", ())}
        if len(saved_state) > 1:
            raise ValueError(f"{name}.load_state_dict: expected the state of one parameter, got {len(saved_state)}")
        first = self._params[0]
        numel = sum(p.numel() for p in self._params)
        dtype = self._gather_dtype()
        new = {}
        for key, saved in saved_state.items():
            idx = _as_index(key, name)
            if idx not in known:
                raise ValueError(f"{name}.load_state_dict: state for parameter {idx}, which the group does not list")
            for k, v in dict(saved).items():
                if k == "al":
                    continue  # PyTorch's scratch space
                if k not in _STATE_KEYS:
                    raise ValueError(
                        f"{name}.load_state_dict: state {k!r} is not LBFGS state (expected {sorted(_STATE_KEYS)}); "
                        f"is this another optimizer's state?"
                    )
                if v is None:
                    new[k] = None
                elif k in _VECTOR_STATE:
                    new[k] = _restore_vector(v, first, dtype, numel, k)
                elif k in _LIST_STATE:
                    new[k] = [_restore_vector(a, first, dtype, numel, k) for a in v]
                elif k == "ro":
                    new[k] = [float(a) for a in v]
                elif k in _INT_STATE:
                    new[k] = int(v)
                else:
                    new[k] = _number(v)
        self.state.clear()
        if new:
            self.state[first] = new

    def _gather_dtype(self):
        xp = self._xp()
        return xp.result_type(*[p.data.dtype for p in self._params]) if len(self._params) > 1 else self._params[0].data.dtype


def _unwrap(v):
    return None if v is None else v.data


def _unwrap_list(v):
    return None if v is None else [a.data for a in v]


def _number(v):
    if isinstance(v, Tensor):
        v = v.item()
    if isinstance(v, int) and not isinstance(v, bool):
        return v  # PyTorch's H_diag starts as the int 1
    return float(v)


def _restore_vector(v, p, dtype, numel, key):
    from gdl.tensor import tensor

    t = v if isinstance(v, Tensor) else tensor(v, backend=p._backend)
    if t.shape != (numel,):
        raise ValueError(
            f"LBFGS.load_state_dict: state {key!r} has shape {t.shape}, expected ({numel},) "
            f"(all parameters as one flat vector)"
        )
    xp = p._backend.xp
    data = t.data if t._backend is p._backend else p._backend.from_host(t.numpy())
    return Tensor._wrap(xp.asarray(xp.astype(data, dtype), copy=True), p._backend)
