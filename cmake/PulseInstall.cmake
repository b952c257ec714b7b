# SPDX-License-Identifier: MIT
# Install the libraries, public headers and a CMake package so that find_package(Pulse) works.
include(CMakePackageConfigHelpers)
get_property(_pulse_targets GLOBAL PROPERTY PULSE_EXPORTED_TARGETS)
install(TARGETS ${_pulse_targets} EXPORT PulseTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
if(TARGET pulse)
  install(TARGETS pulse RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(DIRECTORY include/pulse DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/pulse/config.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/pulse)
install(EXPORT PulseTargets NAMESPACE pulse:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Pulse)
configure_package_config_file(cmake/PulseConfig.cmake.in
  ${PROJECT_BINARY_DIR}/PulseConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Pulse)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/PulseConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/PulseConfig.cmake ${PROJECT_BINARY_DIR}/PulseConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Pulse)
