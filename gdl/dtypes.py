"""gdl's data types, the same objects on every backend.

``gdl.float32`` names a dtype; each backend maps it to its own (``numpy.float32``,
``cupy.float32``, ``array_api_strict.float32``). ``Tensor.dtype`` returns one of
these objects, and they compare equal to the backend's own dtype objects and to
their names, so ``t.dtype == gdl.float32`` and ``t.dtype == "float32"`` both work.
"""

from __future__ import annotations

_NAMES = ("float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool")
_FLOATS = frozenset({"float16", "float32", "float64"})


class DType:
    """A backend-independent dtype name (``gdl.float32``, ``gdl.int64``, ...)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"gdl.{self.name}"

    def __eq__(self, other) -> bool:
        if isinstance(other, DType):
            return other.name == self.name
        if isinstance(other, str):
            return other == self.name
        try:
            return _name_of_foreign(other) == self.name
        except TypeError:
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)

    @property
    def is_floating_point(self) -> bool:
        return self.name in _FLOATS


ALL = {name: DType(name) for name in _NAMES}
float32 = ALL["float32"]
float64 = ALL["float64"]
float16 = ALL["float16"]
int64 = ALL["int64"]
int32 = ALL["int32"]
int16 = ALL["int16"]
int8 = ALL["int8"]
uint8 = ALL["uint8"]
bool_ = ALL["bool"]

_default_float = [float32]


def set_default_dtype(dtype) -> None:
    """Set the floating dtype used when none is given (``gdl.float32`` at start)."""
    dtype = as_dtype(dtype)
    if not dtype.is_floating_point:
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype!r}")
    _default_float[0] = dtype


def get_default_dtype() -> DType:
    return _default_float[0]


def as_dtype(dtype) -> DType:
    """The gdl :class:`DType` for a DType, a name, or a backend's dtype object."""
    if isinstance(dtype, DType):
        return dtype
    if isinstance(dtype, str):
        if dtype not in ALL:
            raise TypeError(f"unknown dtype {dtype!r}; gdl dtypes: {', '.join(_NAMES)}")
        return ALL[dtype]
    key = (type(dtype), dtype)  # the type first: no cross-library dtype comparisons
    try:
        return _FOREIGN[key]
    except (KeyError, TypeError):
        found = ALL[_name_of_foreign(dtype)]
    try:
        _FOREIGN[key] = found
    except TypeError:  # unhashable dtype object
        pass
    return found


_FOREIGN: dict = {}  # backend dtype object -> DType (looking up a name is slow)


def is_floating(dtype) -> bool:
    """Whether a backend's dtype object (or a DType, or a name) is a floating dtype.

    Cached by the object's identity (ops call it on every call; ~0.05 µs, where
    :func:`as_dtype` plus the property costs ~0.5 µs and hashing a NumPy dtype ~0.2 µs).
    The cache holds each dtype it has seen, so that an id is never reused.
    """
    hit = _FLOATING.get(id(dtype))
    if hit is not None and hit[0] is dtype:
        return hit[1]
    found = as_dtype(dtype).is_floating_point
    if len(_FLOATING) < 256:
        _FLOATING[id(dtype)] = (dtype, found)
    return found


_FLOATING: dict = {}  # id(dtype) -> (dtype, is it floating)


def _name_of_foreign(dtype) -> str:
    if dtype is bool:
        return "bool"
    if dtype is float:
        return _default_float[0].name
    if dtype is int:
        return "int64"
    for candidate in (getattr(dtype, "name", None), getattr(dtype, "__name__", None), str(dtype)):
        if isinstance(candidate, str):
            short = candidate.rsplit(".", 1)[-1]
            if short == "bool_":
                short = "bool"
            if short in ALL:
                return short
    raise TypeError(f"not a dtype gdl knows: {dtype!r}")


def backend_dtype(backend, dtype):
    """The backend's own dtype object for ``dtype`` (None stays None)."""
    if dtype is None:
        return None
    return getattr(backend.xp, as_dtype(dtype).name)
