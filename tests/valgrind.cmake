# Valgrind memcheck over the decision vectors (tests/test_decide.c built
# against tests/standalone.h: one process, no Criterion) and, from
# fuzz/CMakeLists.txt, over every fuzz target's seed replay.  Memcheck
# finds reads of uninitialised memory that the sanitizers miss (a bare
# <postmaster> once matched the deny lists against stack leftovers).
# Label "valgrind": scripts/test.sh runs them after the sanitizer step.
# Not in sanitizer builds (valgrind cannot run them); skipped (77) when
# valgrind is not installed.

find_program(RP_VALGRIND valgrind)

# rp_add_valgrind_test(NAME COMMAND...): one memcheck ctest, or a skip.
function(rp_add_valgrind_test name)
  if(RP_VALGRIND)
    add_test(NAME ${name} COMMAND ${RP_VALGRIND} --error-exitcode=1
             --track-origins=yes --leak-check=full
             --errors-for-leak-kinds=definite --quiet ${ARGN})
  else()
    add_test(NAME ${name} COMMAND sh -c
             "echo 'skip: valgrind is not installed (Debian package valgrind)'; exit 77")
  endif()
  set_tests_properties(${name} PROPERTIES LABELS valgrind TIMEOUT 600
                       SKIP_RETURN_CODE 77)
endfunction()

if(NOT RP_SANITIZE)
  add_executable(test_decide_standalone
                 "${CMAKE_CURRENT_LIST_DIR}/test_decide.c"
                 $<TARGET_OBJECTS:relaypolicy_obj>)
  target_include_directories(test_decide_standalone PRIVATE
    "${PROJECT_SOURCE_DIR}/include" "${PROJECT_SOURCE_DIR}/lib"
    "${CMAKE_CURRENT_LIST_DIR}")
  target_compile_definitions(test_decide_standalone PRIVATE
    RP_STANDALONE_TEST RP_TEST_DATA="${CMAKE_CURRENT_LIST_DIR}/data"
    _POSIX_C_SOURCE=200809L PCRE2_CODE_UNIT_WIDTH=8)
  target_link_libraries(test_decide_standalone PRIVATE ${RP_PCRE2_TARGET}
    Threads::Threads)
  rp_add_valgrind_test(valgrind_decide
                       $<TARGET_FILE:test_decide_standalone>)
endif()
