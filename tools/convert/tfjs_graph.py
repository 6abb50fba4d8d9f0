#!/usr/bin/python3
"""Convert a TensorFlow.js graph model (model.json + shards) to ONNX for OpenCV 4.6 DNN.

Usage (the manifest's converter contract, see models/README.md):
    /usr/bin/python3 tools/convert/tfjs_graph.py --name NAME --package-root DIR \
        --source FILE --out FILE.onnx

--source is a TFJS `model.json`, or (nsfwjs) a browserified `model.min.js` whose
module exports the model.json object; its weight shards are then the
`<path>.min.js` files next to it, each exporting one base64 string.

The graph is translated op by op (TFJS NHWC -> ONNX NCHW, tracked per tensor),
with everything OpenCV 4.6 cannot do resolved at conversion time:
  * static shapes everywhere (batch fixed to 1), shape arithmetic evaluated here;
  * TF SAME padding -> explicit pads; FusedBatchNorm folded into conv weights;
  * Gemm always with transB=1; Clip with min/max as attributes (OpenCV reads only
    those, although opset 11 moved them to inputs);
  * ResizeBilinear -> Resize(mode=linear, coordinate_transformation_mode=asymmetric
    | align_corners | half_pixel) with constant scales;
  * constants broadcast only as [1,C,1,1] against NCHW tensors or 1-D against 2-D;
  * weights: uint8/uint16 dequantised as q*scale+min, float16 read as IEEE half.
Outputs keep the TFJS element order: 4-D results get a Transpose back to NHWC.

Per-model settings (outputs, output names, cut points, optional in-graph
pre-processing) are in MODELS below. Needs only Debian's python3-onnx and
python3-numpy. The output bytes are deterministic.
"""

import argparse
import base64
import json
import os
import re
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

# Opset 10 keeps Clip's min/max as attributes, which is all OpenCV 4.6 reads. A graph
# with ResizeBilinear needs opset 11 (coordinate_transformation_mode); there Clip keeps
# the attributes anyway (OpenCV 4.6 rejects Clip with min/max inputs), so such a
# model is for OpenCV, not for a strict opset-11 checker.
DEFAULT_OPSET = 10

# ---------------------------------------------------------------------------
# Per-model settings.
#   outputs: [(tfjs tensor, onnx output name)], in the order they are emitted.
#            Naming tensors here also cuts the graph: nothing past them is converted.
#   gray_input: the model takes one grey channel; the ONNX graph takes RGB 0..1
#            (after the manifest mean/scale) and computes human's emotion
#            pre-processing (0.2989 R + 0.5870 G + 0.1140 B - 0.5) * 2 in-graph.
# ---------------------------------------------------------------------------
MODELS = {
    'human_blazeface': {
        'outputs': [('Identity', 'classificators_1'),    # [1,512,1]
                    ('Identity_1', 'classificators_2'),  # [1,384,1]
                    ('Identity_2', 'regressors_1'),      # [1,512,16]
                    ('Identity_3', 'regressors_2')],     # [1,384,16]
    },
    'human_facemesh': {
        'outputs': [('Identity_2', 'mesh'),       # [1,1404]
                    ('Identity_1', 'faceflag'),   # [1,1]
                    ('Identity', 'contours')],    # [1,266]
    },
    'human_faceres': {
        'outputs': [('global_pooling/Mean', 'descriptor'),  # [1,1024]
                    ('gender_pred/Sigmoid', 'gender'),      # [1,1]
                    ('age_pred/Softmax', 'age')],           # [1,100]
    },
    'human_emotion': {
        'outputs': [('Identity', 'emotion')],  # [1,7]
        'gray_input': True,
    },
    'human_antispoof': {
        'outputs': [('Identity', 'antispoof')],  # [1,1]
    },
    'human_liveness': {
        'outputs': [('Identity', 'liveness')],  # [1,2]
    },
    'human_iris': {
        'outputs': [('Identity', 'iris')],  # [1,1,1,228]
    },
    'human_centernet': {
        # cut before the peak mask (Equal/Cast), TopKV2, GatherV2 and the int32 box decode
        'outputs': [('tower_0/keypoints', 'heatmap'),  # [1,128,128,80] NHWC
                    ('tower_0/wh', 'wh')],             # [1,128,128,4] NHWC
        'opset': 11,  # ResizeBilinear
    },
    'nsfwjs_mobilenet_v2_mid': {
        'outputs': [('Identity', 'probabilities')],  # [1,5]
    },
}


# ---------------------------------------------------------------------------
# Reading the model: model.json or browserified model.min.js + shards
# ---------------------------------------------------------------------------
class _JsParser:
    """Parses one JavaScript literal (object/array/string/number/!0/!1/...)."""

    _num = re.compile(r'-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?')
    _ident = re.compile(r'[A-Za-z_$][\w$]*')

    def __init__(self, text, pos):
        self.s = text
        self.i = pos

    def _ws(self):
        while self.i < len(self.s) and self.s[self.i] in ' \t\r\n':
            self.i += 1

    def value(self):
        self._ws()
        c = self.s[self.i]
        if c == '{':
            return self._object()
        if c == '[':
            return self._array()
        if c in '"\'':
            return self._string()
        if self.s.startswith('!0', self.i):
            self.i += 2
            return True
        if self.s.startswith('!1', self.i):
            self.i += 2
            return False
        m = self._num.match(self.s, self.i)
        if m:
            self.i = m.end()
            t = m.group(0)
            return float(t) if any(ch in t for ch in '.eE') else int(t)
        m = self._ident.match(self.s, self.i)
        if m:
            self.i = m.end()
            word = m.group(0)
            consts = {'true': True, 'false': False, 'null': None}
            if word in consts:
                return consts[word]
            raise ValueError('unsupported JS identifier %r at %d' % (word, m.start()))
        raise ValueError('unexpected %r at %d' % (c, self.i))

    def _string(self):
        q = self.s[self.i]
        j = self.i + 1
        out = []
        while self.s[j] != q:
            if self.s[j] == '\\':
                out.append(self.s[j:j + 2])
                j += 2
            else:
                out.append(self.s[j])
                j += 1
        raw = ''.join(out)
        self.i = j + 1
        if q == '\'':
            raw = raw.replace('\\\'', '\'').replace('"', '\\"')
        return json.loads('"' + raw + '"')

    def _object(self):
        self.i += 1
        obj = {}
        while True:
            self._ws()
            if self.s[self.i] == '}':
                self.i += 1
                return obj
            if self.s[self.i] in '"\'':
                key = self._string()
            else:
                m = self._ident.match(self.s, self.i) or self._num.match(self.s, self.i)
                key = m.group(0)
                self.i = m.end()
            self._ws()
            assert self.s[self.i] == ':', self.s[self.i - 20:self.i + 20]
            self.i += 1
            obj[key] = self.value()
            self._ws()
            if self.s[self.i] == ',':
                self.i += 1

    def _array(self):
        self.i += 1
        arr = []
        while True:
            self._ws()
            if self.s[self.i] == ']':
                self.i += 1
                return arr
            arr.append(self.value())
            self._ws()
            if self.s[self.i] == ',':
                self.i += 1


def _js_module_export(path):
    """The value of `module.exports = ...` of browserify module 1 in a .min.js file."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    m = re.search(r'\{1:\[function\(\w+,(\w+),\w+\)\{\1\.exports=', text)
    if not m:
        raise ValueError('%s: no browserify module export found' % path)
    return _JsParser(text, m.end()).value()


def load_model(source):
    """Returns (model.json dict, list of weight byte strings in manifest order)."""
    d = os.path.dirname(os.path.abspath(source))
    if source.endswith('.js'):
        model = _js_module_export(source)
        read = lambda p: base64.b64decode(_js_module_export(os.path.join(d, p + '.min.js')))
    else:
        with open(source, encoding='utf-8') as f:
            model = json.load(f)
        read = lambda p: open(os.path.join(d, p), 'rb').read()
    data = []
    for group in model['weightsManifest']:
        data.append(b''.join(read(p) for p in group['paths']))
    return model, data


_DT = {'float32': np.float32, 'int32': np.int32, 'bool': np.bool_}


def decode_weights(model, data):
    """name -> numpy array, decoded exactly as tfjs io.decodeWeights does."""
    out = {}
    for group, buf in zip(model['weightsManifest'], data):
        off = 0
        for w in group['weights']:
            shape = [int(x) for x in w['shape']]
            n = int(np.prod(shape)) if shape else 1
            q = w.get('quantization')
            dtype = w['dtype']
            if q:
                qd = q['dtype']
                qt = {'uint8': np.uint8, 'uint16': np.uint16, 'float16': np.float16}[qd]
                raw = np.frombuffer(buf, dtype=qt, count=n, offset=off)
                off += n * raw.itemsize
                if qd == 'float16':
                    vals = raw.astype(np.float32)
                else:
                    vals = raw.astype(np.float64) * q['scale'] + q['min']
                vals = vals.astype(_DT[dtype])
            else:
                vals = np.frombuffer(buf, dtype=_DT[dtype], count=n, offset=off).copy()
                off += vals.nbytes
            out[w['name']] = vals.reshape(shape)
        if off != len(buf):
            raise ValueError('weights use %d bytes of %d' % (off, len(buf)))
    return out


# ---------------------------------------------------------------------------
# Conversion
# ---------------------------------------------------------------------------
class V:
    """A TF tensor during conversion.

    shape: static TF shape. const: numpy value when known at conversion time.
    name: ONNX tensor name otherwise; nchw: a 4-D TF NHWC tensor stored as NCHW.
    """

    def __init__(self, shape, name=None, nchw=False, const=None):
        self.shape = [int(x) for x in shape]
        self.name = name
        self.nchw = nchw
        self.const = const

    @staticmethod
    def of(arr):
        return V(arr.shape, const=np.asarray(arr))


def _attr(node, key, default=None):
    a = node.get('attr', {}).get(key)
    if a is None:
        return default
    if 's' in a:
        return base64.b64decode(a['s']).decode()
    if 'b' in a:
        return bool(a['b'])
    if 'i' in a:
        return int(a['i'])
    if 'f' in a:
        return float(a['f'])
    if 'list' in a:
        lst = a['list']
        if 'i' in lst:
            return [int(x) for x in lst['i']]
        if 's' in lst:
            return [base64.b64decode(x).decode() for x in lst['s']]
        if 'f' in lst:
            return [float(x) for x in lst['f']]
        return []
    if 'type' in a:
        return a['type']
    if 'shape' in a:
        return [int(d.get('size', -1)) for d in a['shape'].get('dim', [])]
    return a


def _same_pads(in_size, k, stride, dil):
    out = -(-in_size // stride)
    eff = (k - 1) * dil + 1
    total = max((out - 1) * stride + eff - in_size, 0)
    return total // 2, total - total // 2


class Converter:
    def __init__(self, model, weights, cfg):
        self.cfg = cfg
        self.opset = cfg.get('opset', DEFAULT_OPSET)
        self.weights = weights
        self.nodes = {}
        for n in model['modelTopology']['node']:
            self.nodes[n['name']] = n  # a few graphs repeat identical nodes
        self.values = {}
        self.onnx_nodes = []
        self.inits = []
        self.inputs = []
        self.used_names = set()
        self.counter = 0

    # -- emit helpers -------------------------------------------------------
    def _uniq(self, hint):
        hint = re.sub(r'[^A-Za-z0-9_./-]', '_', hint)
        name = hint
        while name in self.used_names:
            self.counter += 1
            name = '%s_%d' % (hint, self.counter)
        self.used_names.add(name)
        return name

    def init(self, arr, hint, dtype=np.float32):
        name = self._uniq(hint)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, dtype=dtype), name))
        return name

    def node(self, op, inputs, hint, **attrs):
        out = self._uniq(hint)
        self.onnx_nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    # -- layout helpers -----------------------------------------------------
    def runtime(self, v, hint):
        """A runtime tensor for v (a constant becomes an initializer)."""
        if v.const is None:
            return v
        return V(v.shape, name=self.init(v.const.astype(np.float32), hint + '/const'))

    def to_nchw(self, v, hint):
        assert len(v.shape) == 4
        if v.nchw:
            return v
        v = self.runtime(v, hint)
        return V(v.shape, self.node('Transpose', [v.name], hint + '/to_nchw', perm=[0, 3, 1, 2]), True)

    def to_plain(self, v, hint):
        """Stored in TF element order (NHWC for 4-D)."""
        if not v.nchw:
            return v
        n, h, w, c = v.shape
        if h == 1 and w == 1:
            return V(v.shape, self.node('Reshape', [v.name, self.init(np.array(v.shape), hint + '/shape', np.int64)],
                                        hint + '/to_nhwc'))
        return V(v.shape, self.node('Transpose', [v.name], hint + '/to_nhwc', perm=[0, 2, 3, 1]))

    # -- graph walk ---------------------------------------------------------
    def get(self, ref):
        ref = ref.lstrip('^')
        name, _, idx = ref.partition(':')
        idx = int(idx) if idx else 0
        if name not in self.values:
            self.values[name] = self.convert(self.nodes[name])
        val = self.values[name]
        if isinstance(val, list):
            return val[idx]
        assert idx == 0, ref
        return val

    def inputs_of(self, node):
        return [i for i in node.get('input', []) if not i.startswith('^')]

    def convert(self, node):
        op = node['op']
        fn = getattr(self, 'op_' + op, None)
        if fn is None:
            raise NotImplementedError('TF op %s (%s)' % (op, node['name']))
        return fn(node, node['name'])

    # -- ops ----------------------------------------------------------------
    def op_Placeholder(self, node, name):
        if self.inputs:
            raise NotImplementedError('more than one Placeholder')
        shape = _attr(node, 'shape')
        shape = [1] + shape[1:]
        if self.cfg.get('gray_input'):
            assert shape[3] == 1
            self.inputs.append(helper.make_tensor_value_info('input', TensorProto.FLOAT, [1, 3, shape[1], shape[2]]))
            w = (np.array([0.2989, 0.5870, 0.1140], np.float32) * np.float32(2)).reshape(1, 3, 1, 1)
            g = self.node('Conv', ['input', self.init(w, 'gray/weights'), self.init(np.array([-1.0]), 'gray/bias')],
                          'gray', kernel_shape=[1, 1])
            return V(shape, g, True)
        assert len(shape) == 4
        self.inputs.append(helper.make_tensor_value_info('input', TensorProto.FLOAT,
                                                         [1, shape[3], shape[1], shape[2]]))
        return V(shape, name='input', nchw=True)

    def op_Const(self, node, name):
        if name in self.weights:
            return V.of(self.weights[name])
        t = node['attr']['value']['tensor']
        raise NotImplementedError('inline constant %s: %s' % (name, json.dumps(t)[:200]))

    def op_Identity(self, node, name):
        return self.get(self.inputs_of(node)[0])

    op_StopGradient = op_Identity

    def _activation(self, v, act, name, alpha=None, leaky=None):
        if act is None:
            return v
        if act == 'Relu':
            out = self.node('Relu', [v.name], name)
        elif act == 'Relu6':
            out = self.node('Clip', [v.name], name, min=0.0, max=6.0)
        elif act == 'Elu':
            out = self.node('Elu', [v.name], name, alpha=1.0)
        elif act == 'Sigmoid':
            out = self.node('Sigmoid', [v.name], name)
        elif act == 'Tanh':
            out = self.node('Tanh', [v.name], name)
        elif act == 'LeakyRelu':
            out = self.node('LeakyRelu', [v.name], name, alpha=float(leaky))
        elif act == 'Prelu':
            out = self.node('PRelu', [v.name, self.init(self._channel_const(alpha.const, v), name + '/slope')], name)
        else:
            raise NotImplementedError('fused activation ' + act)
        return V(v.shape, out, v.nchw)

    def _channel_const(self, c, v):
        """Constant c (scalar or one value per channel) as [C,1,1] for NCHW v, [C] otherwise."""
        c = np.asarray(c, np.float32).reshape(-1)
        ch = v.shape[-1]
        if c.size == 1:
            c = np.repeat(c, ch)
        if c.size != ch:
            raise NotImplementedError('constant of %d values against %s' % (c.size, v.shape))
        return c.reshape(ch, 1, 1) if v.nchw else c

    def _conv(self, node, name, depthwise):
        ins = self.inputs_of(node)
        x = self.to_nchw(self.get(ins[0]), name)
        w = self.get(ins[1]).const.astype(np.float32)
        args = [self.get(i) for i in ins[2:]]
        assert _attr(node, 'data_format', 'NHWC') == 'NHWC'
        strides = _attr(node, 'strides', [1, 1, 1, 1])[1:3]
        dil = _attr(node, 'dilations', [1, 1, 1, 1])[1:3]
        kh, kw = w.shape[0], w.shape[1]
        n, ih, iw, cin = x.shape
        if depthwise:
            mult = w.shape[3]
            cout = cin * mult
            W = w.reshape(kh, kw, cout).transpose(2, 0, 1)[:, None, :, :]
            group = cin
        else:
            assert w.shape[2] == cin, (name, w.shape, x.shape)
            cout = w.shape[3]
            W = w.transpose(3, 2, 0, 1)
            group = 1
        pad = _attr(node, 'padding')
        if pad == 'SAME':
            pt, pb = _same_pads(ih, kh, strides[0], dil[0])
            pl, pr = _same_pads(iw, kw, strides[1], dil[1])
        elif pad == 'VALID':
            pt = pb = pl = pr = 0
        elif pad == 'EXPLICIT':
            e = _attr(node, 'explicit_paddings')
            pt, pb, pl, pr = e[2], e[3], e[4], e[5]
        else:
            raise NotImplementedError(pad)
        oh = (ih + pt + pb - ((kh - 1) * dil[0] + 1)) // strides[0] + 1
        ow = (iw + pl + pr - ((kw - 1) * dil[1] + 1)) // strides[1] + 1
        bias = None
        act = None
        alpha = None
        fused = _attr(node, 'fused_ops', [])
        k = 0
        for f in fused:
            if f == 'BiasAdd':
                bias = args[k].const.astype(np.float32)
                k += 1
            elif f == 'FusedBatchNorm':
                scale, offset, mean, var = [a.const.astype(np.float32) for a in args[k:k + 4]]
                k += 4
                eps = np.float32(_attr(node, 'epsilon', 0.0))
                mul = scale / np.sqrt(var + eps)
                W = W * mul.reshape(-1, 1, 1, 1)
                bias = (offset - mean * mul) if bias is None else (bias - mean) * mul + offset
            elif f in ('Relu', 'Relu6', 'Elu', 'Sigmoid', 'Tanh', 'LeakyRelu'):
                act = f
            elif f == 'Prelu':
                act = f
                alpha = args[k]
                k += 1
            else:
                raise NotImplementedError('fused op %s in %s' % (f, name))
        inputs = [x.name, self.init(W, name + '/W')]
        if bias is not None:
            inputs.append(self.init(bias, name + '/B'))
        out = self.node('Conv', inputs, name + ('/conv' if act else ''), kernel_shape=[kh, kw],
                        strides=strides, dilations=dil, pads=[pt, pl, pb, pr], group=group)
        y = V([n, oh, ow, cout], out, True)
        return self._activation(y, act, name, alpha, _attr(node, 'leakyrelu_alpha', 0.2))

    def op_Conv2D(self, node, name):
        return self._conv(node, name, False)

    op__FusedConv2D = op_Conv2D

    def op_DepthwiseConv2dNative(self, node, name):
        return self._conv(node, name, True)

    op_FusedDepthwiseConv2dNative = op_DepthwiseConv2dNative

    def _matmul(self, node, name):
        ins = self.inputs_of(node)
        x = self.get(ins[0])
        w = self.get(ins[1])
        if x.const is not None or w.const is None or len(x.shape) != 2:
            raise NotImplementedError('MatMul form in ' + name)
        assert not _attr(node, 'transpose_a', False)
        x = self.to_plain(x, name)
        W = w.const.astype(np.float32)
        if not _attr(node, 'transpose_b', False):
            W = W.T
        m = W.shape[0]
        args = [self.get(i) for i in ins[2:]]
        bias = np.zeros([m], np.float32)
        act = None
        alpha = None
        k = 0
        for f in _attr(node, 'fused_ops', []):
            if f == 'BiasAdd':
                bias = args[k].const.astype(np.float32).reshape(m)
                k += 1
            elif f == 'Prelu':
                act = f
                alpha = args[k]
                k += 1
            else:
                act = f
        out = self.node('Gemm', [x.name, self.init(W, name + '/W'), self.init(bias, name + '/B')],
                        name + ('/gemm' if act else ''), transB=1)
        y = V([x.shape[0], m], out)
        return self._activation(y, act, name, alpha, _attr(node, 'leakyrelu_alpha', 0.2))

    op_MatMul = _matmul
    op__FusedMatMul = _matmul

    def _unary(onnx_op, **attrs):
        def f(self, node, name):
            x = self.get(self.inputs_of(node)[0])
            if x.const is not None:
                raise NotImplementedError('constant %s' % name)
            return V(x.shape, self.node(onnx_op, [x.name], name, **attrs), x.nchw)
        return f

    op_Relu = _unary('Relu')
    op_Relu6 = _unary('Clip', min=0.0, max=6.0)
    op_Sigmoid = _unary('Sigmoid')
    op_Tanh = _unary('Tanh')
    op_Elu = _unary('Elu', alpha=1.0)

    def op_Prelu(self, node, name):
        ins = self.inputs_of(node)
        x = self.get(ins[0])
        if len(x.shape) == 4:
            x = self.to_nchw(x, name)
        return self._activation(x, 'Prelu', name, self.get(ins[1]))

    def op_Softmax(self, node, name):
        x = self.get(self.inputs_of(node)[0])
        if len(x.shape) != 2:
            raise NotImplementedError('Softmax on %s' % x.shape)
        return V(x.shape, self.node('Softmax', [x.name], name, axis=1))

    _NP = {'Add': np.add, 'AddV2': np.add, 'BiasAdd': np.add, 'Sub': np.subtract, 'Mul': np.multiply,
           'RealDiv': np.divide, 'Maximum': np.maximum, 'Minimum': np.minimum}

    def _binary(self, node, name):
        op = node['op']
        ins = self.inputs_of(node)
        a, b = self.get(ins[0]), self.get(ins[1])
        if a.const is not None and b.const is not None:
            r = self._NP[op](a.const, b.const)
            return V.of(r.astype(a.const.dtype))
        if a.const is not None:
            if op in ('Add', 'AddV2', 'Mul', 'Maximum', 'Minimum'):
                a, b = b, a
            elif op == 'Sub':  # c - x = (-x) + c
                neg = V(b.shape, self.node('Mul', [b.name, self.init(np.array([-1.0]), name + '/minus1')],
                                           name + '/neg'), b.nchw)
                return self._const_op('Add', neg, a.const, name)
            else:
                raise NotImplementedError('%s with a constant first operand (%s)' % (op, name))
        if b.const is not None:
            return self._const_op(op, a, b.const, name)
        # runtime op runtime
        if len(a.shape) == 4 or len(b.shape) == 4:
            a, b = self.to_nchw(a, name + '/a'), self.to_nchw(b, name + '/b')
        elif a.nchw or b.nchw:
            raise NotImplementedError(name)
        shape = list(np.broadcast_shapes(tuple(a.shape), tuple(b.shape)))
        onnx_op = {'Add': 'Add', 'AddV2': 'Add', 'BiasAdd': 'Add', 'Sub': 'Sub', 'Mul': 'Mul',
                   'RealDiv': 'Div', 'Maximum': 'Max', 'Minimum': 'Min'}[op]
        return V(shape, self.node(onnx_op, [a.name, b.name], name), a.nchw)

    def _const_op(self, op, x, c, name):
        c = np.asarray(c, np.float32)
        shape = list(np.broadcast_shapes(tuple(x.shape), c.shape))
        if shape != x.shape:
            raise NotImplementedError('%s: constant %s broadcasts %s' % (name, c.shape, x.shape))
        if op in ('Maximum', 'Minimum'):
            if c.size != 1:
                raise NotImplementedError('%s against a non-scalar constant (%s)' % (op, name))
            key = 'min' if op == 'Maximum' else 'max'
            return V(x.shape, self.node('Clip', [x.name], name, **{key: float(c.reshape(-1)[0])}), x.nchw)
        if op == 'Sub':
            op, c = 'Add', -c
        elif op == 'RealDiv':
            op, c = 'Mul', (np.float32(1) / c).astype(np.float32)
        onnx_op = 'Mul' if op == 'Mul' else 'Add'
        if c.size == 1:
            cc = c.reshape(1)
        else:
            cc = self._channel_const(c, x) if (len(x.shape) in (2, 4) and c.size == x.shape[-1]
                                               and c.shape[-1] == x.shape[-1]) else None
            if cc is None:
                raise NotImplementedError('%s: constant %s on %s' % (name, c.shape, x.shape))
            if len(x.shape) == 4:
                if not x.nchw:
                    x = self.to_nchw(x, name)
                cc = cc.reshape(1, -1, 1, 1)
        return V(x.shape, self.node(onnx_op, [x.name, self.init(cc, name + '/c')], name), x.nchw)

    op_Add = op_AddV2 = op_BiasAdd = op_Sub = op_Mul = op_RealDiv = op_Maximum = op_Minimum = _binary

    def _pool(self, node, name, onnx_op):
        x = self.to_nchw(self.get(self.inputs_of(node)[0]), name)
        k = _attr(node, 'ksize')[1:3]
        s = _attr(node, 'strides')[1:3]
        n, ih, iw, c = x.shape
        if _attr(node, 'padding') == 'SAME':
            pt, pb = _same_pads(ih, k[0], s[0], 1)
            pl, pr = _same_pads(iw, k[1], s[1], 1)
        else:
            pt = pb = pl = pr = 0
        oh = (ih + pt + pb - k[0]) // s[0] + 1
        ow = (iw + pl + pr - k[1]) // s[1] + 1
        attrs = dict(kernel_shape=k, strides=s, pads=[pt, pl, pb, pr])
        if onnx_op == 'AveragePool':
            attrs['count_include_pad'] = 0
        return V([n, oh, ow, c], self.node(onnx_op, [x.name], name, **attrs), True)

    def op_MaxPool(self, node, name):
        return self._pool(node, name, 'MaxPool')

    def op_AvgPool(self, node, name):
        return self._pool(node, name, 'AveragePool')

    def op_Mean(self, node, name):
        ins = self.inputs_of(node)
        x = self.get(ins[0])
        axes = sorted(int(a) % len(x.shape) for a in np.asarray(self.get(ins[1]).const).reshape(-1))
        keep = _attr(node, 'keep_dims', False)
        if len(x.shape) != 4 or axes != [1, 2]:
            raise NotImplementedError('Mean over %s of %s' % (axes, x.shape))
        x = self.to_nchw(x, name)
        n, h, w, c = x.shape
        g = self.node('GlobalAveragePool', [x.name], name + ('' if keep else '/gap'))
        if keep:
            return V([n, 1, 1, c], g, True)
        return V([n, c], self.node('Reshape', [g, self.init(np.array([n, c]), name + '/shape', np.int64)], name))

    def op_Pad(self, node, name):
        ins = self.inputs_of(node)
        x = self.get(ins[0])
        p = np.asarray(self.get(ins[1]).const).astype(np.int64)
        if len(ins) > 2 and float(self.get(ins[2]).const) != 0:
            raise NotImplementedError('Pad value')
        shape = [d + int(p[i, 0]) + int(p[i, 1]) for i, d in enumerate(x.shape)]
        if len(x.shape) == 4:
            x = self.to_nchw(x, name)
            p = p[[0, 3, 1, 2]]
        pads = np.concatenate([p[:, 0], p[:, 1]])
        if self.opset < 11:
            out = self.node('Pad', [x.name], name, mode='constant', pads=[int(v) for v in pads])
        else:
            out = self.node('Pad', [x.name, self.init(pads, name + '/pads', np.int64)], name, mode='constant')
        return V(shape, out, x.nchw)

    def _reshape_to(self, x, shape, name):
        if x.const is not None:
            return V.of(x.const.reshape(shape))
        if list(shape) == x.shape:
            return x
        x = self.to_plain(x, name)
        return V(shape, self.node('Reshape', [x.name, self.init(np.array(shape), name + '/shape', np.int64)], name))

    def op_Reshape(self, node, name):
        ins = self.inputs_of(node)
        x = self.get(ins[0])
        shape = [int(s) for s in np.asarray(self.get(ins[1]).const).reshape(-1)]
        shape = [1 if (i == 0 and s == -1 and x.shape[0] == 1 and -1 in shape[1:]) else s
                 for i, s in enumerate(shape)]
        total = int(np.prod(x.shape))
        if -1 in shape:
            known = int(np.prod([s for s in shape if s != -1]))
            shape[shape.index(-1)] = total // known
        assert int(np.prod(shape)) == total, (name, shape, x.shape)
        return self._reshape_to(x, shape, name)

    def op_Squeeze(self, node, name):
        x = self.get(self.inputs_of(node)[0])
        dims = [d % len(x.shape) for d in _attr(node, 'squeeze_dims', [])]
        shape = [s for i, s in enumerate(x.shape) if not ((i in dims) if dims else s == 1)]
        return self._reshape_to(x, shape, name)

    def op_ExpandDims(self, node, name):
        ins = self.inputs_of(node)
        x = self.get(ins[0])
        d = int(np.asarray(self.get(ins[1]).const).reshape(-1)[0])
        shape = list(x.shape)
        d = d % (len(shape) + 1)
        shape.insert(d, 1)
        return self._reshape_to(x, shape, name)

    def op_ConcatV2(self, node, name):
        ins = self.inputs_of(node)
        vals = [self.get(i) for i in ins[:-1]]
        rank = len(vals[0].shape)
        axis = int(np.asarray(self.get(ins[-1]).const).reshape(-1)[0]) % rank
        if all(v.const is not None for v in vals):
            return V.of(np.concatenate([v.const for v in vals], axis))
        shape = list(vals[0].shape)
        shape[axis] = sum(v.shape[axis] for v in vals)
        if rank == 4:
            vals = [self.to_nchw(v, '%s/in%d' % (name, i)) for i, v in enumerate(vals)]
            oaxis = [0, 2, 3, 1][axis]
            nchw = True
        else:
            vals = [self.runtime(v, '%s/in%d' % (name, i)) for i, v in enumerate(vals)]
            oaxis = axis
            nchw = False
        return V(shape, self.node('Concat', [v.name for v in vals], name, axis=oaxis), nchw)

    def op_ResizeBilinear(self, node, name):
        ins = self.inputs_of(node)
        if self.opset < 11:
            raise ValueError('ResizeBilinear needs opset 11: set it in MODELS')
        x = self.to_nchw(self.get(ins[0]), name)
        oh, ow = [int(s) for s in np.asarray(self.get(ins[1]).const).reshape(-1)]
        n, ih, iw, c = x.shape
        if _attr(node, 'align_corners', False):
            mode = 'align_corners'
        elif _attr(node, 'half_pixel_centers', False):
            mode = 'half_pixel'
        else:
            mode = 'asymmetric'
        scales = np.array([1, 1, oh / ih, ow / iw], np.float32)
        out = self.node('Resize', [x.name, self.init(np.zeros([0]), name + '/roi'), self.init(scales, name + '/scales')],
                        name, mode='linear', coordinate_transformation_mode=mode)
        return V([n, oh, ow, c], out, True)

    # -- peephole folds -----------------------------------------------------
    def optimize(self, keep):
        """Folds what OpenCV would otherwise run as extra layers: a per-channel (or scalar)
        constant Mul/Add right after a Conv goes into its weights/bias, and a chain of
        Relu/Clip becomes one Clip. Tensors in keep (graph outputs) are never folded away."""
        inits = {t.name: i for i, t in enumerate(self.inits)}

        def arr(name):
            return numpy_helper.to_array(self.inits[inits[name]])

        def put(name, a):
            a = np.ascontiguousarray(a, np.float32)
            if name in inits:
                self.inits[inits[name]] = numpy_helper.from_array(a, name)
            else:
                inits[name] = len(self.inits)
                self.inits.append(numpy_helper.from_array(a, name))

        def bounds(n):
            if n.op_type == 'Relu':
                return 0.0, float('inf')
            a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
            return float(a.get('min', -float('inf'))), float(a.get('max', float('inf')))

        while True:
            consumers = {}
            for n in self.onnx_nodes:
                for i in n.input:
                    consumers[i] = consumers.get(i, 0) + 1
            producer = {n.output[0]: n for n in self.onnx_nodes}
            done = True
            for n in self.onnx_nodes:
                src = producer.get(n.input[0]) if n.input else None
                if src is None or n.input[0] in keep or consumers.get(n.input[0]) != 1:
                    continue
                if (n.op_type in ('Add', 'Mul') and src.op_type == 'Conv' and len(n.input) == 2
                        and n.input[1] in inits):
                    W = arr(src.input[1])
                    cout = W.shape[0]
                    c = arr(n.input[1]).reshape(-1)
                    if c.size not in (1, cout):
                        continue
                    c = np.broadcast_to(c, (cout,)).astype(np.float32)
                    B = arr(src.input[2]) if len(src.input) > 2 else np.zeros([cout], np.float32)
                    if n.op_type == 'Add':
                        B = B + c
                    else:
                        put(src.input[1], W * c.reshape(-1, 1, 1, 1))
                        B = B * c
                    if len(src.input) > 2:
                        put(src.input[2], B)
                    else:
                        bname = self._uniq(src.name + '/B')
                        put(bname, B)
                        src.input.append(bname)
                    merged = src
                elif n.op_type in ('Relu', 'Clip') and src.op_type in ('Relu', 'Clip'):
                    (lo1, hi1), (lo2, hi2) = bounds(src), bounds(n)
                    lo, hi = max(lo1, lo2), min(hi1, hi2)
                    if lo > hi:
                        continue
                    attrs = {}
                    if lo != -float('inf'):
                        attrs['min'] = lo
                    if hi != float('inf'):
                        attrs['max'] = hi
                    merged = helper.make_node('Clip', list(src.input), [n.output[0]], name=n.output[0], **attrs)
                    self.onnx_nodes[self.onnx_nodes.index(src)] = merged
                else:
                    continue
                merged.output[0] = n.output[0]
                merged.name = n.output[0]
                self.onnx_nodes.remove(n)
                done = False
                break
            if done:
                break
        used = {i for n in self.onnx_nodes for i in n.input}
        self.inits = [t for t in self.inits if t.name in used]

    # -- driver -------------------------------------------------------------
    def build(self, model_name, source_desc):
        outs = []
        for tf_name, onnx_name in self.cfg['outputs']:
            v = self.get(tf_name)
            if v.const is not None:
                raise ValueError('output %s is constant' % tf_name)
            if len(v.shape) == 4 and v.nchw:
                t = self.node('Transpose', [v.name], onnx_name + '/nhwc', perm=[0, 2, 3, 1])
                v = V(v.shape, t)
            outs.append((v, onnx_name))
        self.optimize({v.name for v, _ in outs})
        # rename each output's producing tensor to the requested output name
        rename = {}
        for v, onnx_name in outs:
            if v.name in rename or v.name == 'input':
                raise ValueError('output %s needs an Identity' % onnx_name)
            if onnx_name in self.used_names and onnx_name != v.name:
                raise ValueError('output name %s already used' % onnx_name)
            rename[v.name] = onnx_name
        for n in self.onnx_nodes:
            for lst in (n.input, n.output):
                for i, s in enumerate(lst):
                    if s in rename:
                        lst[i] = rename[s]
            if n.output[0] in rename.values():
                n.name = n.output[0]
        outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, v.shape) for v, name in outs]
        graph = helper.make_graph(self.onnx_nodes, model_name, self.inputs, outputs, self.inits)
        m = helper.make_model(graph, producer_name='argus tools/convert/tfjs_graph.py', producer_version='1',
                              opset_imports=[helper.make_opsetid('', self.opset)])
        m.ir_version = 5 if self.opset == 10 else 6
        m.doc_string = source_desc
        return m


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--name', required=True)
    ap.add_argument('--package-root', required=True)
    ap.add_argument('--source', required=True)
    ap.add_argument('--out', required=True)
    args = ap.parse_args(argv)
    if args.name not in MODELS:
        sys.exit('unknown model %s (known: %s)' % (args.name, ', '.join(sorted(MODELS))))
    model, data = load_model(args.source)
    weights = decode_weights(model, data)
    conv = Converter(model, weights, MODELS[args.name])
    rel = os.path.relpath(os.path.abspath(args.source), os.path.abspath(args.package_root))
    pkg = ''
    try:
        with open(os.path.join(args.package_root, 'package.json'), encoding='utf-8') as f:
            pj = json.load(f)
        pkg = '%s@%s ' % (pj['name'], pj['version'])
    except (OSError, ValueError, KeyError):
        pass
    m = conv.build(args.name, 'converted from %s%s by tools/convert/tfjs_graph.py' % (pkg, rel))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(m.SerializeToString())
    os.replace(tmp, args.out)


if __name__ == '__main__':
    main()
