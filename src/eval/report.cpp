#include "eval/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace argus::eval {
namespace {

using nlohmann::json;

const char* kColors[4] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a"};
const char* kThresholds[4] = {"80", "90", "95", "99"};

std::string Esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else if (c == '"')
      o += "&quot;";
    else
      o += c;
  }
  return o;
}

std::string Fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

double Num(const json& v) { return v.is_number() ? v.get<double>() : 0; }

constexpr int kLabelW = 130, kPlotW = 460, kRowH = 22, kTop = 34, kRight = 110;

std::string Header(const std::string& title, int rows, int* height) {
  *height = kTop + rows * kRowH + 36;
  std::ostringstream s;
  s << "<svg xmlns='http://www.w3.org/2000/svg' width='" << kLabelW + kPlotW + kRight
    << "' height='" << *height << "' font-family='sans-serif' font-size='12'>"
    << "<text x='4' y='16' font-weight='bold' font-size='13'>" << Esc(title) << "</text>";
  return s.str();
}

// FMR per group at the four Similarity thresholds, x on log10 from 1e-6 to
// 1. A group with no false match is drawn as an open marker at the left
// edge ("0"); a group without impostor pairs is labelled "no pairs".
std::string FmrChart(const std::vector<json>& groups, const std::string& title) {
  int h;
  std::ostringstream s;
  s << Header(title, int(groups.size()), &h);
  const double lo = -6, hi = 0;
  auto x = [&](double v) { return kLabelW + (std::log10(v) - lo) / (hi - lo) * kPlotW; };
  const int bottom = kTop + int(groups.size()) * kRowH;
  for (int e = -6; e <= 0; ++e) {
    const double xx = x(std::pow(10.0, e));
    s << "<line x1='" << xx << "' y1='" << kTop - 4 << "' x2='" << xx << "' y2='" << bottom
      << "' stroke='#ddd'/><text x='" << xx << "' y='" << bottom + 14
      << "' text-anchor='middle' fill='#555'>1e" << e << "</text>";
  }
  s << "<text x='" << kLabelW + kPlotW / 2 << "' y='" << bottom + 30
    << "' text-anchor='middle' fill='#555'>false match rate (log scale); open marker at left = "
       "no false match</text>";
  for (int t = 0; t < 4; ++t) {
    s << "<circle cx='" << kLabelW + 10 + t * 95 << "' cy='26' r='4' fill='" << kColors[t]
      << "'/><text x='" << kLabelW + 18 + t * 95 << "' y='30'>Similarity " << kThresholds[t]
      << "</text>";
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    const json& g = groups[i];
    const int y = kTop + int(i) * kRowH + kRowH / 2;
    if (i % 2 == 0)
      s << "<rect x='0' y='" << y - kRowH / 2 << "' width='" << kLabelW + kPlotW << "' height='"
        << kRowH << "' fill='#f6f6f6'/>";
    s << "<text x='4' y='" << y + 4 << "'>" << Esc(g["name"].get<std::string>()) << "</text>";
    if (g["impostor_pairs"].get<long long>() == 0) {
      s << "<text x='" << kLabelW + 4 << "' y='" << y + 4 << "' fill='#999'>no pairs</text>";
      continue;
    }
    for (int t = 0; t < 4; ++t) {
      const double f = Num(g["fmr"][kThresholds[t]]);
      const double yy = y - 6 + t * 4;
      if (f <= 0) {
        s << "<circle cx='" << kLabelW + 4 << "' cy='" << yy << "' r='3' fill='none' stroke='"
          << kColors[t] << "'/>";
      } else {
        s << "<circle cx='" << x(std::max(f, 1e-6)) << "' cy='" << yy << "' r='4' fill='"
          << kColors[t] << "'><title>" << Esc(g["name"].get<std::string>()) << " FMR@"
          << kThresholds[t] << " = " << Fmt("%.3g", f) << "</title></circle>";
      }
    }
    s << "<text x='" << kLabelW + kPlotW + 6 << "' y='" << y + 4 << "' fill='#555'>"
      << g["impostor_pairs"].get<long long>() << " pairs</text>";
  }
  s << "</svg>";
  return s.str();
}

// Horizontal bars per group for one or two series on a linear axis.
std::string BarChart(const std::vector<json>& groups, const std::string& title,
                     const std::vector<std::pair<std::string, std::string>>& series,
                     const std::string& unit, double scale) {
  double vmax = 0;
  for (const auto& g : groups)
    for (const auto& [key, _] : series) vmax = std::max(vmax, Num(g[key]) * scale);
  // Round the axis up to 1, 2, 2.5 or 5 times a power of ten.
  if (vmax <= 0) {
    vmax = 1;
  } else {
    const double e = std::pow(10.0, std::floor(std::log10(vmax)));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
      if (m * e >= vmax) {
        vmax = m * e;
        break;
      }
  }
  int h;
  std::ostringstream s;
  s << Header(title, int(groups.size()), &h);
  const int bottom = kTop + int(groups.size()) * kRowH;
  for (int k = 0; k <= 4; ++k) {
    const double v = vmax * k / 4, xx = kLabelW + kPlotW * k / 4.0;
    s << "<line x1='" << xx << "' y1='" << kTop - 4 << "' x2='" << xx << "' y2='" << bottom
      << "' stroke='#ddd'/><text x='" << xx << "' y='" << bottom + 14
      << "' text-anchor='middle' fill='#555'>" << Fmt("%.3g", v) << "</text>";
  }
  s << "<text x='" << kLabelW + kPlotW / 2 << "' y='" << bottom + 30
    << "' text-anchor='middle' fill='#555'>" << Esc(unit) << "</text>";
  for (size_t k = 0; k < series.size(); ++k) {
    s << "<rect x='" << kLabelW + 10 + k * 170 << "' y='20' width='10' height='10' fill='"
      << kColors[k] << "'/><text x='" << kLabelW + 24 + k * 170 << "' y='30'>"
      << Esc(series[k].second) << "</text>";
  }
  const double bar = (kRowH - 6.0) / series.size();
  for (size_t i = 0; i < groups.size(); ++i) {
    const json& g = groups[i];
    const int y0 = kTop + int(i) * kRowH;
    s << "<text x='4' y='" << y0 + kRowH / 2 + 4 << "'>" << Esc(g["name"].get<std::string>())
      << "</text>";
    std::string values;
    for (size_t k = 0; k < series.size(); ++k) {
      const json& v = g[series[k].first];
      const double val = Num(v) * scale;
      s << "<rect x='" << kLabelW << "' y='" << y0 + 3 + k * bar << "' width='"
        << kPlotW * val / vmax << "' height='" << bar - 1 << "' fill='" << kColors[k] << "'><title>"
        << Esc(series[k].second) << " " << Fmt("%.3g", val) << "</title></rect>";
      values += (k ? " / " : "") + (v.is_number() ? Fmt("%.3g", val) : std::string("n/a"));
    }
    s << "<text x='" << kLabelW + kPlotW + 6 << "' y='" << y0 + kRowH / 2 + 4 << "' fill='#555'>"
      << values << "</text>";
  }
  s << "</svg>";
  return s.str();
}

std::string RatioText(const json& r) {
  std::string out;
  for (const char* t : kThresholds) {
    out += std::string(out.empty() ? "" : ", ") + "Similarity " + t + ": " +
           (r[t].is_number() ? Fmt("%.2f", r[t].get<double>())
                             : std::string("undefined (best group had no false match)"));
  }
  return out;
}

std::string Pct(const json& v) { return v.is_number() ? Fmt("%.2f%%", 100 * Num(v)) : "n/a"; }

}  // namespace

std::string DemographicsHtml(const json& r) {
  std::vector<json> gr, ages;
  for (const auto& g : r["groups"]) (g["kind"] == "gender_race" ? gr : ages).push_back(g);
  std::ostringstream h;
  h << "<!DOCTYPE html><html><head><meta charset='utf-8'><title>argus demographic report</title>"
    << "<style>body{font-family:sans-serif;max-width:760px;margin:20px auto;color:#222}"
    << "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:3px 6px;"
    << "text-align:right}td:first-child,th:first-child{text-align:left}svg{display:block;"
    << "margin:12px 0}</style></head><body>";
  h << "<h1>Demographic differentials</h1><p>" << r.value("images", 0) << " labelled images"
    << (r.value("limit", 0) ? " (a spread sample, --limit)" : "") << "; face model "
    << Esc(r.value("face_model_version", std::string("?"))) << ", detector "
    << Esc(r.value("detector", std::string("?"))) << ". Overall: failure to detect "
    << Pct(r["failure_to_detect"]) << ", gender error " << Pct(r["gender_error"]) << ", age MAE "
    << (r["age_mae"].is_number() ? Fmt("%.1f years", Num(r["age_mae"])) : "n/a")
    << ".</p><p>Impostor pairs: " << Esc(r.value("pairs_rule", std::string())) << ".</p>";
  h << "<p><b>Worst / best FMR ratio, gender &times; race:</b> "
    << RatioText(r["fmr_ratio_worst_best"]) << "<br><b>age bands:</b> "
    << RatioText(r["fmr_ratio_worst_best_age"]) << "</p>";
  std::vector<std::pair<std::string, std::string>> err = {
      {"gender_error", "gender error %"}, {"failure_to_detect", "failure to detect %"}};
  h << FmrChart(gr, "False match rate per group (gender x race)")
    << FmrChart(ages, "False match rate per age band")
    << BarChart(gr, "Errors per group (gender x race)", err, "percent", 100)
    << BarChart(ages, "Errors per age band", err, "percent", 100)
    << BarChart(gr, "Age MAE per group (gender x race)", {{"age_mae", "age MAE"}}, "years", 1)
    << BarChart(ages, "Age MAE per age band", {{"age_mae", "age MAE"}}, "years", 1);
  h << "<h2>All figures</h2><table><tr><th>group</th><th>images</th><th>no face</th>"
    << "<th>pairs</th><th>FMR@80</th><th>FMR@90</th><th>FMR@95</th><th>FMR@99</th>"
    << "<th>gender err</th><th>age MAE</th></tr>";
  for (const auto& g : r["groups"]) {
    h << "<tr><td>" << Esc(g["name"].get<std::string>()) << "</td><td>" << g["images"]
      << "</td><td>" << g["no_face"] << "</td><td>" << g["impostor_pairs"] << "</td>";
    for (const char* t : kThresholds)
      h << "<td>" << (g["fmr"][t].is_number() ? Fmt("%.2e", Num(g["fmr"][t])) : "n/a") << "</td>";
    h << "<td>" << Pct(g["gender_error"]) << "</td><td>"
      << (g["age_mae"].is_number() ? Fmt("%.1f", Num(g["age_mae"])) : "n/a") << "</td></tr>";
  }
  h << "</table></body></html>\n";
  return h.str();
}

Status WriteDemographicsReport(const json& report, const std::string& out_dir) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return InvalidParameter("cannot create " + out_dir + ": " + ec.message());
  for (const auto& [name, text] :
       {std::pair{std::string("report.json"), report.dump(2) + "\n"},
        std::pair{std::string("report.html"), DemographicsHtml(report)}}) {
    std::ofstream out(out_dir + "/" + name);
    out << text;
    if (!out) return InvalidParameter("cannot write " + out_dir + "/" + name);
  }
  return Status();
}

}  // namespace argus::eval
