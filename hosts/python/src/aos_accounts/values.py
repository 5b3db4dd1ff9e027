"""Component values as plain Python, by the component's own types.

The plain form is the engine's JSON convention (the HTTP API's and the conformance suite's): records are
dicts keyed by the WIT field names with ``_`` for ``-``, enum and flag names the same way, an option is
``None`` or its value, a variant case is its name or ``{name: payload}``, ``list<u8>`` is ``bytes`` (base64
text in JSON), times are integer microseconds.

wasmtime-py hands a ``variant``/``option``/``result`` over without its tag when its cases' Python classes do
not overlap (``VariantLikeType._tagged``); a :class:`Codec` is built once per type, asks wasmtime-py which
form a type takes, and converts both ways.
"""

from __future__ import annotations

import base64
from typing import Any, Callable, Dict, List, Optional, Tuple

from wasmtime import component as c


def snake(name: str) -> str:
    return name.replace("-", "_")


def kebab(name: str) -> str:
    return name.replace("_", "-")


class Codec:
    """Converts one component type between wasmtime-py's values and the plain form."""

    def to_wasm(self, value: Any) -> Any:
        raise NotImplementedError

    def from_wasm(self, value: Any) -> Any:
        raise NotImplementedError

    def classes(self) -> set:
        """The Python classes wasmtime-py accepts for this type (``object``: ``None`` too)."""
        raise NotImplementedError


class _Scalar(Codec):
    def __init__(self, kinds: tuple, cls: type, convert: Callable[[Any], Any] = lambda v: v):
        self.kinds, self.cls, self.convert = kinds, cls, convert

    def to_wasm(self, value: Any) -> Any:
        if not isinstance(value, self.kinds) or (self.cls is int and isinstance(value, bool)):
            raise TypeError(f"expected {self.cls.__name__}, got {type(value).__name__}")
        return self.convert(value)

    def from_wasm(self, value: Any) -> Any:
        return value

    def classes(self) -> set:
        return {self.cls}


class _Int(Codec):
    """An integer of a WIT width: out of range is refused, never wrapped (wasmtime-py would wrap it)."""

    def __init__(self, low: int, high: int):
        self.low, self.high = low, high

    def to_wasm(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"expected a whole number, got {type(value).__name__}")
        if isinstance(value, float):
            if not value.is_integer():
                raise TypeError("expected a whole number")
            value = int(value)
        if not self.low <= value <= self.high:
            raise ValueError("number out of range")
        return value

    def from_wasm(self, value: Any) -> Any:
        return value

    def classes(self) -> set:
        return {int}


#: The range of each WIT integer type.
_INT_RANGES = {c.S8: (-(1 << 7), (1 << 7) - 1), c.U8: (0, (1 << 8) - 1), c.S16: (-(1 << 15), (1 << 15) - 1),
               c.U16: (0, (1 << 16) - 1), c.S32: (-(1 << 31), (1 << 31) - 1), c.U32: (0, (1 << 32) - 1),
               c.S64: (-(1 << 63), (1 << 63) - 1), c.U64: (0, (1 << 64) - 1)}


class _Bytes(Codec):
    def to_wasm(self, value: Any) -> Any:
        if isinstance(value, str):
            return base64.b64decode(value, validate=True)
        if not isinstance(value, (bytes, bytearray)):
            raise TypeError("expected bytes or base64 text")
        return bytes(value)

    def from_wasm(self, value: Any) -> Any:
        return bytes(value)

    def classes(self) -> set:
        return {bytes}


class _List(Codec):
    def __init__(self, item: Codec):
        self.item = item

    def to_wasm(self, value: Any) -> Any:
        if not isinstance(value, (list, tuple)):
            raise TypeError("expected a list")
        return [self.item.to_wasm(v) for v in value]

    def from_wasm(self, value: Any) -> Any:
        return [self.item.from_wasm(v) for v in value]

    def classes(self) -> set:
        return {list}


class _Enum(Codec):
    def __init__(self, names: List[str]):
        self.names = set(names)

    def to_wasm(self, value: Any) -> Any:
        if not isinstance(value, str) or kebab(value) not in self.names:
            raise TypeError(f"expected one of {', '.join(sorted(snake(n) for n in self.names))}")
        return kebab(value)

    def from_wasm(self, value: Any) -> Any:
        return snake(value)

    def classes(self) -> set:
        return {str}


class _Flags(Codec):
    def __init__(self, names: List[str]):
        self.names = set(names)

    def to_wasm(self, value: Any) -> Any:
        out = {kebab(v) for v in value}
        unknown = out - self.names
        if unknown:
            raise TypeError(f"unknown flags {sorted(unknown)}")
        return out

    def from_wasm(self, value: Any) -> Any:
        return sorted(snake(v) for v in value)

    def classes(self) -> set:
        return {set}


class _Record(Codec):
    def __init__(self, fields: List[Tuple[str, Codec]]):
        self.fields = fields

    def to_wasm(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise TypeError("expected a dict")
        unknown = set(value) - {snake(n) for n, _ in self.fields}
        if unknown:
            raise TypeError(f"unknown field {sorted(unknown)[0]!r}")
        record = c.Record()
        for name, codec in self.fields:
            try:
                setattr(record, name, codec.to_wasm(value.get(snake(name))))
            except (TypeError, ValueError) as e:
                raise TypeError(f"{snake(name)}: {e}") from None
        return record

    def from_wasm(self, value: Any) -> Any:
        return {snake(name): codec.from_wasm(getattr(value, name)) for name, codec in self.fields}

    def classes(self) -> set:
        return {c.Record}


class _Tuple(Codec):
    def __init__(self, items: List[Codec]):
        self.items = items

    def to_wasm(self, value: Any) -> Any:
        return tuple(codec.to_wasm(v) for codec, v in zip(self.items, value))

    def from_wasm(self, value: Any) -> Any:
        return [codec.from_wasm(v) for codec, v in zip(self.items, value)]

    def classes(self) -> set:
        return {tuple}


class _Cases(Codec):
    """``variant``, ``option`` and ``result``: a list of (case name, payload codec or None)."""

    def __init__(self, ty: Any, cases: List[Tuple[str, Optional[Codec]]]):
        # wasmtime-py decides the form; ask it rather than restate its rule.
        self.tagged = ty._tagged()
        self.cases = cases

    def case_classes(self, codec: Optional[Codec]) -> set:
        return {object} if codec is None else codec.classes()

    def classes(self) -> set:
        if self.tagged:
            return {c.Variant}
        out: set = set()
        for _, codec in self.cases:
            out |= self.case_classes(codec)
        return out

    def lower(self, case: str, payload: Any) -> Any:
        """The wasmtime-py value of ``case`` carrying ``payload`` (plain)."""
        for name, codec in self.cases:
            if name == case:
                inner = None if codec is None else codec.to_wasm(payload)
                return c.Variant(name, inner) if self.tagged else inner
        raise TypeError(f"no case {snake(case)!r}")

    def lift(self, value: Any) -> Tuple[str, Any]:
        """(case name, plain payload) of a wasmtime-py value."""
        if self.tagged:
            codec = dict(self.cases)[value.tag]
            return value.tag, None if codec is None else codec.from_wasm(value.payload)
        # Untagged: the first case whose classes the value is an instance of (wasmtime-py's order).
        for name, codec in self.cases:
            if codec is None:
                if value is None:
                    return name, None
                continue
            if isinstance(value, tuple(codec.classes())):
                return name, codec.from_wasm(value)
        raise TypeError(f"a value of no case: {value!r}")


class _Variant(_Cases):
    def to_wasm(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.lower(kebab(value), None)
        if isinstance(value, dict) and len(value) == 1:
            (case, payload), = value.items()
            return self.lower(kebab(case), payload)
        raise TypeError("expected a case name, or a dict with one key naming the case")

    def from_wasm(self, value: Any) -> Any:
        case, payload = self.lift(value)
        has_payload = dict(self.cases)[case] is not None
        return {snake(case): payload} if has_payload else snake(case)


class _Option(_Cases):
    def to_wasm(self, value: Any) -> Any:
        return self.lower("none", None) if value is None else self.lower("some", value)

    def from_wasm(self, value: Any) -> Any:
        return self.lift(value)[1]


class Outcome:
    """A ``result`` value in plain form: ``ok`` or ``err`` with its payload."""

    __slots__ = ("ok", "value")

    def __init__(self, ok: bool, value: Any):
        self.ok, self.value = ok, value


class _Result(_Cases):
    def to_wasm(self, value: Any) -> Any:
        if not isinstance(value, Outcome):
            raise TypeError("expected an Outcome")
        return self.lower("ok" if value.ok else "err", value.value)

    def from_wasm(self, value: Any) -> Any:
        case, payload = self.lift_result(value)
        return Outcome(case == "ok", payload)

    def lift_result(self, value: Any) -> Tuple[str, Any]:
        if self.tagged:
            return self.lift(value)
        # wasmtime-py lifted the payload alone (it knew the tag): an `err` record where `ok` is no record.
        (_, ok), (_, err) = self.cases
        if err is not None and isinstance(value, tuple(err.classes())) and not (ok is not None and c.Record in ok.classes()):
            return "err", err.from_wasm(value)
        return "ok", None if ok is None else ok.from_wasm(value)


def codec(ty: Any) -> Codec:
    """The codec of a wasmtime-py component type."""
    if isinstance(ty, c.Bool):
        return _Scalar((bool,), bool)
    for kind, (low, high) in _INT_RANGES.items():
        if isinstance(ty, kind):
            return _Int(low, high)
    if isinstance(ty, (c.F32, c.F64)):
        return _Scalar((int, float), float, float)
    if isinstance(ty, (c.String, c.Char)):
        return _Scalar((str,), str)
    if isinstance(ty, c.ListType):
        element = ty.element
        return _Bytes() if isinstance(element, c.U8) else _List(codec(element))
    if isinstance(ty, c.EnumType):
        return _Enum(ty.names)
    if isinstance(ty, c.FlagsType):
        return _Flags(ty.names)
    if isinstance(ty, c.RecordType):
        return _Record([(name, codec(t)) for name, t in ty.fields])
    if isinstance(ty, c.TupleType):
        return _Tuple([codec(t) for t in ty.elements])
    if isinstance(ty, c.OptionType):
        return _Option(ty, [("none", None), ("some", codec(ty.payload))])
    if isinstance(ty, c.ResultType):
        ok, err = ty.ok, ty.err
        return _Result(ty, [("ok", None if ok is None else codec(ok)), ("err", None if err is None else codec(err))])
    if isinstance(ty, c.VariantType):
        return _Variant(ty, [(name, None if t is None else codec(t)) for name, t in ty.cases])
    raise TypeError(f"unsupported component type {ty!r}")


class Signature:
    """A function's parameters and result as codecs (built once per function)."""

    def __init__(self, func_type: Any):
        self.params: List[Tuple[str, Codec]] = [(name, codec(t)) for name, t in func_type.params]
        result = func_type.result
        self.result: Optional[Codec] = None if result is None else codec(result)

    def param_names(self) -> List[str]:
        return [snake(n) for n, _ in self.params]


def signatures_of(instance_type: Any, engine: Any) -> Dict[str, Signature]:
    """Every function of a component instance type, by name."""
    out = {}
    for name, item in instance_type.exports(engine).items():
        ty = item.ty
        if isinstance(ty, c.FuncType):
            out[name] = Signature(ty)
    return out
