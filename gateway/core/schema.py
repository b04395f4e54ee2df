"""The canonical order's JSON Schema, as published in docs/ (`make schema` rewrites it)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from gateway.core.canonical import Order

SCHEMA_ID = "https://ordergate.dev/schemas/canonical-order-1.json"


def order_schema() -> dict[str, Any]:
    schema = Order.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def render() -> str:
    return json.dumps(order_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/canonical-order.schema.json")
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
