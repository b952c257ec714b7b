# SPDX-License-Identifier: MIT
# pulse_library / pulse_test: keep each subsystem's CMakeLists.txt to a few calls.

set(PULSE_WARNINGS -Wall -Wextra -Wpedantic -Wno-unused-parameter)

function(pulse_apply_common target)
  target_compile_options(${target} PRIVATE ${PULSE_WARNINGS})
  if(PULSE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(PULSE_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
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
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} pulse::testing GTest::gtest GTest::gmock
                        GTest::gtest_main)
  target_compile_definitions(${ARG_NAME} PRIVATE
    PULSE_SOURCE_DIR="${PROJECT_SOURCE_DIR}" PULSE_BINARY_DIR="${PROJECT_BINARY_DIR}")
  pulse_apply_common(${ARG_NAME})
  gtest_discover_tests(${ARG_NAME} WORKING_DIRECTORY ${PROJECT_BINARY_DIR}
                       PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()

# pulse_subsystem(NAME core DEPS ... PRIVATE_DEPS ... TEST_DEPS ...)
# Library from every *.cc in the current folder except *_test.cc, *_benchmark.cc and main.cc;
# one test binary <NAME>_test from every *_test.cc.
function(pulse_subsystem)
  cmake_parse_arguments(ARG "" "NAME" "DEPS;PRIVATE_DEPS;TEST_DEPS;TEST_LABELS" ${ARGN})
  file(GLOB _all CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  set(_srcs "")
  set(_tests "")
  foreach(f IN LISTS _all)
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
