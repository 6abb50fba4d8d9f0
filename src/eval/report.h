#pragma once
// Evaluation reports as files: report.json and a self-contained
// report.html (inline SVG charts, no external assets).
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"

namespace argus::eval {

// The HTML page for a demographics result (AggregateDemographics' object):
// FMR per group on a log scale, gender error and failure-to-detect per
// group, age MAE per group, and a table of every figure.
std::string DemographicsHtml(const nlohmann::json& report);

// Writes out_dir/report.json and out_dir/report.html (creating out_dir).
Status WriteDemographicsReport(const nlohmann::json& report, const std::string& out_dir);

}  // namespace argus::eval
