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


def json_schema() -> dict[str, Any]:
    """The schema as a dict, with ``$schema``, ``$id``, a title and a description first."""
    body = spec.Spec.model_json_schema(mode="validation")
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
