"""Feature names: what :mod:`seqspec.lower` reports a model uses, and what a backend supports.

A backend supports the features every backend has (:data:`COMMON`: schemes, inputs,
topology, heads, pooling, bridges) and the ``FEATURES`` of each cell kind it has code for
(``seqspec/cells/<kind>.py``). A spec using a feature its backend lacks is refused at
compile time with the spec path of the first use (:func:`seqspec.api.check_features`).
"""

from __future__ import annotations

from collections.abc import Iterable

from seqspec import cells

#: Every feature that is not a cell kind's.
COMMON: frozenset[str] = frozenset(
    {
        # schemes
        "many_to_many", "many_to_one", "one_to_many", "seq2seq", "ar_linear", "ar_mlp",
        # inputs
        "features", "embedding", "one_hot", "vector", "variable_length",
        # topology
        "bidirectional", "dropout",
        # heads, pooling, bridges
        "softmax", "regression", "pooling_last", "pooling_mean", "pooling_max",
        "bridge_copy", "bridge_dense",
    }
)


def supported(cell_kinds: Iterable[str]) -> frozenset[str]:
    """What a backend with code for ``cell_kinds`` supports: COMMON and those kinds' FEATURES."""
    out = set(COMMON)
    for kind in cell_kinds:
        out |= cells.get(kind).FEATURES
    return frozenset(out)
