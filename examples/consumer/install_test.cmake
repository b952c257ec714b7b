# SPDX-License-Identifier: MIT
# ctest driver (cmake -P): install Pulse from PULSE_BINARY_DIR into a scratch prefix, check the
# package's layout, build this consumer project against it with find_package(Pulse), and check
# its output on testdata/input.jsonl against testdata/expected.jsonl.
foreach(var PULSE_BINARY_DIR PULSE_VERSION CONSUMER_DIR WORK_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_test.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()

function(run step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${step} failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

run("install" ${CMAKE_COMMAND} --install ${PULSE_BINARY_DIR} --prefix ${prefix})

# The package: the public headers (and only those), static libraries without the CLI's, the
# CMake package files and the pulse binary.
file(GLOB_RECURSE config_files ${prefix}/*/PulseConfig.cmake)
list(LENGTH config_files n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "expected one PulseConfig.cmake under ${prefix}, found: ${config_files}")
endif()
set(want include/pulse/pulse.h include/pulse/config.h include/pulse/core/status.h)
if(WITH_BINARY)
  list(APPEND want bin/pulse)
endif()
foreach(f IN LISTS want)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "the installed package lacks ${f}")
  endif()
endforeach()
file(GLOB_RECURSE unwanted ${prefix}/*pulse_cli* ${prefix}/*pulse_testing* ${prefix}/include/*.cc
     ${prefix}/include/*test_util*)
if(unwanted)
  message(FATAL_ERROR "the installed package has internal files: ${unwanted}")
endif()
if(WITH_BINARY)
  run("pulse --version" ${prefix}/bin/pulse --version)
  if(NOT run_output MATCHES "${PULSE_VERSION}")
    message(FATAL_ERROR "installed pulse --version printed '${run_output}', not ${PULSE_VERSION}")
  endif()
endif()

# A fresh project that finds only the installed package (no package registry, no build tree).
run("configure consumer" ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/build -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    "-DCMAKE_EXE_LINKER_FLAGS=${LINK_FLAGS}")
file(STRINGS ${WORK_DIR}/build/CMakeCache.txt pulse_dir REGEX "^Pulse_DIR:")
string(FIND "${pulse_dir}" "${prefix}/" at)
if(NOT at GREATER -1)
  message(FATAL_ERROR "the consumer found Pulse elsewhere: ${pulse_dir}")
endif()
run("build consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)

run("run consumer" ${WORK_DIR}/build/pulse_consumer ${CONSUMER_DIR}/testdata/input.jsonl device)
file(READ ${CONSUMER_DIR}/testdata/expected.jsonl want)
if(NOT run_output STREQUAL want)
  message(FATAL_ERROR "consumer output differs.\n--- got:\n${run_output}--- want:\n${want}")
endif()
message(STATUS "ok: installed Pulse ${PULSE_VERSION} at ${prefix} builds and runs the consumer")
