# Module include roots: the headers of src/<module> are reachable as
# "<module>/..." only through build/include/<module> (a symbolic link to
# src/<module>), which is on the include path of the module's own target and
# of the targets that link it. A target that does not link a module cannot
# include its headers. tools/check_layers.py holds the finer rules.
function(argus_module_headers target module)
  set(root ${CMAKE_BINARY_DIR}/include/${module})
  file(MAKE_DIRECTORY ${root})
  file(CREATE_LINK ${CMAKE_SOURCE_DIR}/src/${module} ${root}/${module} SYMBOLIC)
  target_include_directories(${target} PUBLIC ${root})
endfunction()
