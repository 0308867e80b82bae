# A ctest that builds tests/test_threads.c under ThreadSanitizer in a
# separate build tree and runs it.  Included from tests/CMakeLists.txt it
# registers the test; run with `cmake -P` (what the test does) it
# configures, builds and runs.  The nested configure sets RP_NO_NESTED so
# it does not register the test again.
#
# Criterion cannot run under ThreadSanitizer (its process arena cannot be
# mapped), so a ThreadSanitizer build also gets test_threads_standalone:
# the same source against tests/standalone.h, one process, no Criterion.

if(CMAKE_SCRIPT_MODE_FILE)
  foreach(_v RP_SRC RP_TSAN_DIR RP_GENERATOR RP_BUILD_TYPE)
    if(NOT DEFINED ${_v})
      message(FATAL_ERROR "tsan.cmake: ${_v} is not set")
    endif()
  endforeach()
  execute_process(
    COMMAND "${CMAKE_COMMAND}" -S "${RP_SRC}" -B "${RP_TSAN_DIR}"
            -G "${RP_GENERATOR}"
            -DCMAKE_C_COMPILER=gcc -DRP_SANITIZE=thread
            -DCMAKE_BUILD_TYPE=${RP_BUILD_TYPE}
            -DBUILD_TESTING=ON -DRP_NO_NESTED=ON
            -DRP_BUILD_TOOLS=OFF -DRP_BUILD_FUZZ=OFF -DRP_BUILD_EXAMPLES=OFF
            -DRP_BUILD_BINDINGS=OFF -DRP_BUILD_BENCH=OFF
    RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "tsan.cmake: configuring the ThreadSanitizer build "
                        "failed")
  endif()
  execute_process(
    COMMAND "${CMAKE_COMMAND}" --build "${RP_TSAN_DIR}"
            --target test_threads_standalone -j2
    RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "tsan.cmake: building test_threads failed")
  endif()
  set(ENV{TSAN_OPTIONS} "halt_on_error=1 second_deadlock_stack=1")
  execute_process(
    COMMAND "${RP_TSAN_DIR}/tests/test_threads_standalone"
    RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "tsan.cmake: test_threads failed under "
                        "ThreadSanitizer (${_rc})")
  endif()
  return()
endif()

if(RP_SANITIZE MATCHES "thread")
  add_executable(test_threads_standalone
                 "${CMAKE_CURRENT_LIST_DIR}/test_threads.c"
                 $<TARGET_OBJECTS:relaypolicy_obj>)
  target_include_directories(test_threads_standalone PRIVATE
    "${PROJECT_SOURCE_DIR}/include" "${PROJECT_SOURCE_DIR}/lib"
    "${CMAKE_CURRENT_LIST_DIR}")
  target_compile_definitions(test_threads_standalone PRIVATE
    RP_STANDALONE_TEST _POSIX_C_SOURCE=200809L PCRE2_CODE_UNIT_WIDTH=8)
  target_link_libraries(test_threads_standalone PRIVATE ${RP_PCRE2_TARGET}
    libcidr::libcidr Threads::Threads)
endif()

option(RP_NO_NESTED "Do not add tests that configure nested builds" OFF)
if(NOT RP_NO_NESTED AND NOT RP_SANITIZE MATCHES "thread")
  set(_rp_bt "${CMAKE_BUILD_TYPE}")
  if(NOT _rp_bt)
    set(_rp_bt RelWithDebInfo)
  endif()
  add_test(NAME tsan_threads
           COMMAND "${CMAKE_COMMAND}"
                   "-DRP_SRC=${PROJECT_SOURCE_DIR}"
                   "-DRP_TSAN_DIR=${CMAKE_BINARY_DIR}/tsan"
                   "-DRP_GENERATOR=${CMAKE_GENERATOR}"
                   "-DRP_BUILD_TYPE=${_rp_bt}"
                   -P "${CMAKE_CURRENT_LIST_FILE}")
  set_tests_properties(tsan_threads PROPERTIES TIMEOUT 900 LABELS "tsan")
endif()
