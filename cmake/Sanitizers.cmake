# ARGUS_SANITIZE=address,undefined or =thread instruments every target of
# the tree (make test-sanitize builds build-asan/ and build-tsan/ this way).
# Errors halt the program; the suppressions for uninstrumented libraries are
# in tests/sanitize/.
set(ARGUS_SANITIZE "" CACHE STRING "Sanitizers for the whole tree: address,undefined or thread")
if(ARGUS_SANITIZE)
  add_compile_options(-fsanitize=${ARGUS_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${ARGUS_SANITIZE})
endif()
