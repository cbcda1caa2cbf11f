"""JSON that strict parsers accept: no NaN or Infinity, which Python's json writes by default but
`jq`, JavaScript's JSON.parse and most other readers reject.

An undefined number (a metric of too few samples, a diverged loss) becomes null, and a sibling key
`<name>_reason` says why, so a reader can tell "not computed" from "undefined".
"""

from __future__ import annotations

import json
import math
from typing import Any


def clean(value: Any) -> Any:
    """`value` with every non-finite float replaced by None (and its reason beside it)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(item, float) and not math.isfinite(item):
                out[key] = None
                out[f"{key}_reason"] = "undefined (NaN)" if math.isnan(item) else "infinite"
            else:
                out[key] = clean(item)
        return out
    if isinstance(value, (list, tuple)):
        return [None if isinstance(v, float) and not math.isfinite(v) else clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps(value: Any) -> str:
    """json.dumps of clean(value); allow_nan=False makes any value missed here an error."""
    return json.dumps(clean(value), allow_nan=False)
