"""schemathesis hooks of the OpenAPI test (named by schemathesis.toml; found on PYTHONPATH).

1. The document's own string formats, which JSON Schema generators do not know: `json-object` (JSON text
   of an object) and `json` (JSON text of any value), their strings without NUL. The document says the same with contentMediaType
   and contentSchema, which schemathesis does not generate from.
2. A page cursor (`page.after`) is valid only as the `next` of the previous page of the same list (the
   document says so); no schema can say which strings those are, so valid (positive) cases never invent
   one. Invalid (negative) cases keep theirs: they must be refused anyway.
"""
import json

import schemathesis
from hypothesis import strategies as st

# The formats' strings hold no NUL (the document says so: PostgreSQL's jsonb cannot keep one), and no lone
# surrogate (which is no Unicode text, and no JSON parser takes).
_text = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=20)
_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | _text
_values = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3), max_leaves=8
)
schemathesis.openapi.format("json-object", st.dictionaries(_text, _values, max_size=4).map(json.dumps))
schemathesis.openapi.format("json", _values.map(json.dumps))


@schemathesis.hook
def map_case(context, case):
    meta = case.meta
    if meta is not None and meta.generation.mode.is_positive and isinstance(case.body, dict):
        page = case.body.get("page")
        if isinstance(page, dict):
            page.pop("after", None)
    return case
