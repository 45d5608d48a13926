"""Import an ONNX recurrent model: ``RNN`` / ``LSTM`` / ``GRU`` nodes with their surroundings.

The importer reads the graph as data flow, not as one exporter's node sequence. It finds the
recurrent nodes (ONNX operator spec, opset 7-22: gate blocks LSTM i,o,f,c, GRU z,r,h, peepholes
i,o,f, ``B = [Wb, Rb]``), chains them into a stack (a ``forward`` and a ``reverse`` node that
read the same input, or a forward node on a time-reversed input, make one bidirectional layer),
and classifies what lies between them (the merge of two directions), before them (``Gather`` of
a table: an embedding; ``OneHot``; ``sequence_lens`` from a graph input: variable lengths) and
after them (pooling, one ``MatMul``/``Gemm`` head with its bias, an optional ``Softmax``).
A graph without recurrent nodes is read as an AR model if it is a chain of dense layers on
one window input. ``seqspec export``'s optional initial states (an ``If`` that gives zeros
unless the state input is fed, :func:`_optional_state`) are read as the zeros they give.
Whatever the spec cannot express is refused with the node's name and the attribute. The
self-check in :mod:`seqspec.importers.common` runs the graph in onnxruntime against the compiled
spec, so a misread graph can never be written.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqspec.importers.common import (
    Imported,
    SourceError,
    check_source_file,
    direction_weights,
    identifier,
    split_gates,
)
from seqspec.onnx import cells as exporters
from seqspec.onnx.cells.elman import ONNX_RNN_ACTIVATIONS
from seqspec.onnx.cells.lstm import ONNX_PEEPHOLES

RECURRENT = {"RNN": "elman", "LSTM": "lstm", "GRU": "gru"}
#: Operators that carry weights of their own: before the stack or between its layers they are
#: a layer the spec does not have.
WEIGHTED = {"MatMul", "Gemm", "Conv", "ConvTranspose", "LayerNormalization",
            "BatchNormalization", "InstanceNormalization", "Einsum", "MatMulInteger",
            "QLinearMatMul"}
CONTROL_FLOW = {"Scan", "Loop", "If"}
NONLINEAR = {"Relu", "Tanh", "Sigmoid", "LeakyRelu", "Elu", "Selu", "HardSigmoid", "Softplus",
             "Gelu", "Exp", "Log", "LogSoftmax", "Abs", "Clip"}
DEFAULT_ACTIVATIONS = {"lstm": ("sigmoid", "tanh", "tanh"), "gru": ("sigmoid", "tanh")}
INTEGER_TYPES = {2, 3, 4, 5, 6, 7, 12, 13}  # uint8 int8 uint16 int16 int32 int64 uint32 uint64
FLOAT_TYPES = {1: "float32", 10: "float16", 11: "float64", 16: "bfloat16"}


def _where(node: Any, index: int) -> str:
    return f"node '{node.name or f'#{index}'}' ({node.op_type})"


@dataclass
class _Recurrent:
    """One RNN/LSTM/GRU node, read and checked."""

    index: int
    node: Any
    cell: str
    direction: str  # forward | reverse | bidirectional
    hidden: int
    w: np.ndarray  # (D, G*H, I)
    r: np.ndarray  # (D, G*H, H)
    b: np.ndarray | None  # (D, 2*G*H)
    p: np.ndarray | None  # (D, 3*H)
    activation: str = "tanh"
    variant: str = "reset_after"
    layout: int = 0

    @property
    def where(self) -> str:
        return _where(self.node, self.index)

    @property
    def x(self) -> str:
        return self.node.input[0]

    def lens(self) -> str:
        return self.node.input[4] if len(self.node.input) > 4 else ""


@dataclass
class _Layer:
    nodes: list[_Recurrent]  # one node (any direction) or [forward, backward]
    backward_from_reversal: bool = False
    merge_mode: str = "concat"

    @property
    def first(self) -> _Recurrent:
        return self.nodes[0]

    @property
    def bidirectional(self) -> bool:
        return len(self.nodes) == 2 or self.nodes[0].direction == "bidirectional"

    @property
    def out_size(self) -> int:
        h = self.first.hidden
        return 2 * h if self.bidirectional and self.merge_mode == "concat" else h


@dataclass
class _Graph:
    """Producers, consumers, constants and ancestry (bit sets) of a topologically sorted graph."""

    proto: Any
    #: The graph's nodes, each optional-initial-state ``If`` replaced by an ``Identity`` of the
    #: value it gives when the state is not fed (:func:`_optional_state`).
    node_list: list[Any] = field(default_factory=list)
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    producer: dict[str, int] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)  # graph inputs that are not weights
    node_anc: list[int] = field(default_factory=list)  # bit j: node j is an ancestor
    node_inp: list[frozenset[str]] = field(default_factory=list)

    @property
    def nodes(self) -> list[Any]:
        return self.node_list

    def anc(self, value: str) -> int:
        """Nodes that ``value`` depends on (its producer included), as a bit set."""
        j = self.producer.get(value)
        return 0 if j is None else self.node_anc[j] | (1 << j)

    def inputs_of(self, value: str) -> frozenset[str]:
        """Graph inputs that ``value`` depends on."""
        if value in self.inputs:
            return frozenset([value])
        j = self.producer.get(value)
        return frozenset() if j is None else self.node_inp[j]

    def const(self, value: str) -> np.ndarray | None:
        return self.consts.get(value)


def _load(path: Path) -> Any:
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises DecodeError, others on truncated files
        raise SourceError(f"not an ONNX model ({type(exc).__name__})") from None
    if not model.HasField("graph") or not model.graph.node:
        raise SourceError("not an ONNX model (no graph)")
    for tensor in model.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            raise SourceError(f"initializer '{tensor.name}' keeps its data in an external "
                              "file, which the importer does not read")
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx") and opset.version < 7:
            raise SourceError(f"opset {opset.version}: the importer reads opset 7 and later")
    return model


def _index(model: Any) -> _Graph:
    from onnx import numpy_helper

    g = _Graph(model.graph)
    for tensor in model.graph.initializer:
        try:
            g.consts[tensor.name] = numpy_helper.to_array(tensor)
        except Exception:
            raise SourceError(f"initializer '{tensor.name}' cannot be read") from None
    g.inputs = {i.name: i for i in model.graph.input if i.name not in g.consts}
    for j, node in enumerate(model.graph.node):
        unfed = _optional_state(g, node) if node.op_type == "If" else None
        if unfed is not None:  # read as what it gives when the state is left out
            from onnx import helper

            node = helper.make_node("Identity", [unfed], list(node.output), name=node.name)
        g.node_list.append(node)
        if node.op_type in CONTROL_FLOW and node.domain in ("", "ai.onnx"):
            what = {"Scan": "a Jordan or IndRNN layer, or a loop",  # seqspec exports those so
                    "Loop": "an unrolled recurrence, as tf2onnx converts Keras GRU, SimpleRNN "
                    "and masked layers"}.get(node.op_type, "control flow")
            raise SourceError(f"{_where(node, j)}: {node.op_type} ({what}) is not supported "
                              "by the importer")
        if node.op_type == "Constant" and node.attribute:
            attr = node.attribute[0]
            from onnx import helper

            value = helper.get_attribute_value(attr)
            if attr.name == "value":
                g.consts[node.output[0]] = numpy_helper.to_array(value)
            elif attr.name in ("value_float", "value_int", "value_floats", "value_ints"):
                g.consts[node.output[0]] = np.asarray(value)
        anc, inp = 0, frozenset()
        for name in node.input:
            if not name:
                continue
            if name not in g.producer and name not in g.inputs and name not in g.consts:
                raise SourceError(f"{_where(node, j)}: input '{name}' is produced by no node "
                                  "(the graph is not sorted or not valid)")
            anc |= g.anc(name)
            inp |= g.inputs_of(name)
        g.node_anc.append(anc)
        g.node_inp.append(inp)
        for out in node.output:
            if out:
                g.producer[out] = j
    return g


def _optional_state(g: _Graph, node: Any) -> str | None:
    """The value an ``If`` gives when it is ``seqspec export``'s optional initial state, else None.

    The pattern (docs/import.md): a graph input S whose initializer of the same name (its
    default, ONNX IR) has no rows; ``cond = Greater(Shape(S, start=0, end=1), 0)``; the
    then-branch passes S through, the else-branch passes an outer value V through. Left out
    of the feeds, S holds its empty default, cond is false and the If gives V: the graph is
    "V unless a state is given", which a spec's model is (V must still be zero, checked where
    the state reaches a recurrent node). Anything else (a branch that computes, a condition
    on other values, a required S) is not this pattern.
    """
    if node.domain not in ("", "ai.onnx") or len(node.input) != 1 or len(node.output) != 1:
        return None
    attrs = {a.name: a.g for a in node.attribute if a.name in ("then_branch", "else_branch")}
    if len(attrs) != 2 or len(node.attribute) != 2:
        return None
    fed = g.producer.get(node.input[0])
    if fed is None or g.nodes[fed].op_type != "Greater" or len(g.nodes[fed].input) != 2:
        return None
    rows, zero = g.nodes[fed].input
    c = g.const(zero)
    j = g.producer.get(rows)
    if c is None or c.size != 1 or c.reshape(-1)[0] != 0 or j is None:
        return None
    shape = g.nodes[j]
    if shape.op_type != "Shape" or _attrs(shape) != {"start": 0, "end": 1}:  # the row count
        return None
    state = shape.input[0]
    default = g.const(state)
    declared = {i.name for i in g.proto.input}
    if state not in declared or default is None or default.ndim < 1 or default.shape[0] != 0:
        return None
    given, unfed = _passed_through(attrs["then_branch"]), _passed_through(attrs["else_branch"])
    if given != state or unfed is None or unfed == state:
        return None
    return unfed


def _passed_through(branch: Any) -> str | None:
    """The outer value a branch graph returns unchanged (through Identity nodes only), or None."""
    if len(branch.output) != 1 or branch.input or branch.initializer or branch.sparse_initializer:
        return None
    produced = {out: n for n in branch.node for out in n.output}
    if any(n.op_type != "Identity" or n.domain not in ("", "ai.onnx") for n in branch.node):
        return None
    value = branch.output[0].name
    for _ in range(len(branch.node) + 1):
        n = produced.get(value)
        if n is None:
            return value
        value = n.input[0]
    return None


def _attrs(node: Any) -> dict[str, Any]:
    from onnx import helper

    out = {}
    for a in node.attribute:
        value = helper.get_attribute_value(a)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, list):
            value = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in value]
        out[a.name] = value
    return out


def _is_zero_state(g: _Graph, value: str, depth: int = 0) -> bool:
    """Whether an initial state is a constant zero (as torch.onnx emits: Expand of zeros)."""
    if depth > 50:
        return False
    c = g.const(value)
    if c is not None:
        return bool(np.all(c == 0))
    if value in g.inputs:
        return False
    j = g.producer.get(value)
    if j is None:
        return False
    node = g.nodes[j]
    if node.op_type == "ConstantOfShape":
        fill = _attrs(node).get("value")
        if fill is None:
            return True
        from onnx import numpy_helper

        return bool(np.all(numpy_helper.to_array(fill) == 0))
    if node.op_type in ("Expand", "Identity", "Cast", "Unsqueeze", "Squeeze", "Reshape", "Tile",
                        "Transpose", "Slice", "Gather", "Split", "Flatten"):  # a part of zeros
        return _is_zero_state(g, node.input[0], depth + 1)
    if node.op_type == "Concat":
        return all(_is_zero_state(g, v, depth + 1) for v in node.input if v)
    return False


def _read_recurrent(g: _Graph, j: int) -> _Recurrent:
    node = g.nodes[j]
    where = _where(node, j)
    cell = RECURRENT[node.op_type]
    attrs = _attrs(node)
    for key in ("clip", "activation_alpha", "activation_beta"):
        if key in attrs:
            raise SourceError(f"{where}: attribute {key}={attrs[key]}: the spec language has no "
                              f"{'cell clipping' if key == 'clip' else 'activation parameters'}")
    if attrs.get("input_forget", 0):
        raise SourceError(f"{where}: attribute input_forget=1 (coupled input and forget gates) "
                          "is not in the spec language")
    direction = attrs.get("direction", "forward")
    if direction not in ("forward", "reverse", "bidirectional"):
        raise SourceError(f"{where}: attribute direction={direction!r} is not an ONNX direction")
    dirs = 2 if direction == "bidirectional" else 1

    def weight(i: int, label: str) -> np.ndarray | None:
        name = node.input[i] if len(node.input) > i else ""
        if not name:
            return None
        value = g.const(name)
        if value is None:
            raise SourceError(f"{where}: input {label} ('{name}') is computed in the graph, "
                              "not a constant weight")
        if value.dtype.kind != "f":
            raise SourceError(f"{where}: input {label} has type {value.dtype}, not a float")
        return value

    w, r, b = weight(1, "W"), weight(2, "R"), weight(3, "B")
    if w is None or r is None:
        raise SourceError(f"{where}: inputs W and R are required")
    gates = {"elman": 1, "lstm": 4, "gru": 3}[cell]
    if r.ndim != 3 or r.shape[0] != dirs or r.shape[1] % gates:
        raise SourceError(f"{where}: input R has shape {r.shape}, expected ({dirs}, {gates}*H, H)")
    hidden = r.shape[2]
    if attrs.get("hidden_size", hidden) != hidden or r.shape[1] != gates * hidden:
        raise SourceError(f"{where}: attribute hidden_size={attrs.get('hidden_size')} does not "
                          f"match R's shape {r.shape}")
    if w.ndim != 3 or w.shape[:2] != (dirs, gates * hidden):
        raise SourceError(f"{where}: input W has shape {w.shape}, expected "
                          f"({dirs}, {gates * hidden}, input size)")
    if b is not None and b.shape != (dirs, 2 * gates * hidden):
        raise SourceError(f"{where}: input B has shape {b.shape}, expected "
                          f"({dirs}, {2 * gates * hidden})")
    for i, label in ((5, "initial_h"), (6, "initial_c")):
        if i == 6 and cell != "lstm":
            break
        name = node.input[i] if len(node.input) > i else ""
        if name and not _is_zero_state(g, name):
            raise SourceError(f"{where}: input {label} ('{name}') is not a constant zero: an "
                              "initial-state input is not in the spec language")
    p = weight(7, "P") if cell == "lstm" else None
    if p is not None and p.shape != (dirs, 3 * hidden):
        raise SourceError(f"{where}: input P has shape {p.shape}, expected ({dirs}, {3 * hidden})")
    acts = [str(a).lower() for a in attrs.get("activations", [])]
    rec = _Recurrent(j, node, cell, direction, hidden, w, r, b, p, layout=attrs.get("layout", 0))
    if cell == "elman":
        acts = acts or ["tanh"] * dirs
        if len(set(acts)) != 1 or acts[0] not in ONNX_RNN_ACTIVATIONS:
            raise SourceError(f"{where}: attribute activations={attrs.get('activations')}: the "
                              "spec's Elman cell has one of Tanh, Relu, Sigmoid for all directions")
        rec.activation = acts[0]
    elif acts and acts != list(DEFAULT_ACTIVATIONS[cell]) * dirs:
        raise SourceError(f"{where}: attribute activations={attrs.get('activations')}: the spec's "
                          f"{cell.upper()} uses the default gate activations only")
    if cell == "gru":
        rec.variant = "reset_after" if attrs.get("linear_before_reset", 0) else "reset_before"
    if rec.layout not in (0, 1):
        raise SourceError(f"{where}: attribute layout={rec.layout} is not 0 or 1")
    return rec


def _path_to_input(g: _Graph, value: str, source: str) -> list[Any]:
    """The nodes on the data path from graph input ``source`` to ``value``, nearest first."""
    path = []
    for _ in range(10_000):
        if value == source or value in g.inputs:
            break
        j = g.producer.get(value)
        if j is None:
            break
        node = g.nodes[j]
        path.append(node)
        nxt = [v for v in node.input if v and source in g.inputs_of(v)]
        if node.op_type == "Gather" and len(node.input) > 1:
            nxt = [node.input[1]] if source in g.inputs_of(node.input[1]) else nxt
        if not nxt:
            break
        value = nxt[0]
    return path


def _reversals(g: _Graph, path: list[Any]) -> list[str]:
    """The time reversals on a path: ReverseSequence, or a Slice with step -1."""
    out = []
    for node in path:
        if node.op_type == "ReverseSequence":
            out.append("ReverseSequence")
        elif node.op_type == "Slice" and len(node.input) > 4:
            steps = g.const(node.input[4])
            if steps is not None and np.any(np.asarray(steps) < 0):
                out.append("Slice")
    return out


def _swaps(g: _Graph, path: list[Any]) -> int:
    """How many Transposes on a path swap the first two axes (batch <-> time)."""
    n = 0
    for node in path:
        if node.op_type == "Transpose":
            perm = list(_attrs(node).get("perm", []))
            if len(perm) >= 2 and perm[0] == 1 and perm[1] == 0:
                n += 1
    return n


def _bits(mask: int) -> list[int]:
    out, j = [], 0
    while mask:
        if mask & 1:
            out.append(j)
        mask >>= 1
        j += 1
    return out


def _layers(g: _Graph, recs: list[_Recurrent], main: str | None) -> list[_Layer]:
    """Chain the recurrent nodes into layers (pairing the two halves of a bidirectional one)."""
    layers: list[_Layer] = []
    i = 0
    while i < len(recs):
        rec = recs[i]
        nxt = recs[i + 1] if i + 1 < len(recs) else None
        independent = nxt is not None and not (g.anc(nxt.x) >> rec.index) & 1 and not (
            g.anc(rec.x) >> nxt.index) & 1
        if (nxt is not None and independent and rec.direction != "bidirectional"
                and nxt.direction != "bidirectional" and rec.cell == nxt.cell
                and rec.hidden == nxt.hidden):
            pair = _pair(g, rec, nxt, main)
            if pair is not None:
                layers.append(pair)
                i += 2
                continue
        if rec.direction == "reverse":
            raise SourceError(f"{rec.where}: attribute direction=reverse without a forward node "
                              "beside it: the spec has no backward-only layer")
        layers.append(_Layer([rec]))
        i += 1
    for below, above in itertools.pairwise(layers):
        for rec in above.nodes:
            if not any((g.anc(rec.x) >> r.index) & 1 for r in below.nodes):
                raise SourceError(f"{rec.where} does not read the output of "
                                  f"{below.first.where}: the recurrent nodes are not one stack")
    first = layers[0]
    for rec in first.nodes:
        if any((g.anc(rec.x) >> r.index) & 1 for r in recs):
            raise SourceError(f"{rec.where}: reads another recurrent node's output in a way the "
                              "importer does not recognise")
    return layers


def _pair(g: _Graph, a: _Recurrent, b: _Recurrent, main: str | None) -> _Layer | None:
    """Two independent nodes as the halves of one bidirectional layer, or None."""
    if {a.direction, b.direction} == {"forward", "reverse"}:
        fw, bw = (a, b) if a.direction == "forward" else (b, a)
        return _Layer([fw, bw])
    if a.direction == b.direction == "forward" and main is not None:
        ra = len(_reversals(g, _path_to_input(g, a.x, main)))
        rb = len(_reversals(g, _path_to_input(g, b.x, main)))
        if ra != rb:  # the backward half runs forward over the time-reversed sequence
            fw, bw = (a, b) if ra < rb else (b, a)
            return _Layer([fw, bw], backward_from_reversal=True)
    return None


def _region(g: _Graph, layer: _Layer, target: str) -> list[int]:
    """Nodes after ``layer``'s nodes and before ``target`` (a value)."""
    before = g.anc(target)
    mask = 0
    for rec in layer.nodes:
        mask |= 1 << rec.index
    return [j for j in _bits(before) if g.node_anc[j] & mask and not (mask >> j) & 1]


def _nonconst_inputs(g: _Graph, node: Any) -> int:
    return sum(1 for v in node.input if v and g.const(v) is None)


def _merge_mode(g: _Graph, region: list[int]) -> str:
    ops = [g.nodes[j] for j in region]

    def const_is(node: Any, value: float) -> bool:
        return any((c := g.const(v)) is not None and c.size == 1 and float(c.reshape(-1)[0]) ==
                   value for v in node.input if v)

    if any(n.op_type == "Mul" and _nonconst_inputs(g, n) == 2 for n in ops):
        return "mul"
    if any(n.op_type == "Add" and _nonconst_inputs(g, n) == 2 for n in ops):
        halved = any((n.op_type == "Div" and const_is(n, 2.0))
                     or (n.op_type == "Mul" and const_is(n, 0.5)) for n in ops)
        return "ave" if halved else "sum"
    return "concat"


def _check_between(g: _Graph, region: list[int], what: str) -> None:
    for j in region:
        node = g.nodes[j]
        if node.op_type in WEIGHTED or node.op_type in NONLINEAR or node.op_type in RECURRENT:
            raise SourceError(f"{_where(node, j)}: {what}: the spec language has no such layer")


@dataclass
class _Head:
    node: int
    weight: np.ndarray  # canonical (out, in)
    bias: np.ndarray | None
    input: str
    output: str  # the value after the bias
    softmax: bool = False
    where: str = ""


def _head(g: _Graph, last: _Layer) -> _Head:
    mask = 0
    for rec in last.nodes:
        mask |= 1 << rec.index
    after = [j for j, anc in enumerate(g.node_anc) if anc & mask]
    dense = [j for j in after if g.nodes[j].op_type in ("MatMul", "Gemm")
             and any(g.const(v) is not None and g.const(v).ndim == 2 for v in g.nodes[j].input)]
    if not dense:
        raise SourceError(f"no dense layer (MatMul or Gemm with a constant weight) after "
                          f"{last.first.where}: the spec needs a head")
    j = dense[0]
    node = g.nodes[j]
    where = _where(node, j)
    others = [k for k in after if (g.node_anc[k] >> j) & 1
              and g.nodes[k].op_type in WEIGHTED | set(RECURRENT)]
    if others:
        k = others[0]
        raise SourceError(f"{_where(g.nodes[k], k)}: a second layer after the head {where}: the "
                          "spec has one dense head")
    if node.op_type == "MatMul":
        if g.const(node.input[1]) is None:
            raise SourceError(f"{where}: the weight multiplies from the left (W @ x)")
        weight, x, out, bias = g.const(node.input[1]).T, node.input[0], node.output[0], None
        value = out
        for _ in range(8):  # the bias may come after a reshape (tf2onnx: MatMul, Reshape, Add)
            users = [k for k in after if value in g.nodes[k].input]
            if len(users) != 1:
                break
            user = g.nodes[users[0]]
            if user.op_type == "Add":
                other = [v for v in user.input if v != value]
                c = g.const(other[0]) if other else None
                if c is not None and c.size == weight.shape[0]:
                    bias, out = c.reshape(-1), user.output[0]
                break
            if user.op_type not in ("Reshape", "Identity", "Squeeze", "Unsqueeze", "Flatten"):
                break
            value = user.output[0]
    else:
        attrs = _attrs(node)
        if attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta",
                                                                                  1.0) != 1.0:
            raise SourceError(f"{where}: attributes transA/alpha/beta other than 0/1/1 are not "
                              "supported")
        w = g.const(node.input[1])
        if w is None:
            raise SourceError(f"{where}: input B is not a constant weight")
        weight = w if attrs.get("transB", 0) else w.T
        x, out = node.input[0], node.output[0]
        given = len(node.input) > 2 and bool(node.input[2])
        c = g.const(node.input[2]) if given else None
        if given and (c is None or c.size not in (1, weight.shape[0])):
            raise SourceError(f"{where}: input C is not a constant bias of {weight.shape[0]} "
                              "values")
        bias = None if c is None else np.broadcast_to(c.reshape(-1), (weight.shape[0],)).copy()
    head = _Head(j, np.asarray(weight, dtype=np.float64), bias, x, out, where=where)
    for k in after:
        n = g.nodes[k]
        if not (g.anc(n.output[0] if n.output else "") >> j) & 1:
            continue  # not after the head
        if n.op_type == "Softmax":
            head.softmax = True
        elif n.op_type in NONLINEAR:
            raise SourceError(f"{_where(n, k)}: {n.op_type} after the head: the spec's head is "
                              "linear (logits or values)")
    return head


def read(path: str, name: str | None = None, head_kind: str | None = None) -> Imported:
    """Read an ONNX file into an :class:`Imported` (see the module docstring)."""
    source = check_source_file(path)
    model = _load(source)
    g = _index(model)
    recs = [_read_recurrent(g, j) for j, n in enumerate(g.nodes)
            if n.op_type in RECURRENT and n.domain in ("", "ai.onnx")]
    if not recs:
        return _read_ar(g, model, source, name)
    main = _main_input(g, recs)
    layers = _layers(g, recs, main)
    lengths = _lengths_input(g, recs, layers, main)
    spec_input, weights, time_major = _sequence_input(g, layers, main, lengths)
    fixed = _fixed_dims(g.inputs[main], time_major)
    head = _head(g, layers[-1])
    for k, layer in enumerate(layers):
        target = layers[k + 1].first.x if k + 1 < len(layers) else head.input
        region = _region(g, layer, target)
        _check_between(g, region, "between recurrent layers" if k + 1 < len(layers)
                       else "between the recurrent stack and the head")
        if layer.bidirectional:
            layer.merge_mode = _merge_mode(g, region)
    if head.weight.shape[1] != layers[-1].out_size:
        raise SourceError(f"{head.where}: the head reads {head.weight.shape[1]} values, the top "
                          f"recurrent layer gives {layers[-1].out_size}: the importer cannot "
                          "tell how they connect")
    spec_layers, sources = [], []
    for k, layer in enumerate(layers):
        spec_layers.append(_spec_layer(layer))
        sources.append(" + ".join(_describe(r) for r in layer.nodes)
                       + (" (on the time-reversed sequence)" if layer.backward_from_reversal
                          else ""))
        weights.update(_layer_weights(layer, k))
    # ---- the scheme, from the output's rank on a probe batch
    out_name = _output(g, head)
    session = _session(model)
    batch, steps = fixed[0] or 2, fixed[1] or 3
    probe = _probe(session, main, lengths, spec_input, time_major, out_name, batch, steps)
    scheme = "many_to_many" if probe.ndim == 3 else "many_to_one"
    out_time_major = (scheme == "many_to_many" and probe.shape[:2] == (steps, batch)
                      and (batch != steps or time_major))
    notes: list[str] = []
    spec_model: dict[str, Any] = {"scheme": scheme, "input": spec_input, "layers": spec_layers}
    if scheme == "many_to_one":
        last_region = {g.nodes[j].op_type for j in _region(g, layers[-1], head.input)}
        spec_model["pooling"] = ("max" if "ReduceMax" in last_region else "mean"
                                 if last_region & {"ReduceMean", "ReduceSum"} else "last")
    spec_model["head"] = _head_section(head, head_kind, weights, notes)
    if time_major or out_time_major:
        notes.append("the graph is time-major (steps first); the spec's model is batch-first")
    if any(fixed):
        notes.append(f"the graph takes only batch size {fixed[0] or 'any'} and "
                     f"{fixed[1] or 'any'} steps; the spec's model takes any")
    meta = {p.key: p.value for p in model.metadata_props}
    spec_name = identifier(name or meta.get("seqspec.spec_name") or source.stem)
    dtype = "float64" if layers[0].first.w.dtype == np.float64 else "float32"
    run = _runner(session, main, lengths, time_major, out_name, out_time_major)
    return Imported(spec_name, spec_model, weights, run, f"ONNX file {source.name}", dtype,
                    sources, f"{head.where}", notes, head.softmax, fixed_batch=fixed[0],
                    fixed_steps=fixed[1])


# ---------------------------------------------------------------------------- AR networks

#: ONNX operator -> the spec's activation (the exporter's table, read the other way).
_ACTIVATIONS = {op: act for act, op in ONNX_RNN_ACTIVATIONS.items()}


def _dense_chain(g: _Graph, start: str) -> list[tuple[np.ndarray, np.ndarray | None, str | None]]:
    """Follow ``start`` through MatMul/Gemm [+ Add bias] [+ activation] layers to the graph's
    output: [(W (out, in), b or None, activation or None)], or [] when it is not such a chain."""
    users: dict[str, list[int]] = {}
    for j, node in enumerate(g.nodes):
        for v in node.input:
            users.setdefault(v, []).append(j)
    outputs = {o.name for o in g.proto.output}
    chain: list[tuple[np.ndarray, np.ndarray | None, str | None]] = []
    value = start
    for _ in range(64):
        if value in outputs:
            return chain
        nxt = users.get(value, [])
        if len(nxt) != 1:
            return []
        node = g.nodes[nxt[0]]
        other = [v for v in node.input if v and v != value]
        c = g.const(other[0]) if len(other) == 1 else None
        if node.op_type == "MatMul" and node.input[0] == value and c is not None and c.ndim == 2:
            chain.append((np.asarray(c, dtype=np.float64).T, None, None))
        elif node.op_type == "Gemm" and node.input[0] == value:
            attrs = _attrs(node)
            w = g.const(node.input[1])
            if w is None or attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0 or attrs.get(
                    "beta", 1.0) != 1.0:
                return []
            w = np.asarray(w if attrs.get("transB", 0) else w.T, dtype=np.float64)
            b = g.const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
            if len(node.input) > 2 and node.input[2] and b is None:
                return []
            chain.append((w, None if b is None else np.broadcast_to(
                np.asarray(b, dtype=np.float64).reshape(-1), (w.shape[0],)).copy(), None))
        elif node.op_type == "Add" and chain and chain[-1][1] is None and chain[-1][2] is None \
                and c is not None and c.size == chain[-1][0].shape[0]:
            chain[-1] = (chain[-1][0], np.asarray(c, dtype=np.float64).reshape(-1), None)
        elif node.op_type in _ACTIVATIONS and chain and chain[-1][2] is None:
            chain[-1] = (chain[-1][0], chain[-1][1], _ACTIVATIONS[node.op_type])
        elif node.op_type != "Identity":
            return []
        value = node.output[0]
    return []


def _read_ar(g: _Graph, model: Any, source: Path, name: str | None) -> Imported:
    """A graph without recurrent nodes: an AR(p) model or a feed-forward AR network, as
    ``seqspec export`` writes them (one (B, p) window input, dense layers, one output)."""
    refusal = ("the graph has no RNN, LSTM or GRU node, and is not an AR model (dense layers "
               "from one (batch, p) window input to one value)")
    if len(g.inputs) != 1:
        raise SourceError(refusal)
    (main,) = g.inputs
    elem = g.inputs[main].type.tensor_type.elem_type
    chain = _dense_chain(g, main)
    if elem not in FLOAT_TYPES or not chain or chain[-1][0].shape[0] != 1 or chain[-1][2]:
        raise SourceError(refusal)
    order = chain[0][0].shape[1]
    weights: dict[str, np.ndarray] = {}
    spec_model: dict[str, Any]
    if len(chain) == 1:
        w, b, _ = chain[0]
        # windows are oldest first and phi_i weights x_{t-i}: column j holds phi_{p-j}
        weights["ar.phi"] = w[0][::-1].copy()
        if b is not None:
            weights["ar.c"] = b
        spec_model = {"scheme": "ar_linear", "order": int(order), "bias": b is not None}
    else:
        acts = {act for _, _, act in chain[:-1]}
        if len(acts) != 1 or None in acts:
            raise SourceError("an AR network's hidden layers must share one activation "
                              "(relu, tanh or sigmoid)")
        if any(b is None for _, b, _ in chain):
            raise SourceError("an AR network's dense layers all have a bias in the spec language")
        for k, (w, b, _) in enumerate(chain):
            weights[f"mlp.layers.{k}.W"], weights[f"mlp.layers.{k}.b"] = w, b
        spec_model = {"scheme": "ar_mlp", "order": int(order),
                      "hidden": [int(w.shape[0]) for w, _, _ in chain[:-1]],
                      "activation": acts.pop()}
    session = _session(model)
    out_name = g.proto.output[0].name

    def run(inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        kind = {"tensor(double)": np.float64}.get(session.get_inputs()[0].type, np.float32)
        windows = np.ascontiguousarray(np.asarray(inputs["windows"]).astype(kind))
        return session.run([out_name], {main: windows})[0]

    meta = {p.key: p.value for p in model.metadata_props}
    spec_name = identifier(name or meta.get("seqspec.spec_name") or source.stem)
    dtype = "float64" if elem == 11 else "float32"
    fixed = _fixed_dims(g.inputs[main], False)
    return Imported(spec_name, spec_model, weights, run, f"ONNX file {source.name}", dtype,
                    head_source=f"{len(chain)} dense layer(s) on input '{main}'",
                    fixed_batch=fixed[0])


def _main_input(g: _Graph, recs: list[_Recurrent]) -> str:
    """The graph input holding the sequence: what the first recurrent node(s) read, not lengths."""
    first_inputs = set().union(*(g.inputs_of(r.x) for r in recs[:2]))
    lens_inputs = {v for r in recs for v in g.inputs_of(r.lens()) if r.lens()}
    candidates = sorted(first_inputs - lens_inputs)
    if len(candidates) != 1:
        raise SourceError(f"the first recurrent node reads {len(candidates)} graph inputs "
                          f"({', '.join(candidates) or 'none'}); the importer needs one sequence")
    return candidates[0]


def _lengths_input(g: _Graph, recs: list[_Recurrent], layers: list[_Layer],
                   main: str) -> str | None:
    """The graph input every ``sequence_lens`` comes from (None: fixed lengths)."""
    lengths: str | None = None
    if any(r.lens() for layer in layers for r in layer.nodes):
        bad = [r for layer in layers for r in layer.nodes if not r.lens()]
        if bad:
            raise SourceError(f"{bad[0].where}: has no sequence_lens while other recurrent "
                              "nodes have: mixed variable and fixed lengths")
        sources = {v for r in recs for v in g.inputs_of(r.lens())}
        if len(sources) != 1 or main in sources:
            raise SourceError(f"{recs[0].where}: input sequence_lens is computed from "
                              f"{', '.join(sorted(sources)) or 'constants'}, not from one "
                              "lengths input (a mask on the data is not in the spec language)")
        lengths = sources.pop()
    extra = sorted(set(g.inputs) - {main} - ({lengths} if lengths else set()))
    if extra:
        raise SourceError(f"graph input '{extra[0]}' has no place in a spec (the importer reads "
                          "one sequence input and optional lengths)")
    return lengths


def _sequence_input(g: _Graph, layers: list[_Layer], main: str, lengths: str | None
                    ) -> tuple[dict[str, Any], dict[str, np.ndarray], bool]:
    """The spec's ``input``, the embedding table if any, and whether the graph is time-major,
    read from the data path between the graph input and the first recurrent node."""
    first = layers[0].first
    path = _path_to_input(g, first.x, main)
    for node in path:
        if node.op_type in WEIGHTED or node.op_type in NONLINEAR:
            raise SourceError(f"{_where(node, g.producer[node.output[0]])}: a layer before the "
                              "recurrent stack is not in the spec language")
    in_size = first.w.shape[2]
    elem = g.inputs[main].type.tensor_type.elem_type
    weights: dict[str, np.ndarray] = {}
    spec_input: dict[str, Any]
    if elem in INTEGER_TYPES:
        tables = [g.const(n.input[0]) for n in path if n.op_type == "Gather"]
        tables = [t for t in tables if t is not None and t.ndim == 2]
        if tables:
            table = tables[0]
            if table.shape[1] != in_size:
                raise SourceError(f"the embedding table has width {table.shape[1]}, "
                                  f"{first.where} reads {in_size}")
            spec_input = {"kind": "tokens", "vocab_size": int(table.shape[0]),
                          "encoding": "embedding", "embedding_dim": int(table.shape[1])}
            weights["encoder.embedding"] = np.asarray(table, dtype=np.float64)
        elif any(n.op_type == "OneHot" for n in path):
            spec_input = {"kind": "tokens", "vocab_size": int(in_size), "encoding": "one_hot"}
        else:
            raise SourceError(f"input '{main}' holds integers but reaches {first.where} through "
                              "neither an embedding (Gather of a table) nor a OneHot")
    elif elem in FLOAT_TYPES:
        spec_input = {"kind": "features", "size": int(in_size)}
    else:
        raise SourceError(f"input '{main}' has ONNX element type {elem}, neither integer nor float")
    if lengths is not None:
        spec_input["variable_length"] = True
        reversals = _reversals(g, path)
        # seqspec's left padding: reverse every row, then reverse its valid part (two reversals)
        if "ReverseSequence" in reversals and len(reversals) >= 2:
            spec_input["padding"] = "left"
    time_major = (_swaps(g, path) % 2 == 0) == (first.layout == 0)
    return spec_input, weights, time_major


def _head_section(head: _Head, head_kind: str | None, weights: dict[str, np.ndarray],
                  notes: list[str]) -> dict[str, Any]:
    """The spec's ``head`` (and its weights into ``weights``)."""
    out_size = head.weight.shape[0]
    if head.softmax and out_size == 1:
        raise SourceError(f"{head.where}: a softmax over its 1 output is always 1; the spec "
                          "language has no 1-class softmax head")
    kind = head_kind or ("regression" if out_size == 1 and not head.softmax else "softmax")
    if head_kind is None:
        notes.append(f"head kind {kind} (the graph does not say; --head softmax|regression "
                     "chooses)")
    section: dict[str, Any] = {"kind": kind,
                               ("classes" if kind == "softmax" else "outputs"): int(out_size)}
    weights["head.W"] = head.weight
    if head.bias is None:
        section["bias"] = False
    else:
        weights["head.b"] = np.asarray(head.bias, dtype=np.float64)
    if head.softmax:
        notes.append("the graph applies a softmax to the head; the spec's model returns the "
                     "logits (softmax is in the loss)")
    return section


def _fixed_dims(value_info: Any, time_major: bool) -> tuple[int | None, int | None]:
    """The batch size and step count the graph input fixes (None: any)."""
    dims = value_info.type.tensor_type.shape.dim
    sizes = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
             for d in dims[:2]]
    if len(sizes) < 2:
        return None, None
    return (sizes[1], sizes[0]) if time_major else (sizes[0], sizes[1])


def _describe(rec: _Recurrent) -> str:
    where = f"{rec.node.op_type} node '{rec.node.name or f'#{rec.index}'}'"
    return where if rec.direction == "forward" else f"{where} (direction {rec.direction})"


def _spec_layer(layer: _Layer) -> dict[str, Any]:
    rec = layer.first
    out: dict[str, Any] = {"cell": rec.cell, "hidden_size": int(rec.hidden)}
    if rec.cell == "elman":
        out["activation"] = rec.activation
    if rec.cell == "gru":
        out["variant"] = rec.variant
    if rec.cell == "lstm" and any(r.p is not None for r in layer.nodes):
        out["peepholes"] = True
    if any(r.b is None for r in layer.nodes):
        if not all(r.b is None for r in layer.nodes):
            raise SourceError(f"{rec.where}: one direction has a bias and the other has none")
        out["bias"] = False
    if layer.bidirectional:
        out["bidirectional"] = True
        out["merge_mode"] = layer.merge_mode
    return out


def _layer_weights(layer: _Layer, k: int) -> dict[str, np.ndarray]:
    halves = []  # (node, index of the direction in the node)
    for rec in layer.nodes:
        halves += [(rec, d) for d in range(rec.w.shape[0])]
    names = ["forward", "backward"] if layer.bidirectional else ["forward"]
    out: dict[str, np.ndarray] = {}
    for direction, (rec, d) in zip(names, halves, strict=True):
        gates = exporters.get(rec.cell).ONNX_GATES  # the exporter's order, read back
        wx = split_gates(rec.w[d], gates)
        wh = split_gates(rec.r[d], gates)
        bias, bhn = None, None
        if rec.b is not None:
            b = np.asarray(rec.b[d], dtype=np.float64)
            wb, rb = split_gates(b[: len(gates) * rec.hidden], gates), split_gates(
                b[len(gates) * rec.hidden:], gates)
            bias = {gate: wb[gate] + rb[gate] for gate in gates}  # only the sum matters
            if rec.cell == "gru":  # Rbh sits inside the reset gate's reach (or after it)
                bias["n"], bhn = wb["n"], rb["n"]
        peep = None
        if layer.first.cell == "lstm" and any(r.p is not None for r in layer.nodes):
            p = np.zeros(3 * rec.hidden) if rec.p is None else rec.p[d]
            peep = split_gates(p, ONNX_PEEPHOLES)
            peep = {gate: peep[gate] for gate in ("i", "f", "o")}
        out.update(direction_weights(f"encoder.layers.{k}.{direction}", gates, wx, wh, bias,
                                     bhn, peep))
    return out


def _output(g: _Graph, head: _Head) -> str:
    outs = [o.name for o in g.proto.output if (g.anc(o.name) >> head.node) & 1]
    if not outs:
        raise SourceError(f"no graph output depends on the head {head.where}")
    return outs[0]


def _session(model: Any) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(model.SerializeToString(), options,
                                    providers=["CPUExecutionProvider"])
    except Exception as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise SourceError(f"onnxruntime cannot run the graph ({detail})") from None


def _feeds(session: Any, main: str, lengths: str | None, inputs: Mapping[str, np.ndarray],
           time_major: bool) -> dict[str, np.ndarray]:
    types = {i.name: i.type for i in session.get_inputs()}

    def cast(value: np.ndarray, name: str) -> np.ndarray:
        t = types[name]
        kind = {"tensor(int32)": np.int32, "tensor(int64)": np.int64, "tensor(float)": np.float32,
                "tensor(double)": np.float64, "tensor(float16)": np.float16}.get(t)
        if kind is None:
            raise SourceError(f"graph input '{name}' has type {t}, which the importer cannot feed")
        return np.ascontiguousarray(value.astype(kind))

    x = np.asarray(inputs["x"])
    if time_major:
        x = np.swapaxes(x, 0, 1)
    feeds = {main: cast(x, main)}
    if lengths is not None:
        feeds[lengths] = cast(np.asarray(inputs["lengths"]), lengths)
    return feeds


def _probe(session: Any, main: str, lengths: str | None, spec_input: Mapping[str, Any],
           time_major: bool, out_name: str, batch: int, steps: int) -> np.ndarray:
    """Run the graph once on a small batch to read its output's rank and layout."""
    rng = np.random.default_rng(0)
    if spec_input["kind"] == "tokens":
        x = rng.integers(0, spec_input["vocab_size"], size=(batch, steps))
    else:
        x = rng.uniform(-1, 1, size=(batch, steps, spec_input["size"]))
    inputs = {"x": x, "lengths": np.full(batch, steps)}
    try:
        return session.run([out_name], _feeds(session, main, lengths, inputs, time_major))[0]
    except SourceError:
        raise
    except Exception as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise SourceError(f"onnxruntime cannot run the graph on a batch ({detail})") from None


def _runner(session: Any, main: str, lengths: str | None, time_major: bool, out_name: str,
            out_time_major: bool) -> Any:
    def run(inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        (out,) = session.run([out_name], _feeds(session, main, lengths, inputs, time_major))
        return np.swapaxes(out, 0, 1) if out_time_major else out

    return run
