// ml::OnednnGraph: parsing an ONNX graph, folding constants into the
// convolutions, and running a plan (onednn_plan.cpp builds plans).
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
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include "ml/onednn_internal.h"

namespace argus::ml {
namespace onednn {

dnnl::engine& Engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

std::string DimsStr(const Dims& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
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
                              std::vector<int64_t> def) {
  const auto* a = FindAttr(n, name);
  if (!a) return def;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

}  // namespace onednn

using namespace onednn;  // NOLINT(google-build-using-namespace)

namespace {

std::atomic<int> g_threads{0};
std::atomic<int> g_running{0};  // oneDNN runs in progress, all graphs
constexpr double kSmallGraphFlops = 0.5e9;
thread_local bool t_single = false;

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

void OnednnGraph::RunOnOneThread() { impl_->max_threads = 1; }

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
  const int plan_threads = omp_get_max_threads();
  std::string key = std::to_string(plan_threads) + ":" + DimsStr(in_dims);
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
  bool probing = false;  // this run's plan told the graph's size
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
      probing = impl_->max_threads.compare_exchange_strong(
          unknown, plan->flops < kSmallGraphFlops ? 1 : 1 << 20);
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
  // The plan that told the graph's size is kept only when later runs take
  // its thread count by default (one for a small graph, else more): the
  // other kind would only hold memory (ml::Model probes on one thread).
  if (probing && (plan_threads == 1) != (impl_->max_threads.load() == 1)) return result;
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
