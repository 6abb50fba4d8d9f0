// argus: Rekognition-compatible image analysis server and its tools.
#include "cli/commands.h"
#include "ml/onednn_graph.h"

int main(int argc, char** argv) {
  argus::ml::OnednnGraph::PreferPassiveWaiting(argv);
  return argus::cli::RunCommandLine(argc, argv);
}
