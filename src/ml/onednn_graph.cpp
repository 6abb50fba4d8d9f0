#include "ml/onednn_graph.h"

#include <omp.h>
#include <onnx/onnx_pb.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <numeric>
#include <oneapi/dnnl/dnnl.hpp>
#include <set>
#include <stdexcept>
#include <utility>

namespace argus::ml {
namespace {

using dnnl::memory;
using Dims = memory::dims;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;

std::atomic<int> g_threads{0};
std::atomic<int> g_running{0};  // oneDNN runs in progress, all graphs
constexpr double kSmallGraphFlops = 0.5e9;
thread_local bool t_single = false;

dnnl::engine& Engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// An operator or attribute this runtime does not implement.
struct Unsupported : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int64_t Numel(const Dims& d) {
  return std::accumulate(d.begin(), d.end(), int64_t{1}, std::multiplies<int64_t>());
}

memory::desc PlainMd(const Dims& d) {
  Dims strides(d.size(), 1);
  for (int i = int(d.size()) - 2; i >= 0; --i)
    strides[size_t(i)] = strides[size_t(i) + 1] * d[size_t(i) + 1];
  return memory::desc(d, kF32, strides);
}

bool IsPlain(const memory::desc& md) { return md == PlainMd(md.dims()); }

std::string DimsStr(const Dims& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

// A constant tensor: an initializer or a Constant node's value.
struct Const {
  Dims dims;
  std::vector<float> f;    // float data (also int data converted)
  std::vector<int64_t> i;  // integer data (also float data converted)
};

Const ReadTensor(const onnx::TensorProto& t) {
  Const c;
  for (auto d : t.dims()) c.dims.push_back(d);
  const int64_t n = Numel(c.dims);
  const std::string& raw = t.raw_data();
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      c.f.resize(size_t(n));
      if (!raw.empty())
        std::memcpy(c.f.data(), raw.data(), std::min(raw.size(), size_t(n) * 4));
      else
        for (int64_t k = 0; k < n && k < t.float_data_size(); ++k)
          c.f[size_t(k)] = t.float_data(int(k));
      if (n <= 16)  // shapes, axes and the like only: weights stay float
        for (float v : c.f) c.i.push_back(int64_t(v));
      break;
    case onnx::TensorProto::INT64:
      c.i.resize(size_t(n));
      if (!raw.empty())
        std::memcpy(c.i.data(), raw.data(), std::min(raw.size(), size_t(n) * 8));
      else
        for (int64_t k = 0; k < n && k < t.int64_data_size(); ++k)
          c.i[size_t(k)] = t.int64_data(int(k));
      for (int64_t v : c.i) c.f.push_back(float(v));
      break;
    case onnx::TensorProto::INT32:
      c.i.resize(size_t(n));
      for (int64_t k = 0; k < n; ++k)
        c.i[size_t(k)] =
            raw.empty() ? t.int32_data(int(k)) : reinterpret_cast<const int32_t*>(raw.data())[k];
      for (int64_t v : c.i) c.f.push_back(float(v));
      break;
    default:
      throw Unsupported("tensor " + t.name() + " of data type " + std::to_string(t.data_type()));
  }
  return c;
}

const onnx::AttributeProto* FindAttr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
int64_t AttrInt(const onnx::NodeProto& n, const std::string& name, int64_t def) {
  const auto* a = FindAttr(n, name);
  return a ? a->i() : def;
}
float AttrFloat(const onnx::NodeProto& n, const std::string& name, float def) {
  const auto* a = FindAttr(n, name);
  return a ? a->f() : def;
}
std::string AttrStr(const onnx::NodeProto& n, const std::string& name, const std::string& def) {
  const auto* a = FindAttr(n, name);
  return a ? a->s() : def;
}
std::vector<int64_t> AttrInts(const onnx::NodeProto& n, const std::string& name,
                              std::vector<int64_t> def = {}) {
  const auto* a = FindAttr(n, name);
  if (!a) return def;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

// One node after constant folding. A Conv carries its folded weights.
struct Op {
  onnx::NodeProto node;
  std::string type;
  std::vector<std::string> in, out;
  Const w, b;  // Conv / ConvTranspose: weights and bias (b empty: none)
};

const std::set<std::string> kSupported = {"Conv",      "ConvTranspose", "BatchNormalization",
                                          "Relu",      "PRelu",         "Clip",
                                          "Sigmoid",   "HardSigmoid",   "Exp",
                                          "Pow",       "Sqrt",          "Add",
                                          "Sub",       "Mul",           "Div",
                                          "MaxPool",   "AveragePool",   "GlobalAveragePool",
                                          "Pad",       "Gemm",          "MatMul",
                                          "Softmax",   "ReduceMean",    "Reshape",
                                          "Transpose", "Concat",        "Slice",
                                          "Squeeze",   "Unsqueeze",     "Flatten",
                                          "Resize",    "Identity",      "Dropout"};

}  // namespace

// ---------------------------------------------------------------------------
// A plan: values (activation tensors) with their memory descriptors, the
// steps that compute them, and the buffers they live in.
struct Plan {
  struct Val {
    memory::desc md;
    int alias = -1;  // a view over this value's buffer
    int def = -1, last = -1;
    bool external = false;  // the input, or a constant with its own memory
    memory mem;
  };
  std::vector<Val> vals;
  std::vector<std::function<void(Plan&)>> steps;
  std::vector<std::unique_ptr<float[]>> buffers;
  dnnl::stream strm{Engine()};
  int input = -1;
  std::vector<int> outputs;
  double flops = 0;  // multiply-adds x 2 of convolutions and matrix products

  std::vector<int> input_views;  // values over the input's buffer
  memory& M(int v) { return vals[size_t(v)].mem; }
};

struct OnednnGraph::Impl {
  std::map<std::string, Const> consts;
  std::vector<Op> ops;
  std::string input;
  std::vector<std::string> graph_outputs;
  std::map<std::string, std::vector<int>> consumers;  // value name -> op indices

  // Weights reordered into a primitive's format, shared by all plans.
  std::mutex wmu;
  std::map<std::pair<int, std::string>, memory> wcache;

  // Threads a run may use: 1 for a graph whose first plan has under
  // kSmallGraphFlops (thread start-up and barriers cost more than they
  // save there), else unbounded (0: no plan built yet).
  std::atomic<int> max_threads{0};

  std::mutex mu;
  struct Pooled {
    std::string key;
    std::unique_ptr<Plan> plan;
  };
  std::vector<Pooled> free;

  void Fold();
  std::unique_ptr<Plan> Build(const Dims& in_dims, const std::vector<std::string>& outputs);
  const Const* FindConst(const std::string& name) const {
    auto it = consts.find(name);
    return it == consts.end() ? nullptr : &it->second;
  }
  memory Weights(int op, const memory::desc& want, const memory::desc& user, const float* data);
};

memory OnednnGraph::Impl::Weights(int op, const memory::desc& want, const memory::desc& user,
                                  const float* data) {
  std::string key(reinterpret_cast<const char*>(&want.data), sizeof(want.data));
  std::lock_guard<std::mutex> lock(wmu);
  auto it = wcache.find({op, key});
  if (it != wcache.end()) return it->second;
  memory src(user, Engine(), const_cast<float*>(data));
  memory dst(want, Engine());
  dnnl::stream s(Engine());
  dnnl::reorder(src, dst).execute(s, src, dst);
  s.wait();
  wcache[{op, key}] = dst;
  return dst;
}

namespace {

// Folds per-output-channel affine ops that follow a Conv into its weights.
// Output channels of a Conv or ConvTranspose (0: a grouped ConvTranspose,
// whose weights this file does not fold into).
int64_t OutChannels(const Op& op) {
  if (op.type == "Conv") return op.w.dims[0];
  return AttrInt(op.node, "group", 1) == 1 ? op.w.dims[1] : 0;
}

// Multiplies output channel c's weights by s: Conv weights are
// (OC, IC/G, KH, KW), ConvTranspose ones (IC, OC, KH, KW).
void ScaleOutChannel(Op& op, int64_t c, float s) {
  const int64_t kk = op.w.dims[2] * op.w.dims[3];
  if (op.type == "Conv") {
    const int64_t per = Numel(op.w.dims) / op.w.dims[0];
    for (int64_t j = 0; j < per; ++j) op.w.f[size_t(c * per + j)] *= s;
    return;
  }
  const int64_t oc = op.w.dims[1];
  for (int64_t i = 0; i < op.w.dims[0]; ++i)
    for (int64_t j = 0; j < kk; ++j) op.w.f[size_t((i * oc + c) * kk + j)] *= s;
}

bool FoldAffine(Op& conv, const std::string& type, const Const& k, bool conv_first) {
  const int64_t oc = OutChannels(conv);
  if (oc == 0) return false;
  const int64_t n = Numel(k.dims);
  if (n != 1 && n != oc) return false;
  if (n == oc && n != 1) {
    // Must broadcast along axis 1 of the NCHW output: [oc,1,1] or [1,oc,1,1].
    Dims d = k.dims;
    while (!d.empty() && d.front() == 1 && int64_t(d.size()) > 3) d.erase(d.begin());
    if (!(d.size() == 3 && d[0] == oc && d[1] == 1 && d[2] == 1)) return false;
  }
  if (!conv_first && (type == "Sub" || type == "Div")) return false;
  if (conv.b.f.empty()) {
    conv.b.dims = {oc};
    conv.b.f.assign(size_t(oc), 0.f);
  }
  for (int64_t c = 0; c < oc; ++c) {
    float v = k.f[size_t(n == 1 ? 0 : c)];
    if (type == "Add") {
      conv.b.f[size_t(c)] += v;
    } else if (type == "Sub") {
      conv.b.f[size_t(c)] -= v;
    } else {
      float s = type == "Mul" ? v : 1.f / v;
      conv.b.f[size_t(c)] *= s;
      ScaleOutChannel(conv, c, s);
    }
  }
  return true;
}

}  // namespace

void OnednnGraph::Impl::Fold() {
  std::map<std::string, int> uses;
  for (const auto& op : ops)
    for (const auto& i : op.in) ++uses[i];
  for (const auto& o : graph_outputs) ++uses[o];
  std::map<std::string, size_t> producer;
  for (size_t k = 0; k < ops.size(); ++k) producer[ops[k].out[0]] = k;
  std::vector<bool> dead(ops.size(), false);
  for (size_t k = 0; k < ops.size(); ++k) {
    Op& op = ops[k];
    if (dead[k] || (op.type != "Conv" && op.type != "ConvTranspose")) continue;
    for (;;) {
      const std::string cur = op.out[0];
      if (uses[cur] != 1) break;
      size_t j = k + 1;
      while (j < ops.size() &&
             (dead[j] || std::find(ops[j].in.begin(), ops[j].in.end(), cur) == ops[j].in.end()))
        ++j;
      if (j == ops.size()) break;
      Op& next = ops[j];
      bool folded = false;
      if (next.type == "BatchNormalization" && next.in.size() == 5 && next.in[0] == cur) {
        const Const *s = FindConst(next.in[1]), *b = FindConst(next.in[2]),
                    *m = FindConst(next.in[3]), *v = FindConst(next.in[4]);
        const int64_t oc = OutChannels(op);
        if (s && b && m && v && oc > 0 && Numel(s->dims) == oc) {
          const float eps = AttrFloat(next.node, "epsilon", 1e-5f);
          if (op.b.f.empty()) {
            op.b.dims = {oc};
            op.b.f.assign(size_t(oc), 0.f);
          }
          for (int64_t c = 0; c < oc; ++c) {
            const float g = s->f[size_t(c)] / std::sqrt(v->f[size_t(c)] + eps);
            ScaleOutChannel(op, c, g);
            op.b.f[size_t(c)] = (op.b.f[size_t(c)] - m->f[size_t(c)]) * g + b->f[size_t(c)];
          }
          folded = true;
        }
      } else if ((next.type == "Add" || next.type == "Sub" || next.type == "Mul" ||
                  next.type == "Div") &&
                 next.in.size() == 2) {
        const bool first = next.in[0] == cur;
        const Const* k2 = FindConst(first ? next.in[1] : next.in[0]);
        if (k2 && !k2->f.empty()) folded = FoldAffine(op, next.type, *k2, first);
      }
      if (!folded) break;
      dead[j] = true;
      op.out[0] = next.out[0];
    }
  }
  std::vector<Op> kept;
  for (size_t k = 0; k < ops.size(); ++k)
    if (!dead[k]) kept.push_back(std::move(ops[k]));
  ops = std::move(kept);
  consumers.clear();
  for (size_t k = 0; k < ops.size(); ++k)
    for (const auto& i : ops[k].in) consumers[i].push_back(int(k));
}

OnednnGraph::OnednnGraph(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OnednnGraph::~OnednnGraph() = default;

void OnednnGraph::SetThreads(int threads) { g_threads = threads; }

void OnednnGraph::PreferPassiveWaiting(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY")) return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  execv("/proc/self/exe", argv);
}
bool OnednnGraph::SetSingleThreadedHere(bool on) { return std::exchange(t_single, on); }

Result<std::unique_ptr<OnednnGraph>> OnednnGraph::Parse(const std::vector<uchar>& onnx) {
  onnx::ModelProto model;
  if (!model.ParseFromArray(onnx.data(), int(onnx.size())))
    return Internal("not a valid ONNX protobuf");
  auto impl = std::make_unique<Impl>();
  const auto& g = model.graph();
  try {
    for (const auto& t : g.initializer()) impl->consts[t.name()] = ReadTensor(t);
    for (const auto& in : g.input())
      if (!impl->consts.count(in.name()) && impl->input.empty()) impl->input = in.name();
    for (const auto& o : g.output()) impl->graph_outputs.push_back(o.name());
    for (const auto& n : g.node()) {
      if (n.op_type() == "Constant") {
        const auto* v = FindAttr(n, "value");
        if (!v) throw Unsupported("Constant without a tensor value");
        impl->consts[n.output(0)] = ReadTensor(v->t());
        continue;
      }
      if (!kSupported.count(n.op_type())) throw Unsupported("operator " + n.op_type());
      if (!n.domain().empty() && n.domain() != "ai.onnx")
        throw Unsupported("operator domain " + n.domain());
      Op op;
      op.node = n;
      op.type = n.op_type();
      for (const auto& i : n.input()) op.in.push_back(i);
      for (const auto& o : n.output()) op.out.push_back(o);
      if (op.type == "Dropout") op.out.resize(1);
      if (op.type == "Conv" || op.type == "ConvTranspose") {
        const Const* w = impl->FindConst(op.in.at(1));
        if (!w || w->dims.size() != 4) throw Unsupported(op.type + " without constant 2-D weights");
        op.w = *w;
        if (op.in.size() > 2 && !op.in[2].empty()) {
          const Const* b = impl->FindConst(op.in[2]);
          if (!b) throw Unsupported(op.type + " with a computed bias");
          op.b = *b;
        }
        if (AttrStr(n, "auto_pad", "NOTSET") != "NOTSET") throw Unsupported("auto_pad");
        if (op.type == "ConvTranspose" &&
            (!AttrInts(n, "output_padding").empty() || !AttrInts(n, "output_shape").empty()))
          throw Unsupported("ConvTranspose output_padding/output_shape");
        op.in.resize(1);
      }
      if (op.type == "Gemm" && (AttrFloat(n, "alpha", 1) != 1 || AttrFloat(n, "beta", 1) != 1 ||
                                AttrInt(n, "transA", 0) != 0))
        throw Unsupported("Gemm with alpha, beta or transA");
      if ((op.type == "MaxPool" || op.type == "AveragePool") &&
          (AttrStr(n, "auto_pad", "NOTSET") != "NOTSET" || AttrInt(n, "storage_order", 0) != 0 ||
           op.out.size() > 1))
        throw Unsupported(op.type + " attributes");
      if (op.type == "Pad" && AttrStr(n, "mode", "constant") != "constant")
        throw Unsupported("Pad mode " + AttrStr(n, "mode", ""));
      if (op.type == "Resize") {
        const std::string mode = AttrStr(n, "mode", "nearest");
        const std::string ct = AttrStr(n, "coordinate_transformation_mode", "half_pixel");
        const std::string nm = AttrStr(n, "nearest_mode", "round_prefer_floor");
        const bool opset10 = op.in.size() == 2;
        if (!(opset10 || ct == "asymmetric" || ct == "half_pixel" || ct == "align_corners") ||
            (mode != "nearest" && mode != "linear") ||
            (mode == "nearest" && !opset10 && nm != "floor"))
          throw Unsupported("Resize mode " + mode + "/" + ct + "/" + nm);
      }
      impl->ops.push_back(std::move(op));
    }
    if (impl->input.empty()) throw Unsupported("a graph without an input");
    impl->Fold();
    // Weights now live in their ops; drop the constants nothing else reads.
    for (auto it = impl->consts.begin(); it != impl->consts.end();) {
      bool used = false;
      for (const auto& op : impl->ops)
        if (std::find(op.in.begin(), op.in.end(), it->first) != op.in.end()) used = true;
      it = used ? std::next(it) : impl->consts.erase(it);
    }
  } catch (const Unsupported& e) {
    return Internal(std::string("not supported by the oneDNN runtime: ") + e.what());
  }
  return std::unique_ptr<OnednnGraph>(new OnednnGraph(std::move(impl)));
}

namespace {

// Builds a plan's steps for one input shape.
class Builder {
 public:
  Builder(OnednnGraph::Impl& g, Plan& p) : g_(g), p_(p) {}

  int NewVal(const memory::desc& md) {
    p_.vals.push_back({});
    p_.vals.back().md = md;
    p_.vals.back().def = int(p_.steps.size());
    return int(p_.vals.size()) - 1;
  }
  int View(int root, const memory::desc& md) {
    int v = NewVal(md);
    p_.vals[size_t(v)].alias = root;
    Use(root);
    return v;
  }
  void Use(int v) {
    for (; v >= 0; v = p_.vals[size_t(v)].alias)
      p_.vals[size_t(v)].last = std::max(p_.vals[size_t(v)].last, int(p_.steps.size()));
  }
  void Step(std::function<void(Plan&)> fn, const std::vector<int>& inputs) {
    for (int v : inputs) Use(v);
    p_.steps.push_back(std::move(fn));
  }
  void Prim(const dnnl::primitive& prim, std::vector<std::pair<int, int>> args,
            std::vector<std::pair<int, memory>> fixed = {}) {
    std::vector<int> vs;
    for (auto& a : args) vs.push_back(a.second);
    Step(
        [prim, args, fixed](Plan& p) {
          std::unordered_map<int, memory> m;
          for (const auto& a : args) m[a.first] = p.M(a.second);
          for (const auto& f : fixed) m[f.first] = f.second;
          prim.execute(p.strm, m);
        },
        vs);
  }
  const memory::desc& Md(int v) const { return p_.vals[size_t(v)].md; }
  Dims D(int v) const { return Md(v).dims(); }

  // The value of `name`: a computed tensor or a constant.
  int Get(const std::string& name) {
    auto it = named_.find(name);
    if (it != named_.end()) return it->second;
    const Const* c = g_.FindConst(name);
    if (!c) throw Unsupported("value " + name + " used before it is computed");
    Dims d = c->dims.empty() ? Dims{1} : c->dims;
    int v = NewVal(PlainMd(d));
    p_.vals[size_t(v)].external = true;
    p_.vals[size_t(v)].mem = memory(PlainMd(d), Engine(), const_cast<float*>(c->f.data()));
    named_[name] = v;
    return v;
  }
  void Set(const std::string& name, int v) { named_[name] = v; }
  bool Has(const std::string& name) const { return named_.count(name) > 0; }

  // `v` in memory format `want`, reordered once if it is in another.
  int As(int v, const memory::desc& want) {
    if (Md(v) == want) return v;
    for (auto& [from, to] : converted_)
      if (from == v && Md(to) == want) return to;
    int o = NewVal(want);
    dnnl::reorder r(dnnl::reorder::primitive_desc(Engine(), Md(v), Engine(), want));
    Prim(r, {{DNNL_ARG_FROM, v}, {DNNL_ARG_TO, o}});
    converted_.push_back({v, o});
    return o;
  }
  int Plain(int v) { return As(v, PlainMd(D(v))); }
  int Reshaped(int v, const Dims& d) {
    if (D(v) == d) return v;
    return View(Plain(v), PlainMd(d));
  }

  OnednnGraph::Impl& g_;
  Plan& p_;
  std::map<std::string, int> named_;
  std::vector<std::pair<int, int>> converted_;
};

dnnl::algorithm Alg(const std::string& s) {
  if (s == "Add") return dnnl::algorithm::binary_add;
  if (s == "Sub") return dnnl::algorithm::binary_sub;
  if (s == "Mul") return dnnl::algorithm::binary_mul;
  return dnnl::algorithm::binary_div;
}

struct Elt {
  dnnl::algorithm alg;
  float alpha, beta;
};

// The eltwise chain a single-input activation op is, or empty.
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

}  // namespace

std::unique_ptr<Plan> OnednnGraph::Impl::Build(const Dims& in_dims,
                                               const std::vector<std::string>& outputs) {
  auto plan = std::make_unique<Plan>();
  Builder b(*this, *plan);
  plan->input = b.NewVal(PlainMd(in_dims));
  plan->vals[size_t(plan->input)].external = true;
  b.Set(input, plan->input);
  std::set<std::string> wanted(outputs.begin(), outputs.end());
  auto uses = [&](const std::string& name) {
    auto it = consumers.find(name);
    return (it == consumers.end() ? 0 : int(it->second.size())) + int(wanted.count(name));
  };
  std::vector<bool> done(ops.size(), false);
  using A = dnnl::algorithm;

  for (size_t k = 0; k < ops.size(); ++k) {
    if (done[k]) continue;
    const Op& op = ops[k];
    const auto& n = op.node;
    const std::string& t = op.type;
    if (t == "Conv" || t == "ConvTranspose") {
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
            deconv
                ? (sd[size_t(2 + i)] - 1) * st[size_t(i)] + ke - pd[size_t(i)] - pd[size_t(2 + i)]
                : (sd[size_t(2 + i)] + pd[size_t(i)] + pd[size_t(2 + i)] - ke) / st[size_t(i)] + 1;
      }
      // Activations, a residual Add and x*HardSigmoid(x) after the conv
      // become post-ops while each intermediate has one consumer.
      dnnl::post_ops po;
      int sum_with = -1;
      std::string cur = op.out[0];
      for (bool more = !deconv; more;) {
        more = false;
        auto it = consumers.find(cur);
        if (it == consumers.end()) break;
        const auto& cs = it->second;
        if (uses(cur) == 1) {
          const Op& nx = ops[size_t(cs[0])];
          std::vector<Elt> act = nx.in[0] == cur ? Activation(*this, nx) : std::vector<Elt>{};
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
          done[size_t(cs[0])] = true;
          cur = nx.out[0];
          more = true;
        } else if (uses(cur) == 2) {
          // x * HardSigmoid(x) with HardSigmoid(1/6, 1/2): hardswish.
          const Op& a = ops[size_t(cs[0])];
          const Op& m = ops[size_t(cs[1])];
          if (a.type != "HardSigmoid" || m.type != "Mul" ||
              std::abs(AttrFloat(a.node, "alpha", 0.2f) - 1.f / 6) > 1e-6f ||
              AttrFloat(a.node, "beta", 0.5f) != 0.5f || uses(a.out[0]) != 1 ||
              !((m.in[0] == cur && m.in[1] == a.out[0]) || (m.in[1] == cur && m.in[0] == a.out[0])))
            break;
          po.append_eltwise(1.f, A::eltwise_hardswish, 0.f, 0.f);
          done[size_t(cs[0])] = done[size_t(cs[1])] = true;
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
        dnnl::deconvolution_forward::desc d(
            dnnl::prop_kind::forward_inference, A::deconvolution_direct,
            memory::desc(sd, kF32, Tag::acdb), any_w, bias_md, memory::desc(od, kF32, Tag::acdb),
            strides, dil, pl, pr);
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
      plan->flops += 2.0 * double(sd[0]) * double(deconv ? Numel(sd) / sd[0] : Numel(od) / od[0]) *
                     double((deconv ? OC : IC) / G) * double(wd[2] * wd[3]);
      const int src = b.As(x, src_md);
      std::vector<std::pair<int, memory>> fixed{
          {DNNL_ARG_WEIGHTS, Weights(int(k), w_md, user_w, op.w.f.data())}};
      if (bias)
        fixed.push_back(
            {DNNL_ARG_BIAS, memory(bias_md, Engine(), const_cast<float*>(op.b.f.data()))});
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
      continue;
    }
    if (auto act = Activation(*this, op); !act.empty()) {
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
      continue;
    }
    if (t == "Add" || t == "Sub" || t == "Mul" || t == "Div") {
      int x = b.Get(op.in[0]), y = b.Get(op.in[1]);
      const Const* cx = FindConst(op.in[0]);
      const Const* cy = FindConst(op.in[1]);
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
        continue;
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
      continue;
    }
    if (t == "PRelu") {
      const int x = b.Get(op.in[0]);
      const Const* s = FindConst(op.in[1]);
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
      continue;
    }
    if (t == "MaxPool" || t == "AveragePool" || t == "GlobalAveragePool") {
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
      continue;
    }
    if (t == "Gemm" || t == "MatMul") {
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
      plan->flops += 2.0 * double(Numel(od)) * double(da.back());
      dnnl::matmul::primitive_desc p(bias >= 0
                                         ? dnnl::matmul::desc(b.Md(a), b.Md(w), b.Md(bias), omd)
                                         : dnnl::matmul::desc(b.Md(a), b.Md(w), omd),
                                     Engine());
      const int o = b.NewVal(omd);
      std::vector<std::pair<int, int>> args{
          {DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, o}};
      if (bias >= 0) args.push_back({DNNL_ARG_BIAS, bias});
      b.Prim(dnnl::matmul(p), args);
      b.Set(op.out[0], o);
      continue;
    }
    if (t == "Softmax") {
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
      continue;
    }
    if (t == "ReduceMean") {
      const int x = b.Plain(b.Get(op.in[0]));
      Dims d = b.D(x), od = d;
      auto axes = AttrInts(n, "axes");
      if (axes.empty())
        for (size_t i = 0; i < d.size(); ++i) axes.push_back(int64_t(i));
      for (auto ax : axes) od[size_t(ax < 0 ? ax + int64_t(d.size()) : ax)] = 1;
      dnnl::reduction::primitive_desc p({A::reduction_mean, b.Md(x), PlainMd(od), 0.f, 0.f},
                                        Engine());
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
      continue;
    }
    if (t == "Reshape" || t == "Flatten" || t == "Squeeze" || t == "Unsqueeze" || t == "Identity" ||
        t == "Dropout") {
      const int x = b.Get(op.in[0]);
      const Dims d = b.D(x);
      Dims od;
      if (t == "Reshape") {
        const Const* s = FindConst(op.in.at(1));
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
        auto axes = IntsInput(*this, op, 1, "axes");
        for (size_t i = 0; i < d.size(); ++i) {
          bool drop =
              axes.empty() ? d[i] == 1 : std::any_of(axes.begin(), axes.end(), [&](int64_t ax) {
                return size_t(ax < 0 ? ax + int64_t(d.size()) : ax) == i;
              });
          if (!drop) od.push_back(d[i]);
        }
      } else if (t == "Unsqueeze") {
        auto axes = IntsInput(*this, op, 1, "axes");
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
      continue;
    }
    if (t == "Transpose") {
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
      continue;
    }
    if (t == "Slice") {
      const int x = b.Plain(b.Get(op.in[0]));
      const Dims d = b.D(x);
      auto starts = IntsInput(*this, op, 1, "starts"), ends = IntsInput(*this, op, 2, "ends");
      auto axes = IntsInput(*this, op, 3, "axes"), steps = IntsInput(*this, op, 4, "steps");
      if (axes.empty())
        for (size_t i = 0; i < starts.size(); ++i) axes.push_back(int64_t(i));
      Dims od = d, off(d.size(), 0);
      for (size_t i = 0; i < starts.size(); ++i) {
        if (!steps.empty() && steps[i] != 1) throw Unsupported("Slice with steps");
        const size_t ax = size_t(axes[i] < 0 ? axes[i] + int64_t(d.size()) : axes[i]);
        auto clampi = [&](int64_t v) {
          return std::clamp<int64_t>(v < 0 ? v + d[ax] : v, 0, d[ax]);
        };
        const int64_t s = clampi(starts[i]), e = clampi(ends[i]);
        off[ax] = s;
        od[ax] = std::max<int64_t>(0, e - s);
      }
      if (Numel(od) == 0) throw Unsupported("an empty Slice");
      const int view = b.View(x, b.Md(x).submemory_desc(od, off));
      b.Set(op.out[0], b.As(view, PlainMd(od)));
      continue;
    }
    if (t == "Pad") {
      const int x = b.Plain(b.Get(op.in[0]));
      const Dims d = b.D(x);
      auto pads = IntsInput(*this, op, 1, "pads");
      float value = AttrFloat(n, "value", 0.f);
      if (op.in.size() > 2 && !op.in[2].empty()) {
        const Const* c = FindConst(op.in[2]);
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
      continue;
    }
    if (t == "Concat") {
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
      for (size_t i = 0; i < xs.size(); ++i)
        args.push_back({DNNL_ARG_MULTIPLE_SRC + int(i), xs[i]});
      b.Prim(dnnl::concat(p), args);
      b.Set(op.out[0], o);
      continue;
    }
    if (t == "Resize") {
      // NCHW or NHWC (the convolutions' format here), computed in that format.
      int x = b.Get(op.in[0]);
      const bool nhwc = b.Md(x) == memory::desc(b.D(x), kF32, Tag::acdb);
      if (!nhwc) x = b.Plain(x);
      const Dims d = b.D(x);
      if (d.size() != 4) throw Unsupported("Resize of a non-4-D tensor");
      const bool opset10 = op.in.size() == 2;
      std::vector<float> scales;
      if (const Const* s = FindConst(op.in.at(opset10 ? 1 : 2)); s) scales = s->f;
      Dims od = d;
      if (scales.size() == 4) {
        for (size_t i = 0; i < 4; ++i) od[i] = int64_t(std::floor(float(d[i]) * scales[i]));
      } else if (op.in.size() > 3 && FindConst(op.in[3])) {
        const Const* s = FindConst(op.in[3]);
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
                        static_cast<float*>(p.M(o).get_data_handle()), nhwc, d, od, sh, sw, linear,
                        ct);
          },
          {x, o});
      b.Set(op.out[0], o);
      continue;
    }
    throw Unsupported("operator " + t);
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

Result<double> OnednnGraph::Flops(const std::vector<int>& shape) {
  try {
    return impl_->Build(Dims(shape.begin(), shape.end()), impl_->graph_outputs)->flops;
  } catch (const std::exception& e) {
    return Internal(std::string("oneDNN runtime: ") + e.what());
  }
}

Result<std::vector<cv::Mat>> OnednnGraph::Run(const cv::Mat& blob,
                                              const std::vector<std::string>& outputs) {
  if (blob.depth() != CV_32F || !blob.isContinuous() || blob.dims < 1)
    return Internal("the oneDNN runtime takes a continuous float blob");
  Dims in_dims(blob.size.p, blob.size.p + blob.dims);
  // Each calling thread gets its own OpenMP team: while another run is in
  // progress (a concurrent request) this one takes one thread, so requests
  // do not multiply the threads on the cores.
  struct Running {
    int before = g_running.fetch_add(1);
    ~Running() { g_running.fetch_sub(1); }
  } running;
  int threads = t_single ? 1 : g_threads.load();
  if (impl_->max_threads == 1 || running.before > 0) threads = 1;
  if (threads > 0) omp_set_num_threads(threads);
  std::string key = std::to_string(omp_get_max_threads()) + ":" + DimsStr(in_dims);
  for (const auto& o : outputs) key += "|" + o;
  std::unique_ptr<Plan> plan;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (size_t i = impl_->free.size(); i-- > 0;)
      if (impl_->free[i].key == key) {
        plan = std::move(impl_->free[i].plan);
        impl_->free.erase(impl_->free.begin() + long(i));
        break;
      }
  }
  std::vector<cv::Mat> result;
  // OpenMP's workers are created on a first parallel region and inherit
  // this thread's signal mask: with SIGINT/SIGTERM/SIGHUP blocked they
  // never take the signals the server waits for (server::Serve).
  sigset_t quiet, old;
  sigemptyset(&quiet);
  sigaddset(&quiet, SIGINT);
  sigaddset(&quiet, SIGTERM);
  sigaddset(&quiet, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &quiet, &old);
  struct Restore {
    sigset_t* mask;
    ~Restore() { pthread_sigmask(SIG_SETMASK, mask, nullptr); }
  } restore{&old};
  try {
    if (!plan) {
      plan = impl_->Build(in_dims, outputs);
      int unknown = 0;
      impl_->max_threads.compare_exchange_strong(unknown,
                                                 plan->flops < kSmallGraphFlops ? 1 : 1 << 20);
    }
    float* in = const_cast<float*>(blob.ptr<float>());
    plan->M(plan->input).set_data_handle(in);
    for (int v : plan->input_views) plan->M(v).set_data_handle(in);
    for (auto& step : plan->steps) step(*plan);
    plan->strm.wait();
    for (int v : plan->outputs) {
      const Dims d = plan->vals[size_t(v)].md.dims();
      std::vector<int> sz(d.begin(), d.end());
      cv::Mat m(int(sz.size()), sz.data(), CV_32F);
      std::memcpy(m.ptr(), plan->M(v).get_data_handle(), size_t(Numel(d)) * sizeof(float));
      result.push_back(m);
    }
    plan->M(plan->input).set_data_handle(DNNL_MEMORY_NONE);
  } catch (const Unsupported& e) {
    return Internal(std::string("not supported by the oneDNN runtime: ") + e.what());
  } catch (const dnnl::error& e) {
    return Internal(std::string("oneDNN: ") + e.what());
  } catch (const std::exception& e) {
    return Internal(std::string("oneDNN runtime: ") + e.what());
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->free.push_back({key, std::move(plan)});
  // As the OpenCV pool: past two idle plans, those for other shapes go.
  constexpr size_t kMaxIdlePlans = 2;
  for (size_t i = 0; impl_->free.size() > kMaxIdlePlans && i + 1 < impl_->free.size();) {
    if (impl_->free[i].key != key)
      impl_->free.erase(impl_->free.begin() + long(i));
    else
      ++i;
  }
  return result;
}

}  // namespace argus::ml
