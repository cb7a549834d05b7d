"""What /api/openapi.json tells client generators about sizes: objects by properties, strings by length."""
from __future__ import annotations

from typing import Any, Iterator


def schemas(node: Any, path: str = "") -> Iterator[tuple[str, dict]]:
    if isinstance(node, dict):
        if "type" in node:
            yield path, node
        for key, value in node.items():
            yield from schemas(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from schemas(value, f"{path}/{index}")


def test_maps_are_bounded_by_their_number_of_keys_and_strings_by_length(client):
    spec = client.get("/api/openapi.json").get_json()
    wrong = [path for path, schema in schemas(spec) if schema.get("type") == "object"
             and ({"minLength", "maxLength"} & schema.keys())]
    assert wrong == []
    translations = spec["components"]["schemas"]["ProductCreate"]["properties"]["translations"]
    assert (translations["minProperties"], translations["maxProperties"]) == (1, 9)
    sku = spec["components"]["schemas"]["ProductCreate"]["properties"]["sku"]
    assert (sku["minLength"], sku["maxLength"]) == (1, 64)
