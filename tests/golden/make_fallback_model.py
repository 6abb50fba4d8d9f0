"""Writes a tiny ONNX graph with an operator argus's oneDNN runtime lacks
(Tanh) but OpenCV DNN runs: input [1,3,8,8] -> 1x1 Conv (weights 0.5, 0.25,
-0.5; bias 0.1) -> Tanh -> output [1,1,8,8]. Usage: make_fallback_model.py OUT."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

w = numpy_helper.from_array(np.array([0.5, 0.25, -0.5], np.float32).reshape(1, 3, 1, 1), "w")
b = numpy_helper.from_array(np.array([0.1], np.float32), "b")
graph = helper.make_graph(
    [helper.make_node("Conv", ["input", "w", "b"], ["c"], kernel_shape=[1, 1]),
     helper.make_node("Tanh", ["c"], ["output"])],
    "fallback",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 8, 8])],
    [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, 8, 8])],
    [w, b])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 10)])
model.ir_version = 6
onnx.checker.check_model(model)
onnx.save(model, sys.argv[1])
