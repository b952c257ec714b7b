# SPDX-License-Identifier: MIT
# pulse_library / pulse_test / pulse_fuzzer: keep each subsystem's CMakeLists.txt to a few calls.

set(PULSE_WARNINGS -Wall -Wextra -Wpedantic -Wno-unused-parameter)
# GCC 12 reports -Wrestrict inside libstdc++ for `"literal" + std::string` (GCC bug 105329, fixed
# in GCC 13): a false positive in the standard library's code, not in ours.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  list(APPEND PULSE_WARNINGS -Wno-restrict)
endif()

function(pulse_apply_common target)
  target_compile_options(${target} PRIVATE ${PULSE_WARNINGS})
  # In test binaries (targets named *_test), g++ 12 reports -Wmaybe-uninitialized inside
  # libstdc++'s std::variant and std::optional moves once gtest's macros are inlined around them
  # (GCC bugs 105562, 80635): false positives in the standard library's code. Library and CLI
  # code keeps the warning.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13
     AND target MATCHES "_test$")
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
  endif()
  if(PULSE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  pulse_sanitizer_flags(_sanitize)
  if(_sanitize)
    # -fno-sanitize-recover: a UBSan report ends the program, so a test cannot pass with one.
    target_compile_options(${target} PRIVATE ${_sanitize} -fno-sanitize-recover=all
                           -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE ${_sanitize})
  endif()
  if(PULSE_BUILD_FUZZERS)
    # Coverage instrumentation for libFuzzer in every Pulse target, not only in the fuzz programs.
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()

# Put libsimdjson first among the shared libraries an executable loads. The Arrow/Parquet
# libraries of the pyarrow wheel export their own simdjson (another version); whichever library
# is loaded first supplies every simdjson symbol, and Pulse's code (compiled against Debian's
# headers) must get Debian's. Link options come before all libraries on the link line.
function(pulse_link_simdjson_first target)
  if(TARGET simdjson::simdjson)
    get_target_property(_type simdjson::simdjson TYPE)
    if(_type STREQUAL "SHARED_LIBRARY")
      target_link_options(${target} PRIVATE "LINKER:--push-state,--no-as-needed"
                          "$<TARGET_LINKER_FILE:simdjson::simdjson>" "LINKER:--pop-state")
    endif()
  endif()
endfunction()

# The -fsanitize= flag for PULSE_SANITIZE into <out> (empty when sanitizers are off):
#   "" or OFF: none; "address" (or ON, as before): ASan + UBSan; "thread": TSan.
function(pulse_sanitizer_flags out)
  string(TOLOWER "${PULSE_SANITIZE}" mode)
  if(mode STREQUAL "address" OR mode STREQUAL "on" OR mode STREQUAL "true" OR mode STREQUAL "1")
    set(${out} -fsanitize=address,undefined PARENT_SCOPE)
  elseif(mode STREQUAL "thread")
    set(${out} -fsanitize=thread PARENT_SCOPE)
  elseif(mode STREQUAL "" OR mode STREQUAL "off" OR mode STREQUAL "false" OR mode STREQUAL "0")
    set(${out} "" PARENT_SCOPE)
  else()
    message(FATAL_ERROR "PULSE_SANITIZE must be \"\", \"address\" (or ON) or \"thread\"; "
                        "got \"${PULSE_SANITIZE}\"")
  endif()
endfunction()

# pulse_library(NAME core SRCS a.cc b.cc DEPS pulse::x PRIVATE_DEPS simdjson::simdjson)
# Defines target pulse_<NAME> with alias pulse::<NAME> and export name <NAME>.
function(pulse_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  set(target pulse_${ARG_NAME})
  add_library(${target} STATIC ${ARG_SRCS})
  add_library(pulse::${ARG_NAME} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${ARG_NAME} POSITION_INDEPENDENT_CODE ON)
  target_include_directories(${target}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
           $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${target} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  pulse_apply_common(${target})
  set_property(GLOBAL APPEND PROPERTY PULSE_EXPORTED_TARGETS ${target})
endfunction()

# pulse_test(NAME core_test SRCS a_test.cc DEPS pulse::core)
function(pulse_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  pulse_link_simdjson_first(${ARG_NAME})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} pulse::testing GTest::gtest GTest::gmock
                        GTest::gtest_main)
  target_compile_definitions(${ARG_NAME} PRIVATE
    PULSE_SOURCE_DIR="${PROJECT_SOURCE_DIR}" PULSE_BINARY_DIR="${PROJECT_BINARY_DIR}")
  pulse_apply_common(${ARG_NAME})
  # Each test is also labelled with its binary's name, so that a preset can select by binary
  # (the tsan preset runs ops_test and io_test).
  set(_labels ${ARG_LABELS} ${ARG_NAME})
  gtest_discover_tests(${ARG_NAME} WORKING_DIRECTORY ${PROJECT_BINARY_DIR}
                       PROPERTIES LABELS "${_labels}" DISCOVERY_TIMEOUT 60)
endfunction()

# pulse_subsystem(NAME core DEPS ... PRIVATE_DEPS ... TEST_DEPS ... [EXCLUDE a.cc ...])
# Library from every *.cc in the current folder except *_test.cc, *_benchmark.cc, main.cc and
# the EXCLUDE files (compiled into another target); one test binary <NAME>_test from every
# *_test.cc.
function(pulse_subsystem)
  cmake_parse_arguments(ARG "" "NAME" "DEPS;PRIVATE_DEPS;TEST_DEPS;TEST_LABELS;EXCLUDE" ${ARGN})
  file(GLOB _all CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  set(_srcs "")
  set(_tests "")
  foreach(f IN LISTS _all)
    get_filename_component(_name ${f} NAME)
    if(_name IN_LIST ARG_EXCLUDE)
      continue()
    endif()
    if(f MATCHES "_test\\.cc$")
      list(APPEND _tests ${f})
    elseif(f MATCHES "_benchmark\\.cc$" OR f MATCHES "/main\\.cc$")
    else()
      list(APPEND _srcs ${f})
    endif()
  endforeach()
  if(NOT _srcs)
    message(WARNING "pulse_subsystem(${ARG_NAME}): no sources yet, skipped")
    return()
  endif()
  pulse_library(NAME ${ARG_NAME} SRCS ${_srcs} DEPS ${ARG_DEPS} PRIVATE_DEPS ${ARG_PRIVATE_DEPS})
  if(PULSE_BUILD_TESTS AND _tests)
    pulse_test(NAME ${ARG_NAME}_test SRCS ${_tests} DEPS pulse::${ARG_NAME} ${ARG_TEST_DEPS}
               LABELS "${ARG_TEST_LABELS}")
  endif()
endfunction()

# pulse_fuzzer(NAME jsonl_reader SRCS jsonl_reader_fuzzer.cc DEPS pulse::io)
# Program fuzz_<NAME> (in bin/fuzz/) from sources that define LLVMFuzzerTestOneInput, and the
# ctest test fuzz_corpus.<NAME> (label "fuzz-corpus") that runs it once on every file of
# fuzz/corpus/<NAME>/ (seeds and the inputs of fixed crashes). With PULSE_BUILD_FUZZERS (clang
# only) the program is a libFuzzer fuzzer; otherwise fuzz/replay_main.cc provides main(), so
# every build and sanitizer configuration replays the corpus.
function(pulse_fuzzer)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  if(NOT PULSE_BUILD_FUZZERS AND NOT PULSE_BUILD_TESTS)
    return()
  endif()
  set(target fuzz_${ARG_NAME})
  add_executable(${target} ${ARG_SRCS})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/src)
  pulse_link_simdjson_first(${target})
  target_link_libraries(${target} PRIVATE ${ARG_DEPS})
  pulse_apply_common(${target})
  set_target_properties(${target} PROPERTIES
                        RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin/fuzz)
  set(corpus ${PROJECT_SOURCE_DIR}/fuzz/corpus/${ARG_NAME})
  if(PULSE_BUILD_FUZZERS)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
    set(replay_args -runs=0 ${corpus})
  else()
    target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/fuzz/replay_main.cc)
    set(replay_args ${corpus})
  endif()
  if(NOT TARGET fuzzers)
    add_custom_target(fuzzers)
  endif()
  add_dependencies(fuzzers ${target})
  if(PULSE_BUILD_TESTS)
    add_test(NAME fuzz_corpus.${ARG_NAME} COMMAND ${target} ${replay_args})
    set_tests_properties(fuzz_corpus.${ARG_NAME} PROPERTIES LABELS fuzz-corpus TIMEOUT 120)
  endif()
endfunction()
