# SPDX-License-Identifier: MIT
# ctest driver (cmake -P) for `pulse test` through the binary. Copies CASES_DIR into WORK_DIR,
# runs `PULSE test ARGS... --junit junit.xml` there and checks:
#   the exit code (EXPECTED_EXIT);
#   standard output against EXPECTED_STDOUT (a file; durations "(12 ms)", "(0.03 s)" are
#     compared as "(N ms)", "(N s)");
#   standard error against EXPECTED_STDERR (a file), when given;
#   junit.xml against the JUnit schema XSD, with XMLLINT.
# With UPDATE_FILE set, it then runs the same command again without --update and expects exit 0,
# and compares UPDATE_FILE (relative to WORK_DIR) with UPDATE_EXPECTED.
foreach(var PULSE CASES_DIR WORK_DIR ARGS EXPECTED_EXIT XSD XMLLINT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run.cmake: -D${var}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
file(COPY ${CASES_DIR}/ DESTINATION ${WORK_DIR})
string(REPLACE "|" ";" args "${ARGS}")

function(normalize text out)
  string(REGEX REPLACE "\\([0-9]+ ms\\)" "(N ms)" text "${text}")
  string(REGEX REPLACE "\\([0-9]+\\.[0-9]+ s\\)" "(N s)" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

function(expect_same what expected_file actual)
  file(READ ${expected_file} want)
  if(NOT actual STREQUAL want)
    file(WRITE ${WORK_DIR}/actual.${what} "${actual}")
    execute_process(COMMAND diff -u ${expected_file} ${WORK_DIR}/actual.${what}
                    OUTPUT_VARIABLE diff ERROR_QUIET)
    message(FATAL_ERROR "${what} differs from ${expected_file}:\n${diff}")
  endif()
endfunction()

execute_process(COMMAND ${PULSE} test ${args} --junit junit.xml
                WORKING_DIRECTORY ${WORK_DIR}
                RESULT_VARIABLE rc OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr)
if(NOT rc EQUAL EXPECTED_EXIT)
  message(FATAL_ERROR "exit code ${rc}, expected ${EXPECTED_EXIT}\nstdout:\n${stdout}\n"
                      "stderr:\n${stderr}")
endif()
if(DEFINED EXPECTED_STDOUT)
  normalize("${stdout}" stdout)
  expect_same(stdout ${EXPECTED_STDOUT} "${stdout}")
endif()
if(DEFINED EXPECTED_STDERR)
  expect_same(stderr ${EXPECTED_STDERR} "${stderr}")
endif()

execute_process(COMMAND ${XMLLINT} --noout --schema ${XSD} ${WORK_DIR}/junit.xml
                RESULT_VARIABLE xml_rc OUTPUT_VARIABLE xml_out ERROR_VARIABLE xml_err)
if(NOT xml_rc EQUAL 0)
  file(READ ${WORK_DIR}/junit.xml junit)
  message(FATAL_ERROR "junit.xml does not validate against ${XSD}:\n${xml_err}\n${junit}")
endif()

if(DEFINED UPDATE_FILE)
  list(REMOVE_ITEM args --update)
  execute_process(COMMAND ${PULSE} test ${args}
                  WORKING_DIRECTORY ${WORK_DIR}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "after --update: exit code ${rc}\nstdout:\n${stdout}\nstderr:\n${stderr}")
  endif()
  file(READ ${WORK_DIR}/${UPDATE_FILE} updated)
  expect_same(updated ${UPDATE_EXPECTED} "${updated}")
endif()
message(STATUS "ok")
