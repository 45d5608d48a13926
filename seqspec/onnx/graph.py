"""A small ONNX graph builder over :mod:`onnx.helper`: unique names, constants, typed I/O.

Everything the exporter emits goes through :class:`Graph`, so node and tensor names are unique
and every weight becomes a named initializer (named after the canonical parameters it holds).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

#: The opset the exporter targets (RNN/LSTM/GRU, Scan, ReverseSequence and axes-as-input reduces).
OPSET = 17
FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64
BOOL = TensorProto.BOOL
Dim = int | str | None


class Graph:
    """Nodes, initializers and graph inputs/outputs under construction (float32 weights)."""

    def __init__(self, name: str, outer: Graph | None = None) -> None:
        self.name = name
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        # A Scan body shares the outer graph's namespace, so names stay unique across both.
        self._used: set[str] = outer._used if outer is not None else set()
        self._consts: dict[tuple[str, bytes, tuple[int, ...]], str] = (
            outer._consts if outer is not None else {}
        )
        self._outer = outer

    # ------------------------------------------------------------------ names and values

    def fresh(self, hint: str) -> str:
        """A name not used yet in this graph family, based on ``hint``."""
        name, k = hint, 1
        while name in self._used:
            k += 1
            name = f"{hint}_{k}"
        self._used.add(name)
        return name

    def weight(self, name: str, array: np.ndarray) -> str:
        """A float32 initializer named after the canonical parameter(s) it holds."""
        return self._initializer(name, np.asarray(array, dtype=np.float32))

    def const(self, array: np.ndarray | float | int | Sequence[int], hint: str = "const") -> str:
        """A small constant (int64 for integers, float32 otherwise), shared when repeated."""
        arr = np.asarray(array)
        arr = arr.astype(np.int64) if arr.dtype.kind in "iu" else arr.astype(np.float32)
        key = (arr.dtype.str, arr.tobytes(), arr.shape)
        root = self._root()
        if key not in root._consts:
            root._consts[key] = root._initializer(hint, arr)
        return root._consts[key]

    def _root(self) -> Graph:
        return self if self._outer is None else self._outer._root()

    def _initializer(self, hint: str, arr: np.ndarray) -> str:
        root = self._root()
        name = root.fresh(hint)
        root.initializers.append(numpy_helper.from_array(arr, name))
        return name

    # ------------------------------------------------------------------ nodes

    def op(self, op_type: str, inputs: Sequence[str], hint: str | None = None,
           outputs: int = 1, **attrs: object) -> str:
        """Add a node with one output; return the output's name."""
        return self.op_n(op_type, inputs, hint, outputs, **attrs)[0]

    def op_n(self, op_type: str, inputs: Sequence[str], hint: str | None = None,
             outputs: int = 1, **attrs: object) -> list[str]:
        """Add a node; return the names of its ``outputs`` outputs."""
        base = hint or op_type.lower()
        outs = [self.fresh(base if outputs == 1 else f"{base}_{i}") for i in range(outputs)]
        node_name = self.fresh(f"{base}_node")
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=node_name, **attrs))
        return outs

    def add_input(self, name: str, elem_type: int, shape: Sequence[Dim],
                  exact: bool = True) -> str:
        """Declare a graph input named ``name`` (exactly, or made unique with exact=False)."""
        if not exact:
            name = self.fresh(name)
        elif name in self._used:
            raise ValueError(f"graph input {name!r} declared twice")
        else:
            self._used.add(name)
        self.inputs.append(helper.make_tensor_value_info(name, elem_type, list(shape)))
        return name

    def add_optional_input(self, name: str, shape: Sequence[Dim], default: np.ndarray) -> str:
        """A float graph input that may be left out: an initializer of the same name holds
        ``default`` (ONNX: an initializer named like a graph input is that input's default
        value, which a feed replaces)."""
        name = self.add_input(name, FLOAT, shape)
        self._root().initializers.append(
            numpy_helper.from_array(np.asarray(default, dtype=np.float32), name))
        return name

    def add_output(self, value: str, name: str, elem_type: int, shape: Sequence[Dim],
                   exact: bool = True) -> None:
        """Expose ``value`` as a graph output called ``name`` (through Identity)."""
        if not exact:
            name = self.fresh(name)
        elif name in self._used:
            raise ValueError(f"graph output {name!r} declared twice")
        else:
            self._used.add(name)
        self.nodes.append(helper.make_node("Identity", [value], [name],
                                           name=self.fresh(f"{name}_out")))
        self.outputs.append(helper.make_tensor_value_info(name, elem_type, list(shape)))

    def make_graph(self, doc: str = "") -> onnx.GraphProto:
        """The finished ``GraphProto`` (a Scan body keeps its initializers in the outer graph)."""
        return helper.make_graph(self.nodes, self.name, self.inputs, self.outputs,
                                 initializer=self.initializers, doc_string=doc)

    # ------------------------------------------------------------------ small helpers

    def matmul_t(self, x: str, w_name: str, w: np.ndarray, hint: str) -> str:
        """``x @ w.T`` for a canonical (out, in) matrix, stored transposed (in, out)."""
        return self.op("MatMul", [x, self.weight(f"{w_name}.T", np.asarray(w).T)], hint)

    def activation(self, x: str, act: str, hint: str) -> str:
        """tanh | relu | sigmoid | linear."""
        if act == "linear":
            return x
        ops = {"tanh": "Tanh", "relu": "Relu", "sigmoid": "Sigmoid"}
        return self.op(ops[act], [x], hint)
