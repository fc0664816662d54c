"""Per-parameter state held as 0-d arrays (NAdam's ``mu_product``, ASGD's ``eta`` and ``mu``).

PyTorch keeps these as 0-d tensors next to the full-size buffers. gdl does the same: a
0-d :class:`~gdl.tensor.Tensor` in the parameter's dtype and on its backend, so the
update reads and writes it as an array (no host round trip on a GPU). The base
class's ``load_state_dict`` checks that every buffer has the parameter's shape;
:class:`ScalarStateMixin` takes the 0-d entries out before it runs and puts them back
after, accepting a gdl tensor, a Python number or any one-element array.
"""

from __future__ import annotations

from gdl.tensor import Tensor


class ScalarStateMixin:
    """Mix into an :class:`~gdl.optim.Optimizer` whose ``scalar_state`` names 0-d state entries."""

    scalar_state: dict = {}  # name -> initial value (a Python float)

    @staticmethod
    def _scalar_like(p, value: float) -> Tensor:
        xp = p._backend.xp
        return Tensor._wrap(xp.full((), value, dtype=p.data.dtype, device=p._backend.device), p._backend)

    def _fill_scalars(self, p, st: dict) -> None:
        for key, value in self.scalar_state.items():
            if key not in st:
                st[key] = self._scalar_like(p, value)

    def load_state_dict(self, state_dict: dict) -> None:
        name = type(self).__name__
        load_setting_aside(self, state_dict, self.scalar_state, super().load_state_dict,
                           lambda value, p, key, idx: self._restore_scalar(value, p, key, idx, name))

    @staticmethod
    def _restore_scalar(value, p, key, idx, owner) -> Tensor:
        from gdl.tensor import tensor

        # straight to p's dtype: a Python float must not pass through float32 on the way
        t = tensor(value, dtype=p.dtype, backend=p._backend)
        if t.numel() != 1:
            raise ValueError(
                f"{owner}.load_state_dict: state {key!r} of parameter {idx} must be one number, "
                f"got shape {t.shape}"
            )
        return Tensor._wrap(p._backend.xp.reshape(t.data, ()), p._backend)


def load_setting_aside(optimizer, state_dict: dict, keys, base_load, restore) -> None:
    """``load_state_dict`` for an optimizer with state entries (named in ``keys``) whose shape
    is not the parameter's: they are taken out before ``base_load`` (the base class's, which
    checks every buffer against its parameter) and put back after as ``restore(value, p,
    key, index)``."""
    name = type(optimizer).__name__
    if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
        raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups'")
    rest, aside = {}, {}
    for idx, saved in dict(state_dict["state"]).items():
        saved = dict(saved)
        aside[idx] = {k: saved.pop(k) for k in list(saved) if k in keys}
        rest[idx] = saved
    base_load(dict(state_dict, state=rest))
    # the base class has checked the indices and the groups: map them to the parameters
    id_map = {}
    for saved_group, group in zip(state_dict["param_groups"], optimizer.param_groups):
        for idx, p in zip(saved_group["params"], group["params"]):
            id_map[int(idx)] = p
    for idx, entries in aside.items():
        p = id_map[int(idx)]
        for key, value in entries.items():
            optimizer.state[p][key] = restore(value, p, key, idx)
