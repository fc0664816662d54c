"""Parameter: a tensor that a Module registers as trainable."""

from __future__ import annotations

from gdl.tensor import Tensor, tensor


class Parameter(Tensor):
    """A leaf tensor with ``requires_grad=True`` that modules collect.

    >>> import gdl
    >>> w = gdl.nn.Parameter(gdl.zeros(3, 2))
    >>> w.requires_grad
    True
    """

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True):
        t = data if isinstance(data, Tensor) else tensor(data)
        self.data = t.data
        self._backend = t._backend
        self.grad = None
        self.grad_fn = None
        self._retain = False
        self.requires_grad = False
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)
