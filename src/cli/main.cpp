// argus: Rekognition-compatible image analysis server and its tools.
#include "cli/commands.h"

int main(int argc, char** argv) { return argus::cli::RunCommandLine(argc, argv); }
