# SPDX-License-Identifier: MIT
# Install the public libraries, headers, the `pulse` binary and a CMake package, so that a user's
# project can do find_package(Pulse) and link pulse::core, pulse::ops, pulse::io.
# Included last by the top-level CMakeLists.txt, after every target exists.
include(CMakePackageConfigHelpers)

set(PULSE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/Pulse)

# Libraries that exist only to build the `pulse` binary (the CLI's config parser uses toml++;
# `pulse test`'s runner; the Parquet sink links Arrow, possibly from a Python wheel) are not part
# of the package.
set(PULSE_INTERNAL_TARGETS pulse_cli pulse_golden pulse_io_parquet)
# Their public headers are not installed either.
set(PULSE_INTERNAL_HEADERS io/parquet.h)

get_property(_pulse_all GLOBAL PROPERTY PULSE_EXPORTED_TARGETS)
set(_pulse_targets "")
foreach(t IN LISTS _pulse_all)
  if(NOT t IN_LIST PULSE_INTERNAL_TARGETS)
    list(APPEND _pulse_targets ${t})
  endif()
endforeach()

# Packages a consumer must find for the exported targets. The libraries are static, so even
# their PRIVATE dependencies (simdjson, fmt, ...) end up on the consumer's link line.
# An imported target Ns::name is assumed to come from find_package(Ns) (Threads, simdjson, fmt,
# RocksDB, Arrow, Parquet, ...). A pkg-config target PkgConfig::X must say which module it is:
#   set_property(TARGET PkgConfig::X PROPERTY PULSE_PKG_CONFIG_MODULE "rdkafka")
set(_pulse_find_deps "")
foreach(t IN LISTS _pulse_targets)
  # Pulse's headers use C++20, so consumers compile with at least that.
  target_compile_features(${t} INTERFACE cxx_std_20)
  get_target_property(_libs ${t} LINK_LIBRARIES)
  get_target_property(_ilibs ${t} INTERFACE_LINK_LIBRARIES)
  foreach(lib IN LISTS _libs _ilibs)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" lib "${lib}")
    if(NOT lib MATCHES "^([A-Za-z0-9_]+)::")
      continue()
    endif()
    set(_ns ${CMAKE_MATCH_1})
    if(_ns STREQUAL "pulse")
      continue()
    endif()
    if(_ns STREQUAL "PkgConfig")
      get_target_property(_module ${lib} PULSE_PKG_CONFIG_MODULE)
      if(NOT _module)
        message(FATAL_ERROR "PulseInstall: ${t} links ${lib}; set its PULSE_PKG_CONFIG_MODULE "
                            "property so that PulseConfig.cmake can find it for consumers")
      endif()
      string(REGEX REPLACE "^PkgConfig::" "" _prefix "${lib}")
      set(_call "find_dependency(PkgConfig)\n"
                "pkg_check_modules(${_prefix} REQUIRED IMPORTED_TARGET ${_module})")
    else()
      set(_call "find_dependency(${_ns})")
    endif()
    if(NOT _call IN_LIST _pulse_find_deps)
      list(APPEND _pulse_find_deps "${_call}")
    endif()
  endforeach()
endforeach()
list(JOIN _pulse_find_deps "\n" PULSE_FIND_DEPENDENCIES)

# Two components: `runtime` (bin/pulse and the Arrow/Parquet libraries it loads; what the release
# archive and the .deb hold, cmake/PulsePackaging.cmake) and `devel` (static libraries, headers,
# CMake package). A plain `cmake --install` installs both.
install(TARGETS ${_pulse_targets} EXPORT PulseTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel)
if(TARGET pulse)
  install(TARGETS pulse RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
  if(PULSE_ARROW_RUNTIME_LIBS)
    # Arrow/Parquet from the pyarrow wheel: install its shared libraries beside Pulse, in a
    # private directory (lib/pulse, not lib: a .deb must not put a second libarrow on the
    # system's library path), found through an $ORIGIN-relative RUNPATH, so that the installed
    # tree works wherever it is moved and does not depend on the build's virtualenv.
    install(FILES ${PULSE_ARROW_RUNTIME_LIBS} DESTINATION ${CMAKE_INSTALL_LIBDIR}/pulse
            COMPONENT runtime)
    set_target_properties(pulse PROPERTIES
      INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}/pulse")
  elseif(TARGET pulse_io_parquet)
    # A system Arrow outside the default library path stays reachable.
    set_target_properties(pulse PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON)
  endif()
endif()
set(_pulse_header_excludes "")
foreach(h IN LISTS PULSE_INTERNAL_HEADERS)
  string(REPLACE "." "\\." h "${h}")
  list(APPEND _pulse_header_excludes REGEX "/${h}$" EXCLUDE)
endforeach()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/pulse DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT devel FILES_MATCHING PATTERN "*.h" ${_pulse_header_excludes})
install(FILES ${PROJECT_BINARY_DIR}/include/pulse/config.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/pulse COMPONENT devel)
install(EXPORT PulseTargets NAMESPACE pulse:: DESTINATION ${PULSE_INSTALL_CMAKEDIR}
        COMPONENT devel)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/PulseConfig.cmake.in
  ${PROJECT_BINARY_DIR}/PulseConfig.cmake INSTALL_DESTINATION ${PULSE_INSTALL_CMAKEDIR})
# 0.x: minor versions may break the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/PulseConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/PulseConfig.cmake ${PROJECT_BINARY_DIR}/PulseConfigVersion.cmake
        DESTINATION ${PULSE_INSTALL_CMAKEDIR} COMPONENT devel)

include(PulsePackaging)
