"""The JSON Schema of the spec language, generated from :class:`seqspec.spec.Spec`.

Editors read it through the ``# yaml-language-server: $schema=...`` line at the top of a spec
(completion, hover documentation, red squiggles). ``schemas/seqspec.schema.json`` in the
repository holds exactly :func:`render`'s bytes; ``seqspec schema --check`` and a test fail
when the two drift apart.

The schema checks structure, types, ranges and allowed values. The rules that relate values to
each other (sizes that must agree, ``merge_mode`` without ``bidirectional``, the parameter budget)
are checked by ``seqspec validate`` only.
"""

from __future__ import annotations

import json
from typing import Any

from seqspec import spec

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: A name, not a web address: the schema is shipped in the repository, not served.
SCHEMA_ID = "urn:seqspec:schema:1"
#: Where the repository keeps the rendered schema, relative to its root.
SCHEMA_PATH = "schemas/seqspec.schema.json"

_DESCRIPTION = (
    "A seqspec file (spec language version 1): a recurrent sequence model, its training and "
    "its data. This schema checks structure, types and ranges; `seqspec validate` also checks "
    "the rules that relate values to each other."
)


def _tagged_union(node: dict[str, Any]) -> dict[str, Any]:
    """pydantic's ``oneOf`` + OpenAPI ``discriminator`` as plain JSON Schema ``if``/``then``.

    JSON Schema validators ignore ``discriminator``; over a ``oneOf`` they report the branch
    that failed least, often the wrong one ("'layers' was unexpected" for a ``many_to_one``
    spec checked as ``ar_linear``). Here the tag key is required and its allowed values
    listed (a misspelled ``cell:`` is reported at ``cell``), and each value selects exactly
    one definition, so every other error is reported against the right kind.
    """
    key = node["discriminator"]["propertyName"]
    mapping = node["discriminator"]["mapping"]
    out = {k: v for k, v in node.items() if k not in ("discriminator", "oneOf")}
    out.update({
        "type": "object",
        "required": [key],
        "properties": {key: {"enum": list(mapping)}},
        "allOf": [
            {"if": {"properties": {key: {"const": tag}}, "required": [key]},
             "then": {"$ref": ref}}
            for tag, ref in mapping.items()
        ],
    })
    return out


def _rewrite(node: Any) -> Any:
    """Every tagged union in the schema rewritten by :func:`_tagged_union`."""
    if isinstance(node, dict):
        node = {k: _rewrite(v) for k, v in node.items()}
        if "discriminator" in node and "oneOf" in node:
            node = _tagged_union(node)
        return node
    if isinstance(node, list):
        return [_rewrite(v) for v in node]
    return node


def json_schema() -> dict[str, Any]:
    """The schema as a dict, with ``$schema``, ``$id``, a title and a description first."""
    body = _rewrite(spec.Spec.model_json_schema(mode="validation"))
    body.pop("title", None)
    body.pop("description", None)
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "seqspec model spec",
        "description": _DESCRIPTION,
        **body,
    }


def render() -> str:
    """The schema as deterministic JSON text (2-space indent, ASCII, trailing newline)."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=True) + "\n"
