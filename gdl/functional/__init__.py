"""Differentiable ops on tensors (the building blocks of every layer).

Each op lives beside its backward in one module per kind: ``elementwise``
(arithmetic), ``pointwise`` (elementwise math), ``reduction``, ``order`` (sorting
and order statistics), ``scan`` (cumulative ops), ``shape``, ``indexing``,
``linalg``, ``inplace`` (in-place methods), ``misc`` (searchsorted, unique, bincount,
cdist, ...), ``sampling`` (bernoulli, multinomial, normal, poisson), ``special``
(erf, erfc, erfinv), ``special_more`` (incomplete gamma, Bessel, zeta, Airy, orthogonal
polynomials), ``bitwise``, ``inplace_more`` (the rest of PyTorch's in-place methods),
``linalg_legacy`` (``torch.svd``/``qr``/``lu``/``cholesky_solve``/...), ``windows``
(``hann_window``, ...) and ``misc_more`` (``finfo``/``iinfo``, ``histogram``, ``gradient``,
printing options, ``stride()``/``data_ptr()``, ...). Each module lists its public ops in
``__all__`` and the Tensor methods it adds in ``TENSOR_METHODS``.
``gdl.sum(x)`` and ``x.sum()`` are the same op.
"""

from gdl.functional import elementwise, indexing, linalg, misc, order, pointwise, reduction, sampling, scan, shape
from gdl.functional import special
from gdl.functional import inplace
from gdl.functional import inplace_extra
from gdl.functional import indexing_extra, linalg_extra, shape_extra
from gdl.functional import pointwise_extra
from gdl.functional import bitwise, inplace_more, linalg_legacy, misc_more, special_more, windows
from gdl.functional.elementwise import *  # noqa: F403
from gdl.functional.indexing import *  # noqa: F403
from gdl.functional.inplace import *  # noqa: F403
from gdl.functional.linalg import *  # noqa: F403
from gdl.functional.misc import *  # noqa: F403
from gdl.functional.order import *  # noqa: F403
from gdl.functional.pointwise import *  # noqa: F403
from gdl.functional.pointwise_extra import *  # noqa: F403
from gdl.functional.reduction import *  # noqa: F403
from gdl.functional.sampling import *  # noqa: F403
from gdl.functional.scan import *  # noqa: F403
from gdl.functional.shape import *  # noqa: F403
from gdl.functional.special import *  # noqa: F403
from gdl.functional.indexing_extra import *  # noqa: F403
from gdl.functional.linalg_extra import *  # noqa: F403
from gdl.functional.shape_extra import *  # noqa: F403
from gdl.functional.bitwise import *  # noqa: F403
from gdl.functional.inplace_more import *  # noqa: F403
from gdl.functional.linalg_legacy import *  # noqa: F403
from gdl.functional.misc_more import *  # noqa: F403
from gdl.functional.special_more import *  # noqa: F403
from gdl.functional.windows import *  # noqa: F403
from gdl.functional import _methods  # noqa: F401  (attaches Tensor methods)

_MODULES = (elementwise, pointwise, reduction, order, scan, shape, indexing, linalg, inplace, misc, sampling, special,
            inplace_extra, shape_extra, indexing_extra, linalg_extra, pointwise_extra, bitwise, inplace_more, linalg_legacy,
            misc_more, special_more, windows)

cat = concat  # noqa: F405

__all__ = sorted({name for module in _MODULES for name in module.__all__} | {"cat"})
