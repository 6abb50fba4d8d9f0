#!/usr/bin/python3
"""Convert @vladmandic/face-api weights-only models to ONNX for OpenCV 4.6 DNN.

face-api ships weights only (model/*-weights_manifest.json + .bin); the architectures are
rebuilt here from the package sources (src/ssdMobilenetv1, src/faceFeatureExtractor,
src/faceLandmarkNet, src/faceRecognitionNet, src/xception, src/ageGenderNet,
src/faceExpressionNet).  Every graph takes an NCHW float32 tensor that is already
normalised as `(pixel - mean) * scale` (models/faceapi.json states mean and scale) and
stops where face-api's `forwardInput` stops.

Usage (models/README.md):
  /usr/bin/python3 tools/convert/faceapi.py --name NAME --package-root DIR \
      --source DIR/model/X-weights_manifest.json --out X.onnx

Only Debian's python3-onnx and python3-numpy are used.  The output is byte-for-byte
deterministic.  The graphs use ONNX opset 10: it is the last opset where Clip takes
min/max as attributes, which OpenCV 4.6 requires, and every other op used here
(Conv, BatchNormalization, Relu, MaxPool, AveragePool, GlobalAveragePool, Pad, Add,
Sub, Mul, Exp, Sigmoid, Softmax, Gemm, Transpose, Reshape, Slice, Concat) has the
same meaning there as in opsets 11-13.
"""

import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 10
PRODUCER = "argus tools/convert/faceapi.py"
PRODUCER_VERSION = "1"

MEAN_RGB = [122.782, 117.001, 104.298]


# ---------------------------------------------------------------------------------------------
# Weights


def load_weights(manifest_path):
    """Decode a tfjs weights manifest the way tf.io.decodeWeights does.

    Quantised float32 weights are `q * scale + min` computed in double and stored as float32;
    quantised int32 weights are rounded.  Returns {name: np.ndarray}.
    """
    with open(manifest_path, "rb") as f:
        groups = json.load(f)
    base = os.path.dirname(manifest_path)
    weights = {}
    for group in groups:
        data = b"".join(open(os.path.join(base, p), "rb").read() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            shape = [int(d) for d in spec["shape"]]
            count = int(np.prod(shape)) if shape else 1
            dtype = spec["dtype"]
            quant = spec.get("quantization")
            if quant:
                qtype = {"uint8": np.uint8, "uint16": np.uint16, "float16": np.float16}[quant["dtype"]]
                nbytes = count * np.dtype(qtype).itemsize
                q = np.frombuffer(data, dtype=qtype, count=count, offset=offset)
                if quant["dtype"] == "float16":
                    values = q.astype(np.float32)
                else:
                    values = q.astype(np.float64) * float(quant["scale"]) + float(quant["min"])
                    if dtype == "int32":
                        values = np.round(values).astype(np.int32)
                    else:
                        values = values.astype(np.float32)
            else:
                npt = {"float32": "<f4", "int32": "<i4"}[dtype]
                nbytes = count * 4
                values = np.frombuffer(data, dtype=npt, count=count, offset=offset)
            offset += nbytes
            weights[spec["name"]] = np.array(values).reshape(shape)
        if offset != len(data):
            raise ValueError(f"{manifest_path}: {len(data) - offset} bytes left after the last weight")
    return weights


# ---------------------------------------------------------------------------------------------
# Graph builder: NCHW tensors with static shapes, TF 'same' padding made explicit.


def tf_pads(size, kernel, stride, padding):
    """(pad_begin, pad_end, out) for one spatial dim, as TF/tfjs compute them."""
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        return total // 2, total - total // 2, out
    if padding == "valid":
        return 0, 0, (size - kernel) // stride + 1
    raise ValueError(padding)


class Graph:
    def __init__(self, name):
        self.name = name
        self.nodes = []
        self.inits = []
        self.shapes = {}
        self.used = set()

    def _unique(self, base):
        name = base
        i = 1
        while name in self.used:
            i += 1
            name = f"{base}_{i}"
        self.used.add(name)
        return name

    def const(self, value, name):
        name = self._unique(name)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op_type, inputs, shape, name, **attrs):
        out = self._unique(name)
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        self.shapes[out] = list(shape)
        return out

    # -- layers ------------------------------------------------------------------------------

    def conv(self, x, filters, bias, stride, padding, name, depthwise=False):
        """tf.conv2d / tf.depthwiseConv2d with a [kh, kw, cin, cout|1] filter, optional bias."""
        n, c, h, w = self.shapes[x]
        kh, kw, cin, cout = filters.shape
        assert cin == c, (name, filters.shape, self.shapes[x])
        pt, pb, oh = tf_pads(h, kh, stride, padding)
        pl, pr, ow = tf_pads(w, kw, stride, padding)
        if depthwise:
            assert cout == 1
            weight = filters.transpose(2, 3, 0, 1)  # [c, 1, kh, kw]
            group, cout = c, c
        else:
            weight = filters.transpose(3, 2, 0, 1)  # [cout, cin, kh, kw]
            group = 1
        inputs = [x, self.const(weight.astype(np.float32), name + "/W")]
        if bias is not None:
            inputs.append(self.const(bias.astype(np.float32).reshape(cout), name + "/B"))
        return self.op("Conv", inputs, [n, cout, oh, ow], name, kernel_shape=[kh, kw],
                       strides=[stride, stride], pads=[pt, pl, pb, pr], dilations=[1, 1],
                       group=group)

    def separable_conv(self, x, depthwise_filter, pointwise_filter, bias, stride, name):
        """common/depthwiseSeparableConv: tf.separableConv2d(..., 'same') + bias."""
        dw = self.conv(x, depthwise_filter, None, stride, "same", name + "/depthwise", depthwise=True)
        return self.conv(dw, pointwise_filter, bias, 1, "valid", name + "/pointwise")

    def batch_norm(self, x, scale, offset, mean, variance, epsilon, name):
        c = self.shapes[x][1]
        ins = [x] + [self.const(v.astype(np.float32).reshape(c), f"{name}/{k}")
                     for k, v in (("scale", scale), ("offset", offset), ("mean", mean),
                                  ("variance", variance))]
        return self.op("BatchNormalization", ins, self.shapes[x], name, epsilon=float(epsilon))

    def unary(self, op_type, x, name, **attrs):
        return self.op(op_type, [x], self.shapes[x], name, **attrs)

    def relu(self, x, name):
        return self.unary("Relu", x, name)

    def relu6(self, x, name):
        return self.unary("Clip", x, name, min=0.0, max=6.0)

    def add(self, a, b, name):
        assert self.shapes[a] == self.shapes[b], (name, self.shapes[a], self.shapes[b])
        return self.op("Add", [a, b], self.shapes[a], name)

    def sub(self, a, b, name):
        assert self.shapes[a] == self.shapes[b], (name, self.shapes[a], self.shapes[b])
        return self.op("Sub", [a, b], self.shapes[a], name)

    def pool(self, op_type, x, kernel, stride, padding, name):
        n, c, h, w = self.shapes[x]
        pt, pb, oh = tf_pads(h, kernel, stride, padding)
        pl, pr, ow = tf_pads(w, kernel, stride, padding)
        attrs = dict(kernel_shape=[kernel, kernel], strides=[stride, stride], pads=[pt, pl, pb, pr])
        if op_type == "AveragePool":
            assert padding == "valid"  # tfjs 'same' avgPool excludes the padding; not needed here
        return self.op(op_type, [x], [n, c, oh, ow], name, **attrs)

    def reshape(self, x, shape, name):
        assert int(np.prod(shape)) == int(np.prod(self.shapes[x])), (name, shape, self.shapes[x])
        return self.op("Reshape", [x, self.const(np.array(shape, np.int64), name + "/shape")],
                       shape, name)

    def transpose(self, x, perm, name):
        shape = [self.shapes[x][p] for p in perm]
        return self.op("Transpose", [x], shape, name, perm=list(perm))

    def concat(self, xs, axis, name):
        shape = list(self.shapes[xs[0]])
        shape[axis] = sum(self.shapes[x][axis] for x in xs)
        return self.op("Concat", list(xs), shape, name, axis=axis)

    def slice(self, x, axis, start, end, name):
        shape = list(self.shapes[x])
        shape[axis] = end - start
        ins = [x, self.const(np.array([start], np.int64), name + "/starts"),
               self.const(np.array([end], np.int64), name + "/ends"),
               self.const(np.array([axis], np.int64), name + "/axes")]
        return self.op("Slice", ins, shape, name)

    def scale_shift(self, x, scale, shift, name):
        """x * scale + shift with constants broadcast as [1, C, 1, 1] (or scalars)."""
        out = x
        if scale is not None:
            out = self.op("Mul", [out, self.const(np.asarray(scale, np.float32), name + "/scale")],
                          self.shapes[x], name + "/mul")
        if shift is not None:
            out = self.op("Add", [out, self.const(np.asarray(shift, np.float32), name + "/shift")],
                          self.shapes[x], name + "/add")
        return out

    def pad(self, x, pads, name):
        """Zero padding; pads = [b0, b1, b2, b3, e0, e1, e2, e3] as in ONNX."""
        shape = [d + pads[i] + pads[i + 4] for i, d in enumerate(self.shapes[x])]
        return self.op("Pad", [x], shape, name, mode="constant", pads=list(pads), value=0.0)

    def fully_connected(self, x, weights, bias, name):
        """common/fullyConnectedLayer: x @ W + b, W is [in, out]; Gemm with transB=1."""
        n, k = self.shapes[x]
        kin, kout = weights.shape
        assert kin == k, (name, weights.shape, self.shapes[x])
        b = np.zeros(kout, np.float32) if bias is None else bias.astype(np.float32).reshape(kout)
        return self.op("Gemm", [x, self.const(weights.T.astype(np.float32), name + "/W"),
                                self.const(b, name + "/B")],
                       [n, kout], name, alpha=1.0, beta=1.0, transA=0, transB=1)

    def model(self, input_name, input_shape, outputs, doc):
        graph = helper.make_graph(
            self.nodes, self.name,
            [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, input_shape)],
            [helper.make_tensor_value_info(o, TensorProto.FLOAT, self.shapes[o]) for o in outputs],
            initializer=self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name=PRODUCER, producer_version=PRODUCER_VERSION,
                                  doc_string=doc)
        model.ir_version = 5  # the IR version that goes with opset 10
        onnx.checker.check_model(model)
        return model


def input_graph(name, size):
    g = Graph(name)
    g.shapes["input"] = [1, 3, size, size]
    g.used.add("input")
    return g


# ---------------------------------------------------------------------------------------------
# SSD MobileNetV1 (src/ssdMobilenetv1)


def ssd_anchors(grids, unit=1.0):
    """The anchors of TF's multiple_grid_anchor_generator for SSD MobileNetV1 (6 layers, scales
    0.2 to 0.95; the lowest layer 3 boxes: 0.1 square, 0.2 at aspects 2 and 1/2; the others a
    square, a square at the geometric mean with the next scale, aspects 2, 1/2, 3, 1/3), centred
    on each cell of a g x g grid, as (ymin, xmin, ymax, xmax) relative to the input, their sizes
    multiplied by `unit`.  For the 512x512 grids (32, 16, 8, 4, 2, 1) and unit 1 they equal
    face-api's Output/extra_dim to 5e-5."""
    n, lo, hi = 6, 0.2, 0.95
    scales = [lo + (hi - lo) * i / (n - 1) for i in range(n)] + [1.0]
    out = []
    for layer, grid in enumerate(grids):
        if layer == 0:
            boxes = [(0.1, 1.0), (scales[0], 2.0), (scales[0], 0.5)]
        else:
            s = scales[layer]
            boxes = [(s, 1.0), (np.sqrt(s * scales[layer + 1]), 1.0)] + \
                [(s, r) for r in (2.0, 0.5, 3.0, 1 / 3)]
        for i in range(grid):
            for j in range(grid):
                cy, cx = (i + 0.5) / grid, (j + 0.5) / grid
                for scale, aspect in boxes:
                    h, w = unit * scale / np.sqrt(aspect), unit * scale * np.sqrt(aspect)
                    out.append([cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2])
    return np.asarray(out, np.float32)


def build_ssd_mobilenetv1(w, size=512, name="faceapi_ssd_mobilenetv1"):
    """The SSD at a size x size input.  At 512 it is face-api's.  At other sizes it is a window of
    the 512 net: the anchors keep their 512x512 sizes in pixels, so that a size x size crop of
    the 512x512 input, its origin on the 64-pixel grid, gives the 512 net's boxes and scores for
    faces well inside the crop (the layers of strides 16 to 64 see the same pixels; only the
    coarse layers, whose anchors are larger than the crop, differ)."""
    g = input_graph(name, size)
    eps = 0.0010000000474974513  # mobileNetV1.ts

    def pointwise(x, prefix, idx, stride, name):  # pointwiseConvLayer: conv 'same' + offset, relu6
        base = f"{prefix}/Conv2d_{idx}_pointwise"
        y = g.conv(x, w[base + "/weights"], w[base + "/convolution_bn_offset"], stride, "same", name)
        return g.relu6(y, name + "/relu6")

    def depthwise(x, idx, stride):  # depthwiseConvLayer: dw conv 'same', batchNorm, relu6
        base = f"MobilenetV1/Conv2d_{idx}_depthwise"
        name = f"mobilenetv1/conv_{idx}/depthwise"
        y = g.conv(x, w[base + "/depthwise_weights"], None, stride, "same", name, depthwise=True)
        y = g.batch_norm(y, w[base + "/BatchNorm/gamma"], w[base + "/BatchNorm/beta"],
                         w[base + "/BatchNorm/moving_mean"], w[base + "/BatchNorm/moving_variance"],
                         eps, name + "/bn")
        return g.relu6(y, name + "/relu6")

    # mobileNetV1
    x = pointwise("input", "MobilenetV1", 0, 2, "mobilenetv1/conv_0")
    conv11 = None
    for idx in range(1, 14):
        stride = 2 if idx in (2, 4, 6, 12) else 1
        x = depthwise(x, idx, stride)
        x = pointwise(x, "MobilenetV1", idx, 1, f"mobilenetv1/conv_{idx}/pointwise")
        if idx == 11:
            conv11 = x

    # predictionLayer
    c = [None] * 8
    prev = x
    for i in range(8):
        c[i] = pointwise(prev, "Prediction", i, 2 if i % 2 else 1, f"prediction_layer/conv_{i}")
        prev = c[i]
    sources = [conv11, x, c[1], c[3], c[5], c[7]]

    box_parts, class_parts = [], []
    for i, src in enumerate(sources):
        base = f"Prediction/BoxPredictor_{i}"
        name = f"prediction_layer/box_predictor_{i}"
        # boxPredictionLayer: convLayer (conv 'same' + bias), NHWC reshape to [1, -1, 4] / [1, -1, 3]
        for kind, width, parts in (("BoxEncodingPredictor", 4, box_parts),
                                   ("ClassPredictor", 3, class_parts)):
            y = g.conv(src, w[f"{base}/{kind}/weights"], w[f"{base}/{kind}/biases"], 1, "same",
                       f"{name}/{kind}")
            y = g.transpose(y, [0, 2, 3, 1], f"{name}/{kind}/nhwc")
            _, hh, ww, ch = g.shapes[y]
            parts.append(g.reshape(y, [1, hh * ww * ch // width, width], f"{name}/{kind}/reshape"))
    boxes_enc = g.concat(box_parts, 1, "box_encodings")      # [1, 5118, 4]  (ty, tx, th, tw)
    classes = g.concat(class_parts, 1, "class_predictions")  # [1, 5118, 3]
    num = g.shapes[boxes_enc][1]

    # outputLayer: decode against the anchors in Output/extra_dim [1, N, 4] (ymin, xmin, ymax, xmax).
    # Each of the 4 box parts is laid out as [1, N, 1, 1] so the per-anchor constants broadcast
    # as [1, C, 1, 1] (the only constant broadcast OpenCV 4.6 handles besides scalars).
    generated = ssd_anchors([g.shapes[src][2] for src in sources], unit=512 / size)
    if size == 512:
        anchors = w["Output/extra_dim"].reshape(num, 4).astype(np.float32)
        # The generator other sizes rely on must reproduce face-api's own anchors.
        assert np.abs(generated - anchors).max() < 1e-4, "ssd_anchors does not match Output/extra_dim"
    else:
        anchors = generated
    assert anchors.shape == (num, 4)
    sizes = [anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]]  # float32 like tfjs
    centers = [anchors[:, 0] + sizes[0] / np.float32(2), anchors[:, 1] + sizes[1] / np.float32(2)]
    col = lambda v: np.asarray(v, np.float32).reshape(1, num, 1, 1)

    enc4 = g.reshape(boxes_enc, [1, num, 4, 1], "output_layer/encodings")
    t = [g.slice(enc4, 2, k, k + 1, f"output_layer/t{k}") for k in range(4)]
    half, center = [], []
    for k in range(2):  # k = 0: y / height, k = 1: x / width
        # div(mul(exp(div(t[2+k], 5)), size), 2)
        e = g.unary("Exp", g.scale_shift(t[2 + k], np.float32(0.2), None, f"output_layer/log_size{k}"),
                    f"output_layer/exp{k}")
        half.append(g.scale_shift(e, col(sizes[k] / np.float32(2)), None, f"output_layer/half{k}"))
        # add(mul(div(t[k], 10), size), center)
        center.append(g.scale_shift(t[k], col(sizes[k] / np.float32(10)), col(centers[k]),
                                    f"output_layer/center{k}"))
    corners = [g.sub(center[0], half[0], "output_layer/ymin"),
               g.sub(center[1], half[1], "output_layer/xmin"),
               g.add(center[0], half[0], "output_layer/ymax"),
               g.add(center[1], half[1], "output_layer/xmax")]
    g.reshape(g.concat(corners, 3, "output_layer/corners"), [1, num, 4], "boxes")

    # scores = sigmoid(classPredictions[:, :, 1:])[:, :, 0]: the face class
    face = g.slice(classes, 2, 1, 2, "output_layer/face_logit")
    g.reshape(g.unary("Sigmoid", face, "output_layer/sigmoid"), [1, num], "scores")
    return g, ["boxes", "scores"], size


# ---------------------------------------------------------------------------------------------
# FaceFeatureExtractor (src/faceFeatureExtractor) + fc: landmarks68 and expressions


def face_feature_extractor(g, w, x):
    def sep(x, prefix, stride):
        return g.separable_conv(x, w[prefix + "/depthwise_filter"], w[prefix + "/pointwise_filter"],
                                w[prefix + "/bias"], stride, prefix)

    def dense_block4(x, prefix, first):
        if first:
            out1 = g.conv(x, w[prefix + "/conv0/filters"], w[prefix + "/conv0/bias"], 2, "same",
                          prefix + "/conv0")
        else:
            out1 = sep(x, prefix + "/conv0", 2)
        out1 = g.relu(out1, prefix + "/out1")
        out2 = sep(out1, prefix + "/conv1", 1)
        in3 = g.relu(g.add(out1, out2, prefix + "/add3"), prefix + "/in3")
        out3 = sep(in3, prefix + "/conv2", 1)
        in4 = g.relu(g.add(out1, g.add(out2, out3, prefix + "/add23"), prefix + "/add4"),
                     prefix + "/in4")
        out4 = sep(in4, prefix + "/conv3", 1)
        s = g.add(out1, g.add(out2, g.add(out3, out4, prefix + "/add34"), prefix + "/add234"),
                  prefix + "/add1234")
        return g.relu(s, prefix + "/out")

    out = dense_block4(x, "dense0", True)
    out = dense_block4(out, "dense1", False)
    out = dense_block4(out, "dense2", False)
    out = dense_block4(out, "dense3", False)
    return g.pool("AveragePool", out, 7, 2, "valid", "avg_pool")  # [1, 256, 1, 1]


def flatten(g, x, name):
    n, c, h, w = g.shapes[x]
    assert h == 1 and w == 1  # NHWC and NCHW flatten agree only for 1x1 maps
    return g.reshape(x, [n, c], name)


def build_landmark68(w):
    g = input_graph("faceapi_landmark68", 112)
    feat = flatten(g, face_feature_extractor(g, w, "input"), "features")
    g.fully_connected(feat, w["fc/weights"], w["fc/bias"], "landmarks")
    return g, ["landmarks"], 112


def build_expression(w):
    g = input_graph("faceapi_expression", 112)
    feat = flatten(g, face_feature_extractor(g, w, "input"), "features")
    logits = g.fully_connected(feat, w["fc/weights"], w["fc/bias"], "logits")
    g.unary("Softmax", logits, "expressions", axis=1)
    return g, ["expressions"], 112


# ---------------------------------------------------------------------------------------------
# FaceRecognitionNet (src/faceRecognitionNet): dlib ResNet-29


def build_recognition(w):
    g = input_graph("faceapi_recognition", 150)

    def conv_layer(x, prefix, stride, relu, padding):
        y = g.conv(x, w[prefix + "/conv/filters"], w[prefix + "/conv/bias"], stride, padding, prefix)
        c = g.shapes[y][1]
        y = g.scale_shift(y, w[prefix + "/scale/weights"].reshape(1, c, 1, 1),
                          w[prefix + "/scale/biases"].reshape(1, c, 1, 1), prefix + "/scale")
        return g.relu(y, prefix + "/relu") if relu else y

    def residual(x, prefix):
        out = conv_layer(x, prefix + "/conv1", 1, True, "same")
        out = conv_layer(out, prefix + "/conv2", 1, False, "same")
        return g.relu(g.add(out, x, prefix + "/add"), prefix + "/out")

    def residual_down(x, prefix):
        out = conv_layer(x, prefix + "/conv1", 2, True, "valid")
        out = conv_layer(out, prefix + "/conv2", 1, False, "same")
        pooled = g.pool("AveragePool", x, 2, 2, "valid", prefix + "/pool")
        _, oc, oh, ow = g.shapes[out]
        _, pc, ph, pw = g.shapes[pooled]
        if (oh, ow) != (ph, pw):  # face-api appends a zero row and a zero column to `out`
            out = g.pad(out, [0, 0, 0, 0, 0, 0, ph - oh, pw - ow], prefix + "/pad_hw")
        if pc != oc:  # and zero channels to `pooled`
            pooled = g.pad(pooled, [0, 0, 0, 0, 0, oc - pc, 0, 0], prefix + "/pad_c")
        return g.relu(g.add(pooled, out, prefix + "/add"), prefix + "/out")

    out = conv_layer("input", "conv32_down", 2, True, "valid")
    out = g.pool("MaxPool", out, 3, 2, "valid", "max_pool")
    for name in ("conv32_1", "conv32_2", "conv32_3"):
        out = residual(out, name)
    out = residual_down(out, "conv64_down")
    for name in ("conv64_1", "conv64_2", "conv64_3"):
        out = residual(out, name)
    out = residual_down(out, "conv128_down")
    for name in ("conv128_1", "conv128_2"):
        out = residual(out, name)
    out = residual_down(out, "conv256_down")
    for name in ("conv256_1", "conv256_2"):
        out = residual(out, name)
    out = residual_down(out, "conv256_down_out")
    n, c, _, _ = g.shapes[out]
    pooled = g.op("GlobalAveragePool", [out], [n, c, 1, 1], "global_avg")
    feat = flatten(g, pooled, "features")
    g.fully_connected(feat, w["fc"], None, "descriptor")  # matMul without bias
    return g, ["descriptor"], 150


# ---------------------------------------------------------------------------------------------
# AgeGenderNet (src/ageGenderNet) on TinyXception(2) (src/xception)


def build_age_gender(w):
    g = input_graph("faceapi_age_gender", 112)

    def sep(x, prefix):
        return g.separable_conv(x, w[prefix + "/depthwise_filter"], w[prefix + "/pointwise_filter"],
                                w[prefix + "/bias"], 1, prefix)

    def conv(x, prefix, stride):
        return g.conv(x, w[prefix + "/filters"], w[prefix + "/bias"], stride, "same", prefix)

    def reduction_block(x, prefix, activate_input):
        out = g.relu(x, prefix + "/in_relu") if activate_input else x
        out = sep(out, prefix + "/separable_conv0")
        out = sep(g.relu(out, prefix + "/relu0"), prefix + "/separable_conv1")
        out = g.pool("MaxPool", out, 3, 2, "same", prefix + "/max_pool")
        return g.add(out, conv(x, prefix + "/expansion_conv", 2), prefix + "/add")

    def main_block(x, prefix):
        out = sep(g.relu(x, prefix + "/relu0"), prefix + "/separable_conv0")
        out = sep(g.relu(out, prefix + "/relu1"), prefix + "/separable_conv1")
        out = sep(g.relu(out, prefix + "/relu2"), prefix + "/separable_conv2")
        return g.add(out, x, prefix + "/add")

    out = g.relu(conv("input", "entry_flow/conv_in", 2), "entry_flow/conv_in/relu")
    out = reduction_block(out, "entry_flow/reduction_block_0", False)
    out = reduction_block(out, "entry_flow/reduction_block_1", True)
    for i in range(2):
        out = main_block(out, f"middle_flow/main_block_{i}")
    out = reduction_block(out, "exit_flow/reduction_block", True)
    out = g.relu(sep(out, "exit_flow/separable_conv"), "exit_flow/relu")
    pooled = g.pool("AveragePool", out, 7, 2, "valid", "avg_pool")  # [1, 512, 1, 1]
    feat = flatten(g, pooled, "features")
    g.fully_connected(feat, w["fc/age/weights"], w["fc/age/bias"], "age")
    logits = g.fully_connected(feat, w["fc/gender/weights"], w["fc/gender/bias"], "gender_logits")
    g.unary("Softmax", logits, "gender", axis=1)
    return g, ["age", "gender"], 112


BUILDERS = {
    "faceapi_ssd_mobilenetv1": (build_ssd_mobilenetv1, "ssd_mobilenetv1_model-weights_manifest.json"),
    "faceapi_ssd_mobilenetv1_window": (
        lambda w: build_ssd_mobilenetv1(w, 256, "faceapi_ssd_mobilenetv1_window"),
        "ssd_mobilenetv1_model-weights_manifest.json"),
    "faceapi_landmark68": (build_landmark68, "face_landmark_68_model-weights_manifest.json"),
    "faceapi_recognition": (build_recognition, "face_recognition_model-weights_manifest.json"),
    "faceapi_age_gender": (build_age_gender, "age_gender_model-weights_manifest.json"),
    "faceapi_expression": (build_expression, "face_expression_model-weights_manifest.json"),
}


def convert(name, source):
    builder, expected = BUILDERS[name]
    if os.path.basename(source) != expected:
        raise SystemExit(f"{name}: expected source {expected}, got {source}")
    g, outputs, size = builder(load_weights(source))
    doc = f"{name}: @vladmandic/face-api model/{expected}, architecture rebuilt from the package sources"
    return g.model("input", [1, 3, size, size], outputs, doc)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--name", required=True, choices=sorted(BUILDERS))
    ap.add_argument("--package-root", required=True, help="the unpacked package/ folder")
    ap.add_argument("--source", help="weights manifest (default: <package-root>/model/<file>)")
    ap.add_argument("--out", required=True, help="output .onnx file")
    args = ap.parse_args(argv)
    source = args.source or os.path.join(args.package_root, "model", BUILDERS[args.name][1])
    model = convert(args.name, os.path.abspath(source))
    data = model.SerializeToString()
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, args.out)
    print(f"{args.name}: wrote {args.out} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
