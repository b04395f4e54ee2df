"""Helpers for the marketplace tests: read a document, and build Amazon documents from the corpus model."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from mappings.base import InterchangeHeader, MessageOutcome
from mappings.marketplace import FORMAT
from tests.corpus import CorpusEntry, entries

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ORDER_PATH = "/orders/v0/orders/{orderId}"
ITEMS_PATH = "/orders/v0/orders/{orderId}/orderItems"


def read(document: Any) -> tuple[list[InterchangeHeader], list[MessageOutcome]]:
    """Every event of a document (bytes, or a JSON value to encode), split into headers and outcomes."""
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    headers: list[InterchangeHeader] = []
    outcomes: list[MessageOutcome] = []
    for event in FORMAT.read(data):
        (headers if isinstance(event, InterchangeHeader) else outcomes).append(event)  # type: ignore[arg-type]
    return headers, outcomes


def woocommerce_order() -> dict[str, Any]:
    return json.loads((FIXTURES / "woocommerce_order_v3.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def corpus_entry(name: str) -> CorpusEntry:
    [entry] = entries(lambda e: e.file == f"json/{name}")
    return entry


def amazon_model_entry() -> CorpusEntry:
    return corpus_entry("amazon_spapi_ordersV0_model_with_sandbox_examples.json")


@cache
def _model() -> dict[str, Any]:
    return json.loads(amazon_model_entry().path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def sandbox_response(path: str, case: str = "TEST_CASE_200") -> dict[str, Any]:
    """The response of a sandbox example in the Orders v0 model (`x-amzn-api-sandbox.static`)."""
    static = _model()["paths"][path]["get"]["responses"]["200"]["x-amzn-api-sandbox"]["static"]
    [example] = [s for s in static if s["request"]["parameters"]["orderId"]["value"] == case]
    return copy.deepcopy(example["response"])  # type: ignore[no-any-return]


def amazon_sandbox_document() -> dict[str, Any]:
    """The archived shape built from the sandbox getOrder and getOrderItems examples."""
    return {"getOrder": sandbox_response(ORDER_PATH), "getOrderItems": sandbox_response(ITEMS_PATH)}
