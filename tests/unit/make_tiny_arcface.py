"""Writes a tiny ONNX face recogniser in ArcFace's layout (input 1x3x112x112,
output 1x512) with fixed pseudo-random weights: an 8x8/8 convolution to
8x14x14, then a 1568->512 matrix product. It checks plumbing (alignment size,
input normalisation, output handling), not accuracy.

usage: make_tiny_arcface.py OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main(out):
    rng = np.random.default_rng(112512)
    conv_w = rng.normal(0, 0.05, (8, 3, 8, 8)).astype(np.float32)
    conv_b = np.zeros(8, np.float32)
    gemm_w = rng.normal(0, 0.02, (512, 8 * 14 * 14)).astype(np.float32)  # transB=1 (OpenCV 4.6)
    gemm_b = np.zeros(512, np.float32)
    nodes = [
        helper.make_node("Conv", ["input", "conv_w", "conv_b"], ["features"],
                         kernel_shape=[8, 8], strides=[8, 8]),
        helper.make_node("Relu", ["features"], ["relu"]),
        helper.make_node("Flatten", ["relu"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "gemm_w", "gemm_b"], ["embedding"], transB=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny_arcface",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 112, 112])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, 512])],
        [numpy_helper.from_array(conv_w, "conv_w"), numpy_helper.from_array(conv_b, "conv_b"),
         numpy_helper.from_array(gemm_w, "gemm_w"), numpy_helper.from_array(gemm_b, "gemm_b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, out)


if __name__ == "__main__":
    main(sys.argv[1])
