#pragma once
// The internals of ml::OnednnGraph, shared by its three files:
//   onednn_graph.cpp  parsing, constant folding, Run and the thread policy;
//   onednn_plan.cpp   a plan per input shape: the Builder, convolutions
//                     with their fused post-ops, buffer assignment;
//   onednn_ops.cpp    every other operator, one builder function each.
// Not part of argus_ml's interface: include ml/onednn_graph.h instead.
#include <onnx/onnx_pb.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <oneapi/dnnl/dnnl.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ml/onednn_graph.h"

namespace argus::ml {
namespace onednn {

using dnnl::memory;
using Dims = memory::dims;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;

dnnl::engine& Engine();

// An operator or attribute this runtime does not implement.
struct Unsupported : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline int64_t Numel(const Dims& d) {
  return std::accumulate(d.begin(), d.end(), int64_t{1}, std::multiplies<int64_t>());
}

inline memory::desc PlainMd(const Dims& d) {
  Dims strides(d.size(), 1);
  for (int i = int(d.size()) - 2; i >= 0; --i)
    strides[size_t(i)] = strides[size_t(i) + 1] * d[size_t(i) + 1];
  return memory::desc(d, kF32, strides);
}

inline bool IsPlain(const memory::desc& md) { return md == PlainMd(md.dims()); }

std::string DimsStr(const Dims& d);

// A constant tensor: an initializer or a Constant node's value.
struct Const {
  Dims dims;
  std::vector<float> f;    // float data (also int data converted)
  std::vector<int64_t> i;  // integer data (also float data converted)
};

const onnx::AttributeProto* FindAttr(const onnx::NodeProto& n, const std::string& name);
int64_t AttrInt(const onnx::NodeProto& n, const std::string& name, int64_t def);
float AttrFloat(const onnx::NodeProto& n, const std::string& name, float def);
std::string AttrStr(const onnx::NodeProto& n, const std::string& name, const std::string& def);
std::vector<int64_t> AttrInts(const onnx::NodeProto& n, const std::string& name,
                              std::vector<int64_t> def = {});

// One node after constant folding. A Conv carries its folded weights.
struct Op {
  onnx::NodeProto node;
  std::string type;
  std::vector<std::string> in, out;
  Const w, b;  // Conv / ConvTranspose: weights and bias (b empty: none)
};

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

}  // namespace onednn

struct OnednnGraph::Impl {
  std::map<std::string, onednn::Const> consts;
  std::vector<onednn::Op> ops;
  std::string input;
  std::vector<std::string> graph_outputs;
  std::map<std::string, std::vector<int>> consumers;  // value name -> op indices

  // Weights reordered into a primitive's format, shared by all plans.
  std::mutex wmu;
  std::map<std::pair<int, std::string>, dnnl::memory> wcache;

  // Threads a run may use: 1 for a graph whose first plan has under
  // kSmallGraphFlops (thread start-up and barriers cost more than they
  // save there), else unbounded (0: no plan built yet).
  std::atomic<int> max_threads{0};

  std::mutex mu;
  struct Pooled {
    std::string key;
    std::unique_ptr<onednn::Plan> plan;
  };
  std::vector<Pooled> free;

  void Fold();
  // Builds the steps and buffers of one input shape (onednn_plan.cpp).
  std::unique_ptr<onednn::Plan> Build(const onednn::Dims& in_dims,
                                      const std::vector<std::string>& outputs);
  const onednn::Const* FindConst(const std::string& name) const {
    auto it = consts.find(name);
    return it == consts.end() ? nullptr : &it->second;
  }
  dnnl::memory Weights(int op, const dnnl::memory::desc& want, const dnnl::memory::desc& user,
                       const float* data);
};

namespace onednn {

// Builds a plan's steps for one input shape.
class Builder {
 public:
  Builder(OnednnGraph::Impl& g, Plan& p, const std::vector<std::string>& outputs)
      : g_(g), p_(p), wanted_(outputs.begin(), outputs.end()), done_(g.ops.size(), false) {}

  // Descriptors are taken by value: a caller's may be another value's
  // (Md()), which the push_back below can move.
  int NewVal(memory::desc md) {
    p_.vals.push_back({});
    p_.vals.back().md = std::move(md);
    p_.vals.back().def = int(p_.steps.size());
    return int(p_.vals.size()) - 1;
  }
  int View(int root, memory::desc md) {
    int v = NewVal(std::move(md));
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
  int As(int v, memory::desc want) {
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

  // Readers of a value: the ops that take it, plus one if it is an output.
  int Uses(const std::string& name) const {
    auto it = g_.consumers.find(name);
    return (it == g_.consumers.end() ? 0 : int(it->second.size())) + int(wanted_.count(name));
  }
  // Marks op k as built into an earlier one (a fused post-op).
  void Absorb(int k) { done_[size_t(k)] = true; }
  bool Absorbed(size_t k) const { return done_[k]; }

  OnednnGraph::Impl& g_;
  Plan& p_;

 private:
  std::set<std::string> wanted_;
  std::vector<bool> done_;
  std::map<std::string, int> named_;
  std::vector<std::pair<int, int>> converted_;
};

struct Elt {
  dnnl::algorithm alg;
  float alpha, beta;
};

// The eltwise chain a single-input activation op is, or empty.
std::vector<Elt> Activation(const OnednnGraph::Impl& g, const Op& op);

// Builds op number `k` of the graph into the plan (onednn_ops.cpp; the
// convolutions are in onednn_plan.cpp). Throws Unsupported for an operator
// or attribute it does not implement.
void BuildOp(Builder& b, size_t k);
void BuildConv(Builder& b, size_t k);

}  // namespace onednn
}  // namespace argus::ml
