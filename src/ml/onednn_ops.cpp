// The operators of ml::OnednnGraph other than the convolutions: one
// function each, building oneDNN primitives (or plain C++ steps) into a
// plan. BuildOp dispatches on the ONNX operator type.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "ml/onednn_internal.h"

namespace argus::ml::onednn {
namespace {

dnnl::algorithm Alg(const std::string& s) {
  if (s == "Add") return dnnl::algorithm::binary_add;
  if (s == "Sub") return dnnl::algorithm::binary_sub;
  if (s == "Mul") return dnnl::algorithm::binary_mul;
  return dnnl::algorithm::binary_div;
}

std::vector<int64_t> IntsInput(const OnednnGraph::Impl& g, const Op& op, size_t k,
                               const std::string& attr) {
  if (k < op.in.size() && !op.in[k].empty()) {
    const Const* c = g.FindConst(op.in[k]);
    if (!c) throw Unsupported(op.type + " with computed " + attr);
    return c->i;
  }
  return AttrInts(op.node, attr);
}

Dims Broadcast(Dims a, Dims b) {
  while (a.size() < b.size()) a.insert(a.begin(), 1);
  while (b.size() < a.size()) b.insert(b.begin(), 1);
  Dims o(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i] && a[i] != 1 && b[i] != 1)
      throw Unsupported("shapes " + DimsStr(a) + " and " + DimsStr(b) + " do not broadcast");
    o[i] = std::max(a[i], b[i]);
  }
  return o;
}

void ResizePlain(const float* src, float* dst, bool nhwc, const Dims& in, const Dims& out, float sh,
                 float sw, bool linear, const std::string& ct) {
  const int64_t NC = in[0] * in[1], H = in[2], W = in[3], OH = out[2], OW = out[3];
  auto coord = [&](int64_t o, float scale, int64_t isz, int64_t osz) -> float {
    if (ct == "half_pixel") return (float(o) + 0.5f) / scale - 0.5f;
    if (ct == "align_corners") return osz > 1 ? float(o) * float(isz - 1) / float(osz - 1) : 0.f;
    return float(o) / scale;  // asymmetric
  };
  const size_t oh = static_cast<size_t>(OH), ow = static_cast<size_t>(OW);
  std::vector<int64_t> y0(oh), y1(oh), x0(ow), x1(ow);
  std::vector<float> fy(oh), fx(ow);
  auto axis = [&](int64_t osz, int64_t isz, float scale, std::vector<int64_t>& i0,
                  std::vector<int64_t>& i1, std::vector<float>& f) {
    for (int64_t o = 0; o < osz; ++o) {
      float c = coord(o, scale, isz, osz);
      if (!linear) {
        i0[size_t(o)] = i1[size_t(o)] = std::clamp<int64_t>(int64_t(std::floor(c)), 0, isz - 1);
        f[size_t(o)] = 0;
        continue;
      }
      c = std::clamp(c, 0.f, float(isz - 1));
      int64_t lo = int64_t(std::floor(c));
      i0[size_t(o)] = lo;
      i1[size_t(o)] = std::min(lo + 1, isz - 1);
      f[size_t(o)] = c - float(lo);
    }
  };
  axis(OH, H, sh, y0, y1, fy);
  axis(OW, W, sw, x0, x1, fx);
  if (nhwc) {
    // N x H x W x C: interpolate whole pixels of C channels.
    const int64_t N = in[0], C = in[1];
#pragma omp parallel for collapse(2)
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t y = 0; y < OH; ++y) {
        const float* r0 = src + (n * H + y0[size_t(y)]) * W * C;
        const float* r1 = src + (n * H + y1[size_t(y)]) * W * C;
        const float a = fy[size_t(y)];
        float* d = dst + (n * OH + y) * OW * C;
        for (int64_t x = 0; x < OW; ++x, d += C) {
          const float* p00 = r0 + x0[size_t(x)] * C;
          const float* p01 = r0 + x1[size_t(x)] * C;
          const float* p10 = r1 + x0[size_t(x)] * C;
          const float* p11 = r1 + x1[size_t(x)] * C;
          const float bx = fx[size_t(x)];
          if (!linear) {
            std::memcpy(d, p00, size_t(C) * sizeof(float));
            continue;
          }
          for (int64_t c = 0; c < C; ++c) {
            const float top = p00[c] + (p01[c] - p00[c]) * bx;
            const float bot = p10[c] + (p11[c] - p10[c]) * bx;
            d[c] = top + (bot - top) * a;
          }
        }
      }
    }
    return;
  }
#pragma omp parallel for
  for (int64_t p = 0; p < NC; ++p) {
    const float* s = src + p * H * W;
    float* d = dst + p * OH * OW;
    for (int64_t y = 0; y < OH; ++y) {
      const float* r0 = s + y0[size_t(y)] * W;
      const float* r1 = s + y1[size_t(y)] * W;
      const float a = fy[size_t(y)];
      for (int64_t x = 0; x < OW; ++x) {
        const float b = fx[size_t(x)];
        const float top = r0[x0[size_t(x)]] + (r0[x1[size_t(x)]] - r0[x0[size_t(x)]]) * b;
        const float bot = r1[x0[size_t(x)]] + (r1[x1[size_t(x)]] - r1[x0[size_t(x)]]) * b;
        d[y * OW + x] = top + (bot - top) * a;
      }
    }
  }
}

// An activation outside a convolution: its eltwise chain.
void BuildEltwise(Builder& b, const Op& op, const std::vector<Elt>& act) {
  int v = b.Get(op.in[0]);
  for (const auto& e : act) {
    const memory::desc md = b.Md(v);
    dnnl::eltwise_forward::primitive_desc p(
        {dnnl::prop_kind::forward_inference, e.alg, md, e.alpha, e.beta}, Engine());
    const int o = b.NewVal(md);
    b.Prim(dnnl::eltwise_forward(p), {{DNNL_ARG_SRC, v}, {DNNL_ARG_DST, o}});
    v = o;
  }
  b.Set(op.out[0], v);
}

void BuildArithmetic(Builder& b, const Op& op) {
  const OnednnGraph::Impl& g = b.g_;
  const std::string& t = op.type;
  using A = dnnl::algorithm;
  int x = b.Get(op.in[0]), y = b.Get(op.in[1]);
  const Const* cx = g.FindConst(op.in[0]);
  const Const* cy = g.FindConst(op.in[1]);
  const Dims od = Broadcast(b.D(x), b.D(y));
  // Tensor op scalar constant: one linear eltwise.
  if ((cy && Numel(cy->dims) == 1 && b.D(x) == od) ||
      (cx && Numel(cx->dims) == 1 && b.D(y) == od && t != "Div")) {
    const bool right = cy && Numel(cy->dims) == 1 && b.D(x) == od;
    const float c = right ? cy->f[0] : cx->f[0];
    const int v = right ? x : y;
    float alpha = 1, beta = 0;
    if (t == "Add") beta = c;
    if (t == "Sub") alpha = right ? 1 : -1, beta = right ? -c : c;
    if (t == "Mul") alpha = c;
    if (t == "Div") alpha = 1 / c;
    const memory::desc md = b.Md(v);
    dnnl::eltwise_forward::primitive_desc p(
        {dnnl::prop_kind::forward_inference, A::eltwise_linear, md, alpha, beta}, Engine());
    const int o = b.NewVal(md);
    b.Prim(dnnl::eltwise_forward(p), {{DNNL_ARG_SRC, v}, {DNNL_ARG_DST, o}});
    b.Set(op.out[0], o);
    return;
  }
  auto align = [&](int v) {
    Dims d = b.D(v);
    if (d.size() == od.size()) return v;
    d.insert(d.begin(), od.size() - d.size(), 1);
    return b.Reshaped(v, d);
  };
  x = align(b.Get(op.in[0]));
  y = align(y);
  if (b.D(x) != od) {
    if (t == "Sub" || t == "Div") throw Unsupported(t + " broadcasting its first input");
    std::swap(x, y);
  }
  if (b.D(x) != od) throw Unsupported(t + " broadcasting both inputs");
  y = b.D(y) == od ? b.As(y, b.Md(x)) : b.Plain(y);
  dnnl::binary::primitive_desc p({Alg(t), b.Md(x), b.Md(y), b.Md(x)}, Engine());
  const int o = b.NewVal(b.Md(x));
  b.Prim(dnnl::binary(p), {{DNNL_ARG_SRC_0, x}, {DNNL_ARG_SRC_1, y}, {DNNL_ARG_DST, o}});
  b.Set(op.out[0], o);
}

void BuildPRelu(Builder& b, const Op& op) {
  const OnednnGraph::Impl& g = b.g_;
  const int x = b.Get(op.in[0]);
  const Const* s = g.FindConst(op.in[1]);
  if (!s) throw Unsupported("PRelu with a computed slope");
  Dims sdims = s->dims;
  while (sdims.size() < b.D(x).size()) sdims.insert(sdims.begin(), 1);
  const memory::desc wmd = PlainMd(sdims);
  dnnl::prelu_forward::primitive_desc p({dnnl::prop_kind::forward_inference, b.Md(x), wmd},
                                        Engine());
  const int o = b.NewVal(b.Md(x));
  b.Prim(dnnl::prelu_forward(p), {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, o}},
         {{DNNL_ARG_WEIGHTS, memory(wmd, Engine(), const_cast<float*>(s->f.data()))}});
  b.Set(op.out[0], o);
}

void BuildPool(Builder& b, const Op& op) {
  const auto& n = op.node;
  const std::string& t = op.type;
  using A = dnnl::algorithm;
  const int x = b.Get(op.in[0]);
  const Dims sd = b.D(x);
  if (sd.size() != 4) throw Unsupported(t + " on a non-4-D input");
  const bool global = t == "GlobalAveragePool";
  auto ks = global ? std::vector<int64_t>{sd[2], sd[3]} : AttrInts(n, "kernel_shape");
  auto st = global ? std::vector<int64_t>{1, 1} : AttrInts(n, "strides", {1, 1});
  auto pd = global ? std::vector<int64_t>{0, 0, 0, 0} : AttrInts(n, "pads", {0, 0, 0, 0});
  if (ks.size() != 2 || AttrInts(n, "dilations", {1, 1}) != std::vector<int64_t>{1, 1})
    throw Unsupported(t + " kernel");
  const bool ceil = AttrInt(n, "ceil_mode", 0) != 0;
  Dims od{sd[0], sd[1], 0, 0}, pr{pd[2], pd[3]};
  for (size_t i = 0; i < 2; ++i) {
    const int64_t span = sd[2 + i] + pd[i] + pd[2 + i] - ks[i];
    od[2 + i] = (ceil ? (span + st[i] - 1) / st[i] : span / st[i]) + 1;
    // ceil_mode: the last window may start in the right padding.
    if (ceil) pr[i] = std::max(pd[2 + i], (od[2 + i] - 1) * st[i] + ks[i] - sd[2 + i] - pd[i]);
  }
  const A alg = t == "MaxPool"                       ? A::pooling_max
                : AttrInt(n, "count_include_pad", 0) ? A::pooling_avg_include_padding
                                                     : A::pooling_avg_exclude_padding;
  dnnl::pooling_forward::primitive_desc p(
      {dnnl::prop_kind::forward_inference, alg, b.Md(x), memory::desc(od, kF32, Tag::any),
       Dims(st.begin(), st.end()), Dims(ks.begin(), ks.end()), Dims{pd[0], pd[1]}, pr},
      Engine());
  const int o = b.NewVal(p.dst_desc());
  b.Prim(dnnl::pooling_forward(p), {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, o}});
  b.Set(op.out[0], o);
}

void BuildMatMul(Builder& b, const Op& op) {
  const auto& n = op.node;
  const std::string& t = op.type;
  int a = b.Plain(b.Get(op.in[0]));
  int w = b.Get(op.in[1]);
  Dims ad = b.D(a);
  memory::desc wmd;
  int bias = -1;
  if (t == "Gemm") {
    if (ad.size() != 2) a = b.Reshaped(a, {ad[0], Numel(ad) / ad[0]}), ad = b.D(a);
    const Dims wd = b.D(w);
    const bool tb = AttrInt(n, "transB", 0) != 0;
    const int64_t K = ad[1], N = tb ? wd[0] : wd[1];
    if ((tb ? wd[1] : wd[0]) != K) throw Unsupported("Gemm shapes");
    wmd = tb ? memory::desc({K, N}, kF32, Tag::ba) : memory::desc({K, N}, kF32, Tag::ab);
    w = b.View(b.Plain(w), wmd);
    if (op.in.size() > 2 && !op.in[2].empty()) {
      bias = b.Get(op.in[2]);
      if (Numel(b.D(bias)) != N) throw Unsupported("Gemm bias shape");
      bias = b.Reshaped(bias, {1, N});
    }
  } else {
    w = b.Plain(w);
    Dims wd = b.D(w);
    if (ad.size() < 2 || wd.size() < 2) throw Unsupported("MatMul of vectors");
    while (wd.size() < ad.size()) wd.insert(wd.begin(), 1);
    while (ad.size() < wd.size()) ad.insert(ad.begin(), 1);
    a = b.Reshaped(a, ad);
    w = b.Reshaped(w, wd);
  }
  Dims da = b.D(a), dw = b.D(w), od = da;
  for (size_t i = 0; i + 2 < od.size(); ++i) od[i] = std::max(da[i], dw[i]);
  od[od.size() - 1] = dw.back();
  const memory::desc omd = PlainMd(od);
  b.p_.flops += 2.0 * double(Numel(od)) * double(da.back());
  dnnl::matmul::primitive_desc p(bias >= 0 ? dnnl::matmul::desc(b.Md(a), b.Md(w), b.Md(bias), omd)
                                           : dnnl::matmul::desc(b.Md(a), b.Md(w), omd),
                                 Engine());
  const int o = b.NewVal(omd);
  std::vector<std::pair<int, int>> args{
      {DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, o}};
  if (bias >= 0) args.push_back({DNNL_ARG_BIAS, bias});
  b.Prim(dnnl::matmul(p), args);
  b.Set(op.out[0], o);
}

void BuildSoftmax(Builder& b, const Op& op) {
  const auto& n = op.node;
  const int x = b.Plain(b.Get(op.in[0]));
  int axis = int(AttrInt(n, "axis", 1));
  const int r = int(b.D(x).size());
  if (axis < 0) axis += r;
  // Before opset 13 Softmax flattens from `axis`; same as the last axis
  // only when `axis` is the last non-unit one.
  for (int i = axis + 1; i < r; ++i)
    if (b.D(x)[size_t(i)] != 1) throw Unsupported("Softmax over several axes");
  dnnl::softmax_forward::primitive_desc p({dnnl::prop_kind::forward_inference, b.Md(x), axis},
                                          Engine());
  const int o = b.NewVal(b.Md(x));
  b.Prim(dnnl::softmax_forward(p), {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, o}});
  b.Set(op.out[0], o);
}

void BuildReduceMean(Builder& b, const Op& op) {
  const auto& n = op.node;
  using A = dnnl::algorithm;
  const int x = b.Plain(b.Get(op.in[0]));
  Dims d = b.D(x), od = d;
  auto axes = AttrInts(n, "axes");
  if (axes.empty())
    for (size_t i = 0; i < d.size(); ++i) axes.push_back(int64_t(i));
  for (auto ax : axes) od[size_t(ax < 0 ? ax + int64_t(d.size()) : ax)] = 1;
  dnnl::reduction::primitive_desc p({A::reduction_mean, b.Md(x), PlainMd(od), 0.f, 0.f}, Engine());
  int o = b.NewVal(PlainMd(od));
  b.Prim(dnnl::reduction(p), {{DNNL_ARG_SRC, x}, {DNNL_ARG_DST, o}});
  if (!AttrInt(n, "keepdims", 1)) {
    Dims kd;
    for (size_t i = 0; i < d.size(); ++i)
      if (std::find_if(axes.begin(), axes.end(), [&](int64_t ax) {
            return size_t(ax < 0 ? ax + int64_t(d.size()) : ax) == i;
          }) == axes.end())
        kd.push_back(od[i]);
    o = b.Reshaped(o, kd.empty() ? Dims{1} : kd);
  }
  b.Set(op.out[0], o);
}

void BuildReshape(Builder& b, const Op& op) {
  const OnednnGraph::Impl& g = b.g_;
  const auto& n = op.node;
  const std::string& t = op.type;
  const int x = b.Get(op.in[0]);
  const Dims d = b.D(x);
  Dims od;
  if (t == "Reshape") {
    const Const* s = g.FindConst(op.in.at(1));
    if (!s) throw Unsupported("Reshape to a computed shape");
    int64_t known = 1, infer = -1;
    for (size_t i = 0; i < s->i.size(); ++i) {
      int64_t v = s->i[i] == 0 ? d.at(i) : s->i[i];
      if (v == -1)
        infer = int64_t(i);
      else
        known *= v;
      od.push_back(v);
    }
    if (infer >= 0) od[size_t(infer)] = Numel(d) / known;
  } else if (t == "Flatten") {
    int64_t axis = AttrInt(n, "axis", 1);
    if (axis < 0) axis += int64_t(d.size());
    od = {Numel(Dims(d.begin(), d.begin() + axis)), Numel(Dims(d.begin() + axis, d.end()))};
  } else if (t == "Squeeze") {
    auto axes = IntsInput(g, op, 1, "axes");
    for (size_t i = 0; i < d.size(); ++i) {
      bool drop = axes.empty() ? d[i] == 1 : std::any_of(axes.begin(), axes.end(), [&](int64_t ax) {
        return size_t(ax < 0 ? ax + int64_t(d.size()) : ax) == i;
      });
      if (!drop) od.push_back(d[i]);
    }
  } else if (t == "Unsqueeze") {
    auto axes = IntsInput(g, op, 1, "axes");
    const size_t r = d.size() + axes.size();
    for (auto& ax : axes)
      if (ax < 0) ax += int64_t(r);
    for (size_t i = 0, j = 0; i < r; ++i)
      od.push_back(std::count(axes.begin(), axes.end(), int64_t(i)) ? 1 : d[j++]);
  } else {
    od = d;
  }
  if (Numel(od) != Numel(d)) throw Unsupported(t + " changes the element count");
  b.Set(op.out[0], od == d ? x : b.Reshaped(x, od.empty() ? Dims{1} : od));
}

void BuildTranspose(Builder& b, const Op& op) {
  const auto& n = op.node;
  const int x = b.Plain(b.Get(op.in[0]));
  const Dims d = b.D(x);
  auto perm = AttrInts(n, "perm");
  if (perm.empty())
    for (size_t i = 0; i < d.size(); ++i) perm.insert(perm.begin(), int64_t(i));
  std::vector<int> p(d.size());
  Dims od(d.size());
  for (size_t i = 0; i < d.size(); ++i) p[size_t(perm[i])] = int(i), od[i] = d[size_t(perm[i])];
  const int view = b.View(x, b.Md(x).permute_axes(p));
  b.Set(op.out[0], b.As(view, PlainMd(od)));
}

void BuildSlice(Builder& b, const Op& op) {
  const OnednnGraph::Impl& g = b.g_;
  const int x = b.Plain(b.Get(op.in[0]));
  const Dims d = b.D(x);
  auto starts = IntsInput(g, op, 1, "starts"), ends = IntsInput(g, op, 2, "ends");
  auto axes = IntsInput(g, op, 3, "axes"), steps = IntsInput(g, op, 4, "steps");
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(int64_t(i));
  Dims od = d, off(d.size(), 0);
  for (size_t i = 0; i < starts.size(); ++i) {
    if (!steps.empty() && steps[i] != 1) throw Unsupported("Slice with steps");
    const size_t ax = size_t(axes[i] < 0 ? axes[i] + int64_t(d.size()) : axes[i]);
    auto clampi = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + d[ax] : v, 0, d[ax]); };
    const int64_t s = clampi(starts[i]), e = clampi(ends[i]);
    off[ax] = s;
    od[ax] = std::max<int64_t>(0, e - s);
  }
  if (Numel(od) == 0) throw Unsupported("an empty Slice");
  const int view = b.View(x, b.Md(x).submemory_desc(od, off));
  b.Set(op.out[0], b.As(view, PlainMd(od)));
}

void BuildPad(Builder& b, const Op& op) {
  const OnednnGraph::Impl& g = b.g_;
  const auto& n = op.node;
  const int x = b.Plain(b.Get(op.in[0]));
  const Dims d = b.D(x);
  auto pads = IntsInput(g, op, 1, "pads");
  float value = AttrFloat(n, "value", 0.f);
  if (op.in.size() > 2 && !op.in[2].empty()) {
    const Const* c = g.FindConst(op.in[2]);
    if (!c) throw Unsupported("Pad with a computed value");
    value = c->f.at(0);
  }
  if (pads.size() != 2 * d.size()) throw Unsupported("Pad pads");
  Dims od = d, off(d.size());
  for (size_t i = 0; i < d.size(); ++i) {
    if (pads[i] < 0 || pads[i + d.size()] < 0) throw Unsupported("negative Pad");
    off[i] = pads[i];
    od[i] += pads[i] + pads[i + d.size()];
  }
  const int o = b.NewVal(PlainMd(od));
  const int inner = b.View(o, PlainMd(od).submemory_desc(d, off));
  dnnl::reorder r(dnnl::reorder::primitive_desc(Engine(), b.Md(x), Engine(), b.Md(inner)));
  b.Step(
      [o, x, inner, r, value](Plan& p) {
        float* dst = static_cast<float*>(p.M(o).get_data_handle());
        std::fill(dst, dst + p.vals[size_t(o)].md.get_size() / sizeof(float), value);
        r.execute(p.strm, p.M(x), p.M(inner));
      },
      {x, o, inner});
  b.Set(op.out[0], o);
}

void BuildConcat(Builder& b, const Op& op) {
  const auto& n = op.node;
  std::vector<int> xs;
  std::vector<memory::desc> mds;
  int axis = int(AttrInt(n, "axis", 0));
  for (const auto& i : op.in) {
    xs.push_back(b.Get(i));
    mds.push_back(b.Md(xs.back()));
  }
  if (axis < 0) axis += int(mds[0].dims().size());
  // Blocked inputs stay blocked along channels; anything else is plain.
  bool same =
      std::all_of(mds.begin(), mds.end(), [&](const memory::desc& m) { return !IsPlain(m); }) &&
      axis == 1;
  if (!same)
    for (size_t i = 0; i < xs.size(); ++i) xs[i] = b.Plain(xs[i]), mds[i] = b.Md(xs[i]);
  dnnl::concat::primitive_desc p(axis, mds, Engine());
  const int o = b.NewVal(p.dst_desc());
  std::vector<std::pair<int, int>> args{{DNNL_ARG_DST, o}};
  for (size_t i = 0; i < xs.size(); ++i) args.push_back({DNNL_ARG_MULTIPLE_SRC + int(i), xs[i]});
  b.Prim(dnnl::concat(p), args);
  b.Set(op.out[0], o);
}

void BuildResize(Builder& b, const Op& op) {
  const OnednnGraph::Impl& g = b.g_;
  const auto& n = op.node;
  // NCHW or NHWC (the convolutions' format here), computed in that format.
  int x = b.Get(op.in[0]);
  const bool nhwc = b.Md(x) == memory::desc(b.D(x), kF32, Tag::acdb);
  if (!nhwc) x = b.Plain(x);
  const Dims d = b.D(x);
  if (d.size() != 4) throw Unsupported("Resize of a non-4-D tensor");
  const bool opset10 = op.in.size() == 2;
  std::vector<float> scales;
  if (const Const* s = g.FindConst(op.in.at(opset10 ? 1 : 2)); s) scales = s->f;
  Dims od = d;
  if (scales.size() == 4) {
    for (size_t i = 0; i < 4; ++i) od[i] = int64_t(std::floor(float(d[i]) * scales[i]));
  } else if (op.in.size() > 3 && g.FindConst(op.in[3])) {
    const Const* s = g.FindConst(op.in[3]);
    for (size_t i = 0; i < 4; ++i) od[i] = s->i.at(i);
    scales = {1, 1, float(od[2]) / float(d[2]), float(od[3]) / float(d[3])};
  } else {
    throw Unsupported("Resize without constant scales or sizes");
  }
  if (od[0] != d[0] || od[1] != d[1]) throw Unsupported("Resize along N or C");
  const bool linear = AttrStr(n, "mode", "nearest") == "linear";
  const std::string ct =
      opset10 ? "asymmetric" : AttrStr(n, "coordinate_transformation_mode", "half_pixel");
  const int o = b.NewVal(nhwc ? memory::desc(od, kF32, Tag::acdb) : PlainMd(od));
  const float sh = scales[2], sw = scales[3];
  b.Step(
      [x, o, nhwc, d, od, sh, sw, linear, ct](Plan& p) {
        ResizePlain(static_cast<const float*>(p.M(x).get_data_handle()),
                    static_cast<float*>(p.M(o).get_data_handle()), nhwc, d, od, sh, sw, linear, ct);
      },
      {x, o});
  b.Set(op.out[0], o);
}

}  // namespace

void BuildOp(Builder& b, size_t k) {
  const Op& op = b.g_.ops[k];
  if (auto act = Activation(b.g_, op); !act.empty()) return BuildEltwise(b, op, act);
  using Fn = void (*)(Builder&, const Op&);
  static const std::map<std::string, Fn> kBuilders = {{"Add", BuildArithmetic},
                                                      {"Sub", BuildArithmetic},
                                                      {"Mul", BuildArithmetic},
                                                      {"Div", BuildArithmetic},
                                                      {"PRelu", BuildPRelu},
                                                      {"MaxPool", BuildPool},
                                                      {"AveragePool", BuildPool},
                                                      {"GlobalAveragePool", BuildPool},
                                                      {"Gemm", BuildMatMul},
                                                      {"MatMul", BuildMatMul},
                                                      {"Softmax", BuildSoftmax},
                                                      {"ReduceMean", BuildReduceMean},
                                                      {"Reshape", BuildReshape},
                                                      {"Flatten", BuildReshape},
                                                      {"Squeeze", BuildReshape},
                                                      {"Unsqueeze", BuildReshape},
                                                      {"Identity", BuildReshape},
                                                      {"Dropout", BuildReshape},
                                                      {"Transpose", BuildTranspose},
                                                      {"Slice", BuildSlice},
                                                      {"Pad", BuildPad},
                                                      {"Concat", BuildConcat},
                                                      {"Resize", BuildResize}};
  auto it = kBuilders.find(op.type);
  if (it == kBuilders.end()) throw Unsupported("operator " + op.type);
  it->second(b, op);
}

}  // namespace argus::ml::onednn
