# Writes OUT: a C++ file defining argus::ml::kManifestParts, one JSON text per
# models/*.json part, so the binary carries the manifest it was built with.
string(REPLACE "|" ";" PARTS "${PARTS}")
set(body "// Generated from models/*.json by cmake/embed_manifest.cmake.\n#include <string_view>\n#include <vector>\nnamespace argus::ml {\nextern const std::vector<std::string_view> kManifestParts = {\n")
foreach(part ${PARTS})
  file(READ ${part} text)
  string(APPEND body "R\"argus_manifest(${text})argus_manifest\",\n")
endforeach()
string(APPEND body "};\n}  // namespace argus::ml\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
