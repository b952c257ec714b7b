# SPDX-License-Identifier: MIT
# ctest driver (cmake -P) for one example: run COMMAND ("|"-separated) in WORK_DIR, where
# examples/ and pulse-examples/ link to SOURCE_DIR's, then compare OUTPUT (a path relative to
# WORK_DIR; default: the command's stdout) with EXPECTED, byte for byte. An EXPECTED ending in
# .sha256 holds "<sha256> <line count>" instead (see scripts/gen_examples.py --print).
foreach(var SOURCE_DIR WORK_DIR COMMAND EXPECTED)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_example_test.cmake: -D${var}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/out)
foreach(dir examples pulse-examples)
  file(CREATE_LINK ${SOURCE_DIR}/${dir} ${WORK_DIR}/${dir} SYMBOLIC)
endforeach()

string(REPLACE "|" ";" command "${COMMAND}")
execute_process(COMMAND ${command}
                WORKING_DIRECTORY ${WORK_DIR}
                RESULT_VARIABLE rc
                OUTPUT_VARIABLE stdout
                ERROR_VARIABLE stderr)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "command failed (${rc}): ${command}\nstderr:\n${stderr}")
endif()

if(OUTPUT)
  if(NOT EXISTS ${WORK_DIR}/${OUTPUT})
    message(FATAL_ERROR "no output file ${OUTPUT}\nstderr:\n${stderr}")
  endif()
  file(READ ${WORK_DIR}/${OUTPUT} actual)
else()
  set(actual "${stdout}")
endif()

if(EXPECTED MATCHES "\\.sha256$")
  file(READ ${EXPECTED} want)
  string(STRIP "${want}" want)
  string(SHA256 digest "${actual}")
  string(REGEX MATCHALL "\n" newlines "${actual}")
  list(LENGTH newlines lines)
  if(NOT "${digest} ${lines}" STREQUAL "${want}")
    get_filename_component(name ${EXPECTED} NAME_WLE)
    message(FATAL_ERROR "output differs from ${EXPECTED}\n"
            "  got sha256 and lines: ${digest} ${lines}\n  want:                 ${want}\n"
            "The full expected output: scripts/gen_examples.py --print ${name}")
  endif()
else()
  file(READ ${EXPECTED} want)
  if(NOT actual STREQUAL want)
    file(WRITE ${WORK_DIR}/actual.out "${actual}")
    execute_process(COMMAND diff -u ${EXPECTED} ${WORK_DIR}/actual.out
                    OUTPUT_VARIABLE diff ERROR_QUIET)
    string(SUBSTRING "${diff}" 0 4000 diff)
    message(FATAL_ERROR "output differs from ${EXPECTED} (first part of the diff):\n${diff}")
  endif()
endif()
message(STATUS "ok: output matches ${EXPECTED}")
