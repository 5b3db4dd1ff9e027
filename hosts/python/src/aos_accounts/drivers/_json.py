"""The one JSON check the drivers make (a pin's value, a user's preferences): whether a text is a JSON
object, as the Rust host decides it with ``serde_json::from_str::<Value>`` — stricter than Python's
``json`` on a few inputs, which are refused here too."""

from __future__ import annotations

import json
import math
from typing import Any

# serde_json refuses a document nested deeper than this (its recursion limit of 128 counts down to 0).
_MAX_DEPTH = 127


class _Refused(ValueError):
    pass


def _refuse(_text: str) -> Any:
    # NaN, Infinity and -Infinity are not JSON.
    raise _Refused


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _Refused  # serde_json: "number out of range"
    return value


def _int(text: str) -> int:
    # serde_json reads an integer beyond 64 bits as a float, and refuses one that overflows it.
    if math.isinf(float(text)):
        raise _Refused
    return int(text)


def _has_lone_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def _acceptable(value: Any) -> bool:
    """No nesting deeper than serde_json reads, and no unpaired UTF-16 surrogate escape in a string."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > _MAX_DEPTH:
                return False
            for key, inner in item.items():
                if _has_lone_surrogate(key):
                    return False
                stack.append((inner, depth + 1))
        elif isinstance(item, list):
            if depth > _MAX_DEPTH:
                return False
            stack.extend((inner, depth + 1) for inner in item)
        elif isinstance(item, str) and _has_lone_surrogate(item):
            return False
    return True


def is_json_object(text: str) -> bool:
    """Whether ``text`` is one JSON object (and nothing else)."""
    try:
        value = json.loads(text, parse_constant=_refuse, parse_float=_float, parse_int=_int)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and _acceptable(value)
