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
  struct Scored {
    float score;
    int tp;  // 1 TP, 0 FP, -1 ignored
  };
  std::vector<Scored> all;
  int positives = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    const auto& gt = truth[i];
    for (bool b : gt.in_set) positives += b;
    std::vector<Detection> dets = i < detections.size() ? detections[i] : std::vector<Detection>{};
    std::sort(dets.begin(), dets.end(),
              [](const Detection& a, const Detection& b) { return a.score > b.score; });
    std::vector<bool> used(gt.boxes.size(), false);
    for (const auto& d : dets) {
      int best = -1;
      double best_iou = iou_threshold;
      for (size_t g = 0; g < gt.boxes.size(); ++g) {
        if (used[g]) continue;
        double inter = (d.box & gt.boxes[g]).area();
        double uni = d.box.area() + gt.boxes[g].area() - inter;
        double iou = uni > 0 ? inter / uni : 0;
        if (iou >= best_iou) best_iou = iou, best = int(g);
      }
      if (best < 0) {
        all.push_back({d.score, 0});
      } else {
        used[best] = true;
        all.push_back({d.score, gt.in_set[best] ? 1 : -1});
      }
    }
  }
  if (positives == 0) return 0;
  std::sort(all.begin(), all.end(), [](const Scored& a, const Scored& b) { return a.score > b.score; });
  std::vector<double> recall, precision;
  int tp = 0, fp = 0;
  for (const auto& s : all) {
    if (s.tp < 0) continue;
    (s.tp ? tp : fp)++;
    recall.push_back(double(tp) / positives);
    precision.push_back(double(tp) / (tp + fp));
  }
  // Monotone precision envelope, then the area under the step curve.
  for (int i = int(precision.size()) - 2; i >= 0; --i)
    precision[i] = std::max(precision[i], precision[i + 1]);
  double ap = 0, prev_recall = 0;
  for (size_t i = 0; i < recall.size(); ++i) {
    ap += (recall[i] - prev_recall) * precision[i];
    prev_recall = recall[i];
  }
  return ap;
}

}  // namespace argus::eval
