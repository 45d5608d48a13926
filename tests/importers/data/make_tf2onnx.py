"""Make the tf2onnx_*.onnx test sources: Keras 3 models converted by tf2onnx 1.17.

tf2onnx does not install next to the current protobuf/numpy pins, so the tests read these
committed files instead of converting on the fly. To remake them (the weights are seeded):

    pip install --no-deps --target /tmp/tf2onnx_site tf2onnx==1.17.0
    PYTHONPATH=/tmp/tf2onnx_site python tests/importers/data/make_tf2onnx.py

(``tf2onnx.convert.from_keras`` fails on Keras 3 models; ``from_function`` on a tf.function that
calls the model works.) With tf2onnx 1.17 a Keras 3 LSTM becomes an ONNX ``LSTM`` node, while a
GRU or SimpleRNN, and any masked layer, becomes a ``Loop`` over an unrolled cell.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
import tf2onnx
from keras import layers as L

HERE = Path(__file__).resolve().parent


def _seeded(model: keras.Model) -> keras.Model:
    rng = np.random.default_rng(0)  # non-zero biases everywhere, so a dropped one shows
    for w in model.weights:
        w.assign(rng.uniform(-0.5, 0.5, size=w.shape).astype(w.dtype))
    return model


def _convert(model: keras.Model, shape: tuple[int | None, ...], dtype: tf.DType,
             name: str) -> None:
    spec = (tf.TensorSpec(shape, dtype, name="x"),)
    fn = tf.function(lambda x: model(x, training=False), input_signature=spec)
    tf2onnx.convert.from_function(fn, input_signature=spec, opset=17,
                                  output_path=str(HERE / name))


def main() -> None:
    keras.utils.set_random_seed(0)
    _convert(_seeded(keras.Sequential([
        L.Input((None,), dtype="int32"), L.Embedding(20, 5),
        L.Bidirectional(L.LSTM(6, return_sequences=True)), L.Dense(3)])),
        (None, None), tf.int32, "tf2onnx_bilstm_tokens.onnx")
    _convert(_seeded(keras.Sequential([
        L.Input((None, 3)), L.LSTM(8, return_sequences=True), L.GlobalAveragePooling1D(),
        L.Dense(2, activation="softmax")])),
        (None, None, 3), tf.float32, "tf2onnx_lstm_mean_softmax.onnx")
    _convert(_seeded(keras.Sequential([
        L.Input((None, 4)), L.GRU(5, return_sequences=True), L.Dense(2)])),
        (None, None, 4), tf.float32, "tf2onnx_gru_loop.onnx")


if __name__ == "__main__":
    main()
