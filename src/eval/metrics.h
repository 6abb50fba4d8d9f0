#pragma once
// Evaluation metrics, free of models and I/O, so they can be checked on
// small hand-made score sets.
#include <opencv2/core/types.hpp>
#include <vector>

namespace argus::eval {

// --- Verification (LFW protocol) -------------------------------------------
struct PairScore {
  double score;  // higher = more similar; use -infinity for a failed pair
  bool same;
  int fold;  // 0..folds-1
};

struct VerificationMetrics {
  double accuracy = 0, accuracy_std = 0;  // k-fold: threshold from k-1 folds, tested on the rest
  double eer = 0;                         // equal error rate
  double tar_at_far_1e2 = 0, tar_at_far_1e3 = 0, tar_at_far_1e4 = 0;
  int pairs = 0;
};

VerificationMetrics ComputeVerification(const std::vector<PairScore>& pairs, int folds);

// Accuracy of predicting same = (score >= threshold).
double AccuracyAt(const std::vector<PairScore>& pairs, double threshold);
// The threshold maximising accuracy on the given pairs.
double BestThreshold(const std::vector<PairScore>& pairs);
// True accept rate at the largest threshold whose false accept rate <= far.
double TarAtFar(const std::vector<PairScore>& pairs, double far);
double EqualErrorRate(const std::vector<PairScore>& pairs);

// False match rate / false non-match rate at a threshold.
double FalseMatchRate(const std::vector<PairScore>& pairs, double threshold);
double FalseNonMatchRate(const std::vector<PairScore>& pairs, double threshold);

// --- Detection (WIDER FACE protocol) ---------------------------------------
struct Detection {
  cv::Rect2f box;
  float score;
};

struct ImageTruth {
  std::vector<cv::Rect2f> boxes;
  std::vector<bool> in_set;  // false: ignored (matching it is neither TP nor FP)
};

// Average precision as the official WIDER FACE evaluation computes it
// (widerface_evaluate/evaluation.py): normalised scores, each detection
// matched to its highest-IoU box (+1 pixel convention), detections on boxes
// outside the set dropped, PR at 1000 thresholds, VOC-style area.
double AveragePrecision(const std::vector<ImageTruth>& truth,
                        const std::vector<std::vector<Detection>>& detections,
                        double iou_threshold = 0.5);

}  // namespace argus::eval
