#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace argus::eval {

double AccuracyAt(const std::vector<PairScore>& pairs, double threshold) {
  if (pairs.empty()) return 0;
  int correct = 0;
  for (const auto& p : pairs) correct += ((p.score >= threshold) == p.same);
  return double(correct) / pairs.size();
}

double BestThreshold(const std::vector<PairScore>& pairs) {
  std::vector<double> s;
  for (const auto& p : pairs)
    if (std::isfinite(p.score)) s.push_back(p.score);
  std::sort(s.begin(), s.end());
  s.erase(std::unique(s.begin(), s.end()), s.end());
  double best_t = s.empty() ? 0 : s.front(), best_acc = -1;
  // Candidates: midpoints between consecutive distinct scores, and the ends.
  std::vector<double> cand;
  if (!s.empty()) cand.push_back(s.front() - 1e-9), cand.push_back(s.back() + 1e-9);
  for (size_t i = 0; i + 1 < s.size(); ++i) cand.push_back((s[i] + s[i + 1]) / 2);
  for (double t : cand) {
    double acc = AccuracyAt(pairs, t);
    if (acc > best_acc) best_acc = acc, best_t = t;
  }
  return best_t;
}

double FalseMatchRate(const std::vector<PairScore>& pairs, double threshold) {
  int n = 0, fm = 0;
  for (const auto& p : pairs)
    if (!p.same) ++n, fm += p.score >= threshold;
  return n ? double(fm) / n : 0;
}

double FalseNonMatchRate(const std::vector<PairScore>& pairs, double threshold) {
  int n = 0, fnm = 0;
  for (const auto& p : pairs)
    if (p.same) ++n, fnm += !(p.score >= threshold);
  return n ? double(fnm) / n : 0;
}

double TarAtFar(const std::vector<PairScore>& pairs, double far) {
  std::vector<double> impostor;
  int genuine = 0;
  for (const auto& p : pairs) {
    if (!p.same) impostor.push_back(p.score);
    genuine += p.same;
  }
  if (impostor.empty() || genuine == 0) return 0;
  std::sort(impostor.begin(), impostor.end(), std::greater<>());
  // Accept scores strictly above the (allowed+1)-th highest impostor score:
  // at most `allowed` impostors pass, so the false accept rate is <= far.
  size_t allowed = size_t(std::floor(far * impostor.size()));
  if (allowed >= impostor.size()) return 1.0;
  const double t = impostor[allowed];
  int accepted = 0;
  for (const auto& p : pairs) accepted += p.same && p.score > t;
  return double(accepted) / genuine;
}

double EqualErrorRate(const std::vector<PairScore>& pairs) {
  std::vector<double> s;
  for (const auto& p : pairs) s.push_back(p.score);
  std::sort(s.begin(), s.end());
  double best = 1, best_gap = 2;
  for (double t : s) {
    double fmr = FalseMatchRate(pairs, t), fnmr = FalseNonMatchRate(pairs, t);
    double gap = std::abs(fmr - fnmr);
    if (gap < best_gap) best_gap = gap, best = (fmr + fnmr) / 2;
  }
  return best;
}

VerificationMetrics ComputeVerification(const std::vector<PairScore>& pairs, int folds) {
  VerificationMetrics m;
  m.pairs = int(pairs.size());
  std::vector<double> accs;
  for (int k = 0; k < folds; ++k) {
    std::vector<PairScore> train, test;
    for (const auto& p : pairs) (p.fold == k ? test : train).push_back(p);
    if (test.empty()) continue;
    accs.push_back(AccuracyAt(test, BestThreshold(train)));
  }
  double mean = 0, var = 0;
  for (double a : accs) mean += a;
  mean = accs.empty() ? 0 : mean / accs.size();
  for (double a : accs) var += (a - mean) * (a - mean);
  m.accuracy = mean;
  m.accuracy_std = accs.size() > 1 ? std::sqrt(var / (accs.size() - 1)) : 0;
  m.eer = EqualErrorRate(pairs);
  m.tar_at_far_1e2 = TarAtFar(pairs, 1e-2);
  m.tar_at_far_1e3 = TarAtFar(pairs, 1e-3);
  m.tar_at_far_1e4 = TarAtFar(pairs, 1e-4);
  return m;
}

double AveragePrecision(const std::vector<ImageTruth>& truth,
                        const std::vector<std::vector<Detection>>& detections,
                        double iou_threshold) {
  // The official WIDER FACE evaluation (widerface_evaluate/evaluation.py):
  // scores normalised to 0..1 over all images; per image, each detection
  // in descending score takes the ground-truth box of highest IoU (pixel
  // boxes with the +1 convention); if that box is outside the set the
  // detection is dropped, else it recalls the box (once); the PR curve is
  // read at 1000 score thresholds and its VOC-style area is the AP.
  constexpr int kThresholds = 1000;
  float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
  for (const auto& dets : detections)
    for (const auto& d : dets) lo = std::min(lo, d.score), hi = std::max(hi, d.score);
  const float range = hi > lo ? hi - lo : 1.f;
  std::vector<double> proposals(kThresholds, 0), recalled(kThresholds, 0);
  int positives = 0;
  auto overlap = [](const cv::Rect2f& a, const cv::Rect2f& b) {
    double iw = std::min(a.x + a.width, b.x + b.width) - std::max(a.x, b.x) + 1;
    double ih = std::min(a.y + a.height, b.y + b.height) - std::max(a.y, b.y) + 1;
    if (iw <= 0 || ih <= 0) return 0.0;
    double inter = iw * ih;
    return inter /
           ((a.width + 1.0) * (a.height + 1.0) + (b.width + 1.0) * (b.height + 1.0) - inter);
  };
  for (size_t i = 0; i < truth.size(); ++i) {
    const auto& gt = truth[i];
    const int in_set = int(std::count(gt.in_set.begin(), gt.in_set.end(), true));
    positives += in_set;
    if (in_set == 0 || i >= detections.size() || detections[i].empty()) continue;
    std::vector<Detection> dets = detections[i];
    std::stable_sort(dets.begin(), dets.end(),
                     [](const Detection& a, const Detection& b) { return a.score > b.score; });
    std::vector<int> recall(gt.boxes.size(), 0);  // 1 recalled, -1 ignored box hit
    std::vector<int> proposal(dets.size(), 1);    // -1: dropped (hit an ignored box)
    std::vector<int> recalled_after(dets.size(), 0);
    int n_recalled = 0;
    for (size_t h = 0; h < dets.size(); ++h) {
      int best = -1;
      double best_iou = -1;
      for (size_t g = 0; g < gt.boxes.size(); ++g) {
        double iou = overlap(dets[h].box, gt.boxes[g]);
        if (iou > best_iou) best_iou = iou, best = int(g);
      }
      if (best >= 0 && best_iou >= iou_threshold) {
        if (!gt.in_set[best]) {
          if (recall[best] == 1) --n_recalled;
          recall[best] = -1;
          proposal[h] = -1;
        } else if (recall[best] == 0) {
          recall[best] = 1;
          ++n_recalled;
        }
      }
      recalled_after[h] = n_recalled;
    }
    for (int t = 0; t < kThresholds; ++t) {
      const double th = 1.0 - double(t + 1) / kThresholds;
      int last = -1;
      for (size_t h = 0; h < dets.size(); ++h)
        if ((dets[h].score - lo) / range >= th) last = int(h);
      if (last < 0) continue;
      proposals[t] += double(std::count(proposal.begin(), proposal.begin() + last + 1, 1));
      recalled[t] += recalled_after[last];
    }
  }
  if (positives == 0) return 0;
  std::vector<double> rec(kThresholds + 2, 0), prec(kThresholds + 2, 0);
  rec[kThresholds + 1] = 1;
  for (int t = 0; t < kThresholds; ++t) {
    prec[t + 1] = proposals[t] > 0 ? recalled[t] / proposals[t] : 0;
    rec[t + 1] = recalled[t] / positives;
  }
  for (int i = kThresholds + 1; i > 0; --i) prec[i - 1] = std::max(prec[i - 1], prec[i]);
  double ap = 0;
  for (int i = 0; i < kThresholds + 1; ++i)
    if (rec[i + 1] != rec[i]) ap += (rec[i + 1] - rec[i]) * prec[i + 1];
  return ap;
}

}  // namespace argus::eval
