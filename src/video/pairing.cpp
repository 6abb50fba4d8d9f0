// Which body a face belongs to, for person tracking (analysis_util.h).
#include "video/analysis_util.h"

namespace argus::video::internal {
namespace {

// The body (index into `bodies`) holding a face: the smallest free body
// whose upper half (or, with `anywhere`, whose box) holds the face's centre
// and is not much narrower than the face; -1 when none does.
int BodyOfFace(const std::vector<cv::Rect2f>& bodies, const cv::Rect2f& face,
               const std::vector<bool>& taken, bool anywhere) {
  const cv::Point2f c(face.x + face.width / 2, face.y + face.height / 2);
  int best = -1;
  for (size_t i = 0; i < bodies.size(); ++i) {
    const cv::Rect2f& b = bodies[i];
    if (taken[i] || !b.contains(c)) continue;
    if (!anywhere && c.y > b.y + b.height * 0.5f) continue;
    if (face.width > b.width * 1.2f) continue;
    if (best < 0 || b.area() < bodies[best].area()) best = int(i);
  }
  return best;
}

}  // namespace

cv::Rect2f BodyFromFace(const cv::Rect2f& f, const cv::Size& size) {
  cv::Rect2f b(f.x - f.width, f.y - f.height * 0.3f, f.width * 3, f.height * 7);
  return b & cv::Rect2f(0, 0, float(size.width), float(size.height));
}

std::vector<int> FaceBodies(const std::vector<cv::Rect2f>& bodies,
                            const std::vector<cv::Rect2f>& faces) {
  std::vector<bool> taken(bodies.size(), false);
  std::vector<int> face_body(faces.size(), -1);
  // First the usual place: the face in the upper half of its body.
  for (size_t f = 0; f < faces.size(); ++f) {
    face_body[f] = BodyOfFace(bodies, faces[f], taken, /*anywhere=*/false);
    if (face_body[f] >= 0) taken[size_t(face_body[f])] = true;
  }
  // Then a face lower in a body that has none (a person bending or turning,
  // a close-up whose box runs past the frame): that person's, not a new one.
  for (size_t f = 0; f < faces.size(); ++f) {
    if (face_body[f] >= 0) continue;
    face_body[f] = BodyOfFace(bodies, faces[f], taken, /*anywhere=*/true);
    if (face_body[f] >= 0) taken[size_t(face_body[f])] = true;
  }
  return face_body;
}

}  // namespace argus::video::internal
