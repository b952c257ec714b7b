# SPDX-License-Identifier: MIT
# FindPulseArrow: Arrow and Parquet C++ for pulse::io_parquet, either from a system install
# (find_package(Arrow) and find_package(Parquet) in CONFIG mode) or from the pyarrow wheel that
# scripts/setup.sh installs into the project's virtualenv (.venv/), as the Arrow docs describe for
# building against PyPI wheels.
#
# Cache inputs:
#   PULSE_ARROW_PROVIDER  auto (default: system first, then the wheel) | system | wheel
#   PULSE_PYTHON          the Python whose pyarrow is used (default <source>/.venv/bin/python3)
# Results:
#   PulseArrow::parquet       INTERFACE target: Parquet + Arrow libraries, headers, ABI flag
#   PulseArrow_FOUND, PulseArrow_VERSION
#   PULSE_ARROW_PROVIDER_USED system | wheel
#   PULSE_ARROW_RUNTIME_LIBS  (wheel) the shared libraries the `pulse` binary loads; installed
#                             beside it by PulseInstall.cmake
#
# The wheel ships versioned libraries only (libarrow.so.2600, libparquet.so.2600), so they are
# linked by full path and found at run time through the build RPATH (no LD_LIBRARY_PATH needed).
# The wheel's C++ ABI must match ours: manylinux_2_28 wheels (pip's choice on glibc >= 2.28) use
# the C++11 string ABI, _GLIBCXX_USE_CXX11_ABI=1, like Debian's libraries; the older
# manylinux2014 wheels use the old ABI and cannot be mixed with them, so they are rejected.
include(FindPackageHandleStandardArgs)

set(PULSE_ARROW_PROVIDER auto CACHE STRING "Where Arrow/Parquet C++ come from: auto|system|wheel")
set_property(CACHE PULSE_ARROW_PROVIDER PROPERTY STRINGS auto system wheel)
set(PULSE_PYTHON "${PROJECT_SOURCE_DIR}/.venv/bin/python3" CACHE FILEPATH
    "Python interpreter whose pyarrow wheel provides Arrow/Parquet C++")

# The oldest Arrow whose headers and API this code is written against.
set(_pulse_arrow_min_version 15.0)
set(_pulse_arrow_reason "")
set(PULSE_ARROW_RUNTIME_LIBS "")

if(TARGET PulseArrow::parquet)
  set(PulseArrow_FOUND TRUE)
  return()
endif()

# Add to the message shown if nothing is found. Call only from the functions below.
macro(_pulse_arrow_fail)
  string(CONCAT _msg ${ARGN})
  set(_pulse_arrow_reason "${_pulse_arrow_reason} ${_msg}" PARENT_SCOPE)
endmacro()

function(_pulse_arrow_from_system)
  find_package(Arrow CONFIG QUIET)
  find_package(Parquet CONFIG QUIET)
  if(NOT Arrow_FOUND OR NOT Parquet_FOUND)
    _pulse_arrow_fail("No system Arrow/Parquet CMake package "
        "(ArrowConfig.cmake, ParquetConfig.cmake).")
    return()
  endif()
  if(TARGET Parquet::parquet_shared)
    set(lib Parquet::parquet_shared)
  elseif(TARGET Parquet::parquet_static)
    set(lib Parquet::parquet_static)
  else()
    _pulse_arrow_fail("The system Parquet package defines no "
        "Parquet::parquet_shared or Parquet::parquet_static target.")
    return()
  endif()
  add_library(PulseArrow::parquet INTERFACE IMPORTED GLOBAL)
  target_link_libraries(PulseArrow::parquet INTERFACE ${lib})
  set(PulseArrow_VERSION ${Arrow_VERSION} PARENT_SCOPE)
  set(PULSE_ARROW_PROVIDER_USED system PARENT_SCOPE)
endfunction()

function(_pulse_arrow_from_wheel)
  if(NOT EXISTS "${PULSE_PYTHON}")
    _pulse_arrow_fail("No Python at PULSE_PYTHON=${PULSE_PYTHON} "
                      "(scripts/setup.sh creates .venv with pyarrow).")
    return()
  endif()
  execute_process(
    COMMAND "${PULSE_PYTHON}" -c
      "import pyarrow as pa; print(pa.__version__); print(pa.get_include()); print(pa.get_library_dirs()[0]); print(pa.cpp_build_info.so_version)"
    OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    string(STRIP "${err}" err)
    string(REGEX REPLACE ".*\n" "" err "${err}")
    _pulse_arrow_fail("${PULSE_PYTHON} cannot import pyarrow "
        "(${err}); run scripts/setup.sh.")
    return()
  endif()
  string(REPLACE "\n" ";" out "${out}")
  list(GET out 0 version)
  list(GET out 1 include_dir)
  list(GET out 2 lib_dir)
  list(GET out 3 so_version)
  set(arrow_lib "${lib_dir}/libarrow.so.${so_version}")
  set(parquet_lib "${lib_dir}/libparquet.so.${so_version}")
  foreach(f IN ITEMS "${include_dir}/parquet/arrow/writer.h" "${arrow_lib}" "${parquet_lib}")
    if(NOT EXISTS "${f}")
      _pulse_arrow_fail("The pyarrow ${version} wheel lacks ${f}.")
      return()
    endif()
  endforeach()

  # ARROW_PACKAGE_KIND names the wheel's build image, and with it the C++ ABI.
  file(STRINGS "${include_dir}/arrow/util/config.h" kind REGEX "#define ARROW_PACKAGE_KIND")
  if(kind MATCHES "manylinux2014|manylinux2010|manylinux1")
    _pulse_arrow_fail("The pyarrow ${version} wheel (${kind}) is built with the old C++ ABI "
                      "(_GLIBCXX_USE_CXX11_ABI=0), which cannot be linked with this system's "
                      "C++ libraries; use a manylinux_2_28 wheel (pip >= 20.3 on glibc >= 2.28).")
    return()
  endif()

  add_library(PulseArrow::arrow_wheel SHARED IMPORTED GLOBAL)
  set_target_properties(PulseArrow::arrow_wheel PROPERTIES
    IMPORTED_LOCATION "${arrow_lib}" IMPORTED_SONAME "libarrow.so.${so_version}")
  add_library(PulseArrow::parquet_wheel SHARED IMPORTED GLOBAL)
  set_target_properties(PulseArrow::parquet_wheel PROPERTIES
    IMPORTED_LOCATION "${parquet_lib}" IMPORTED_SONAME "libparquet.so.${so_version}")
  add_library(PulseArrow::parquet INTERFACE IMPORTED GLOBAL)
  target_link_libraries(PulseArrow::parquet INTERFACE PulseArrow::parquet_wheel
                        PulseArrow::arrow_wheel)
  # SYSTEM: Arrow's headers are not held to Pulse's warning flags.
  target_include_directories(PulseArrow::parquet SYSTEM INTERFACE "${include_dir}")
  target_compile_definitions(PulseArrow::parquet INTERFACE _GLIBCXX_USE_CXX11_ABI=1)
  set(PulseArrow_VERSION ${version} PARENT_SCOPE)
  set(PULSE_ARROW_PROVIDER_USED wheel PARENT_SCOPE)
  set(PULSE_ARROW_RUNTIME_LIBS "${arrow_lib};${parquet_lib}" PARENT_SCOPE)
endfunction()

if(PULSE_ARROW_PROVIDER STREQUAL "system" OR PULSE_ARROW_PROVIDER STREQUAL "auto")
  _pulse_arrow_from_system()
endif()
if(NOT TARGET PulseArrow::parquet AND
   (PULSE_ARROW_PROVIDER STREQUAL "wheel" OR PULSE_ARROW_PROVIDER STREQUAL "auto"))
  _pulse_arrow_from_wheel()
endif()
if(NOT PULSE_ARROW_PROVIDER MATCHES "^(auto|system|wheel)$")
  set(_pulse_arrow_reason "PULSE_ARROW_PROVIDER must be auto, system or wheel, not '${PULSE_ARROW_PROVIDER}'.")
endif()

if(TARGET PulseArrow::parquet)
  set(_pulse_arrow_target PulseArrow::parquet)
endif()
string(STRIP "${_pulse_arrow_reason}" _pulse_arrow_reason)
find_package_handle_standard_args(PulseArrow
  REQUIRED_VARS _pulse_arrow_target
  VERSION_VAR PulseArrow_VERSION
  REASON_FAILURE_MESSAGE "${_pulse_arrow_reason}")
if(PulseArrow_FOUND AND PulseArrow_VERSION VERSION_LESS _pulse_arrow_min_version)
  message(FATAL_ERROR "Arrow ${PulseArrow_VERSION} (${PULSE_ARROW_PROVIDER_USED}) is too old for "
          "the Parquet sink; it needs Arrow >= ${_pulse_arrow_min_version}.")
endif()
if(PulseArrow_FOUND AND NOT PulseArrow_FIND_QUIETLY)
  message(STATUS "Parquet sink: Arrow ${PulseArrow_VERSION} from the ${PULSE_ARROW_PROVIDER_USED} "
                 "provider ${PULSE_ARROW_RUNTIME_LIBS}")
endif()
