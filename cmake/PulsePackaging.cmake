# SPDX-License-Identifier: MIT
# Release packages of the `runtime` install component (bin/pulse, the Arrow/Parquet libraries it
# loads from lib/pulse, the README and docs/install.md), built by CPack from an existing build
# without recompiling anything (docs/install.md):
#   cpack --config build/release/CPackConfig.cmake -G TGZ   pulse-<version>-Linux-<arch>.tar.gz
#   cpack --config build/release/CPackConfig.cmake -G DEB   pulse_<version>-1_<debarch>.deb
# `make dist` runs both into build/dist/. Included by PulseInstall.cmake.
if(NOT TARGET pulse)
  return()
endif()

install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/install.md
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/pulse COMPONENT runtime)

set(CPACK_PACKAGE_NAME pulse)
set(CPACK_PACKAGE_VENDOR "Pulse")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_CONTACT "Pulse maintainers <pulse@localhost>")
# Only the runtime component, as one package (a user's C++ project installs the devel component
# with `cmake --install`).
set(CPACK_INSTALL_CMAKE_PROJECTS "${PROJECT_BINARY_DIR};Pulse;runtime;/")
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/dist)
set(CPACK_GENERATOR TGZ DEB)

# The archive: one top-level directory pulse-<version>-Linux-<arch>/ with bin/ and lib/pulse/;
# it runs from wherever it is unpacked (RUNPATH $ORIGIN/../lib/pulse).
set(CPACK_SYSTEM_NAME "Linux-${CMAKE_SYSTEM_PROCESSOR}")
set(CPACK_ARCHIVE_COMPONENT_INSTALL OFF)

# The .deb: installs into /usr (/usr/bin/pulse, /usr/lib/pulse/lib{arrow,parquet}.so.N). Its
# Depends line comes from dpkg-shlibdeps on the binary (librdkafka, librocksdb, libfmt, ...:
# whatever the build machine's packages provide), so a .deb built on Debian 12 declares Debian
# 12's package names and one built on Ubuntu 24.04 Ubuntu's. The Arrow libraries are inside the
# package (found through the binary's $ORIGIN RUNPATH), so it depends on no Arrow package.
set(CPACK_DEBIAN_PACKAGE_NAME pulse)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# zstd: several times faster than gzip for the 60 MB of Arrow libraries (dpkg >= 1.21.18,
# Debian 12 and Ubuntu 24.04).
set(CPACK_DEBIAN_COMPRESSION_TYPE zstd)

include(CPack)
