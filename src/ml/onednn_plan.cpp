// ml::OnednnGraph's plans: the op loop, the convolutions with their fused
// post-ops, and the buffers activations share by liveness.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "ml/onednn_internal.h"

namespace argus::ml {
namespace onednn {

std::vector<Elt> Activation(const OnednnGraph::Impl& g, const Op& op) {
  using A = dnnl::algorithm;
  if (op.type == "Relu") return {{A::eltwise_relu, 0.f, 0.f}};
  if (op.type == "Sigmoid") return {{A::eltwise_logistic, 0.f, 0.f}};
  if (op.type == "Exp") return {{A::eltwise_exp, 0.f, 0.f}};
  if (op.type == "Sqrt") return {{A::eltwise_sqrt, 0.f, 0.f}};
  if (op.type == "HardSigmoid")
    return {
        {A::eltwise_linear, AttrFloat(op.node, "alpha", 0.2f), AttrFloat(op.node, "beta", 0.5f)},
        {A::eltwise_clip_v2, 0.f, 1.f}};
  if (op.type == "Clip") {
    float lo = AttrFloat(op.node, "min", -INFINITY), hi = AttrFloat(op.node, "max", INFINITY);
    for (size_t k = 1; k < op.in.size() && k < 3; ++k) {
      if (op.in[k].empty()) continue;
      const Const* c = g.FindConst(op.in[k]);
      if (!c || c->f.empty()) throw Unsupported("Clip with computed bounds");
      (k == 1 ? lo : hi) = c->f[0];
    }
    return {{A::eltwise_clip_v2, lo, hi}};
  }
  if (op.type == "Pow") {
    const Const* c = g.FindConst(op.in.at(1));
    if (!c || Numel(c->dims) != 1) throw Unsupported("Pow with a tensor exponent");
    return {{A::eltwise_pow, 1.f, c->f[0]}};
  }
  return {};
}

// A Conv or ConvTranspose, with the activations, residual Add and
// hardswish after it fused as post-ops.
void BuildConv(Builder& b, size_t k) {
  OnednnGraph::Impl& g = b.g_;
  const Op& op = g.ops[k];
  const auto& n = op.node;
  const std::string& t = op.type;
  using A = dnnl::algorithm;
  const int x = b.Get(op.in[0]);
  const Dims sd = b.D(x);
  if (sd.size() != 4) throw Unsupported(t + " on a " + std::to_string(sd.size()) + "-D input");
  const int64_t G = AttrInt(n, "group", 1);
  const Dims& wd = op.w.dims;
  auto ks = AttrInts(n, "kernel_shape", {wd[2], wd[3]});
  auto st = AttrInts(n, "strides", {1, 1});
  auto dl = AttrInts(n, "dilations", {1, 1});
  auto pd = AttrInts(n, "pads", {0, 0, 0, 0});
  const bool deconv = t == "ConvTranspose";
  const int64_t OC = deconv ? wd[1] * G : wd[0];
  const int64_t IC = deconv ? wd[0] : wd[1] * G;
  if (IC != sd[1]) throw Unsupported(t + " input channels");
  Dims od{sd[0], OC, 0, 0};
  for (int i = 0; i < 2; ++i) {
    const int64_t ke = (ks[size_t(i)] - 1) * dl[size_t(i)] + 1;
    od[size_t(2 + i)] =
        deconv ? (sd[size_t(2 + i)] - 1) * st[size_t(i)] + ke - pd[size_t(i)] - pd[size_t(2 + i)]
               : (sd[size_t(2 + i)] + pd[size_t(i)] + pd[size_t(2 + i)] - ke) / st[size_t(i)] + 1;
  }
  // Activations, a residual Add and x*HardSigmoid(x) after the conv
  // become post-ops while each intermediate has one consumer.
  dnnl::post_ops po;
  int sum_with = -1;
  std::string cur = op.out[0];
  for (bool more = !deconv; more;) {
    more = false;
    auto it = g.consumers.find(cur);
    if (it == g.consumers.end()) break;
    const auto& cs = it->second;
    if (b.Uses(cur) == 1) {
      const Op& nx = g.ops[size_t(cs[0])];
      std::vector<Elt> act = nx.in[0] == cur ? Activation(g, nx) : std::vector<Elt>{};
      if (!act.empty()) {
        for (const auto& e : act) po.append_eltwise(1.f, e.alg, e.alpha, e.beta);
      } else if (nx.type == "Add" && sum_with < 0 && nx.in.size() == 2) {
        const std::string& other = nx.in[0] == cur ? nx.in[1] : nx.in[0];
        if (!b.Has(other) || b.D(b.Get(other)) != od) break;
        sum_with = b.Get(other);
        po.append_sum(1.f);
      } else {
        break;
      }
      b.Absorb(cs[0]);
      cur = nx.out[0];
      more = true;
    } else if (b.Uses(cur) == 2) {
      // x * HardSigmoid(x) with HardSigmoid(1/6, 1/2): hardswish.
      const Op& a = g.ops[size_t(cs[0])];
      const Op& m = g.ops[size_t(cs[1])];
      if (a.type != "HardSigmoid" || m.type != "Mul" ||
          std::abs(AttrFloat(a.node, "alpha", 0.2f) - 1.f / 6) > 1e-6f ||
          AttrFloat(a.node, "beta", 0.5f) != 0.5f || b.Uses(a.out[0]) != 1 ||
          !((m.in[0] == cur && m.in[1] == a.out[0]) || (m.in[1] == cur && m.in[0] == a.out[0])))
        break;
      po.append_eltwise(1.f, A::eltwise_hardswish, 0.f, 0.f);
      b.Absorb(cs[0]);
      b.Absorb(cs[1]);
      cur = m.out[0];
      more = true;
    }
  }
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  const memory::desc any_src(sd, kF32, Tag::any), any_dst(od, kF32, Tag::any);
  const bool bias = !op.b.f.empty();
  const memory::desc bias_md = bias ? memory::desc({OC}, kF32, Tag::x) : memory::desc();
  const Dims strides(st.begin(), st.end());
  const Dims dil{dl[0] - 1, dl[1] - 1}, pl{pd[0], pd[1]}, pr{pd[2], pd[3]};
  Dims wdims;
  memory::desc user_w;
  if (deconv) {
    wdims = G > 1 ? Dims{G, OC / G, IC / G, wd[2], wd[3]} : Dims{OC, IC, wd[2], wd[3]};
    user_w = memory::desc(wdims, kF32, G > 1 ? Tag::giohw : Tag::iohw);
  } else {
    wdims = G > 1 ? Dims{G, OC / G, IC / G, wd[2], wd[3]} : Dims{OC, IC, wd[2], wd[3]};
    user_w = memory::desc(wdims, kF32, G > 1 ? Tag::goihw : Tag::oihw);
  }
  const memory::desc any_w(wdims, kF32, Tag::any);
  dnnl::primitive prim;
  memory::desc src_md, w_md, dst_md;
  if (deconv) {
    // NHWC: oneDNN's blocked choice pads the output channels to 16
    // (paddleocr_det's last one has 1) and its eltwise then runs the
    // reference code.
    dnnl::deconvolution_forward::desc d(dnnl::prop_kind::forward_inference, A::deconvolution_direct,
                                        memory::desc(sd, kF32, Tag::acdb), any_w, bias_md,
                                        memory::desc(od, kF32, Tag::acdb), strides, dil, pl, pr);
    dnnl::deconvolution_forward::primitive_desc p(d, attr, Engine());
    prim = dnnl::deconvolution_forward(p);
    src_md = p.src_desc(), w_md = p.weights_desc(), dst_md = p.dst_desc();
  } else {
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, A::convolution_direct,
                                      any_src, any_w, bias_md, any_dst, strides, dil, pl, pr);
    dnnl::convolution_forward::primitive_desc p(d, attr, Engine());
    prim = dnnl::convolution_forward(p);
    src_md = p.src_desc(), w_md = p.weights_desc(), dst_md = p.dst_desc();
  }
  b.p_.flops += 2.0 * double(sd[0]) * double(deconv ? Numel(sd) / sd[0] : Numel(od) / od[0]) *
                double((deconv ? OC : IC) / G) * double(wd[2] * wd[3]);
  const int src = b.As(x, src_md);
  std::vector<std::pair<int, memory>> fixed{
      {DNNL_ARG_WEIGHTS, g.Weights(int(k), w_md, user_w, op.w.f.data())}};
  if (bias)
    fixed.push_back({DNNL_ARG_BIAS, memory(bias_md, Engine(), const_cast<float*>(op.b.f.data()))});
  int dst;
  if (sum_with >= 0) {
    // The residual goes into dst first; the conv adds to it.
    const int other = b.As(sum_with, dst_md);
    dst = b.NewVal(dst_md);
    b.Step(
        [other, dst](Plan& p) {
          std::memcpy(p.M(dst).get_data_handle(), p.M(other).get_data_handle(),
                      p.vals[size_t(dst)].md.get_size());
        },
        {other});
  } else {
    dst = b.NewVal(dst_md);
  }
  b.Prim(prim, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, fixed);
  b.Set(cur, dst);
}

}  // namespace onednn

using namespace onednn;  // NOLINT(google-build-using-namespace)

std::unique_ptr<Plan> OnednnGraph::Impl::Build(const Dims& in_dims,
                                               const std::vector<std::string>& outputs) {
  auto plan = std::make_unique<Plan>();
  Builder b(*this, *plan, outputs);
  plan->input = b.NewVal(PlainMd(in_dims));
  plan->vals[size_t(plan->input)].external = true;
  b.Set(input, plan->input);
  for (size_t k = 0; k < ops.size(); ++k) {
    if (b.Absorbed(k)) continue;
    if (ops[k].type == "Conv" || ops[k].type == "ConvTranspose")
      BuildConv(b, k);
    else
      BuildOp(b, k);
  }

  // Outputs in plain layout, alive to the end.
  for (const auto& name : outputs) {
    if (!b.Has(name)) throw Unsupported("no output named " + name);
    plan->outputs.push_back(b.Plain(b.Get(name)));
  }
  for (int v : plan->outputs) b.Use(v);
  const int end = int(plan->steps.size());
  for (int v : plan->outputs) b.p_.vals[size_t(v)].last = end;

  // Buffers: each root value takes a free buffer at its definition and
  // frees it after its last use (best fit; buffers grow as needed).
  std::vector<size_t> sizes;
  std::vector<int> buffer_of(plan->vals.size(), -1);
  std::vector<std::vector<int>> dies(size_t(end) + 2), born(size_t(end) + 2);
  for (size_t v = 0; v < plan->vals.size(); ++v) {
    const auto& val = plan->vals[v];
    if (val.alias >= 0 || val.external) continue;
    born[size_t(std::max(val.def, 0))].push_back(int(v));
    dies[size_t(std::max(val.last, val.def) + 1)].push_back(int(v));
  }
  std::multimap<size_t, int> free_bufs;  // size -> buffer
  for (int s = 0; s <= end + 1; ++s) {
    for (int v : dies[size_t(s)])
      free_bufs.insert({sizes[size_t(buffer_of[size_t(v)])], buffer_of[size_t(v)]});
    if (s > end) break;
    for (int v : born[size_t(s)]) {
      const size_t need = plan->vals[size_t(v)].md.get_size();
      auto it = free_bufs.lower_bound(need);
      if (it == free_bufs.end() && !free_bufs.empty()) it = std::prev(free_bufs.end());
      int buf;
      if (it == free_bufs.end()) {
        buf = int(sizes.size());
        sizes.push_back(need);
      } else {
        buf = it->second;
        free_bufs.erase(it);
        sizes[size_t(buf)] = std::max(sizes[size_t(buf)], need);
      }
      buffer_of[size_t(v)] = buf;
    }
  }
  for (size_t s : sizes) plan->buffers.emplace_back(new float[(s + 63) / sizeof(float) + 16]);
  for (size_t v = 0; v < plan->vals.size(); ++v) {
    auto& val = plan->vals[v];
    if (val.external && v != size_t(plan->input)) continue;
    int root = int(v);
    while (plan->vals[size_t(root)].alias >= 0) root = plan->vals[size_t(root)].alias;
    void* handle = nullptr;
    if (root == plan->input && v != size_t(plan->input)) plan->input_views.push_back(int(v));
    if (root == plan->input || plan->vals[size_t(root)].external) {
      handle = nullptr;  // set per run (input) or below (a constant's view)
      if (root != plan->input) handle = plan->vals[size_t(root)].mem.get_data_handle();
    } else {
      uintptr_t a =
          reinterpret_cast<uintptr_t>(plan->buffers[size_t(buffer_of[size_t(root)])].get());
      handle = reinterpret_cast<void*>((a + 63) & ~uintptr_t(63));
    }
    val.mem = memory(val.md, Engine(), handle ? handle : DNNL_MEMORY_NONE);
  }
  return plan;
}

}  // namespace argus::ml
