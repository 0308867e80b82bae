# tests/test_threads.c under ThreadSanitizer: N threads deciding on one
# policy must agree with a single-threaded run, with no data race.
#
# Criterion cannot run under ThreadSanitizer (its process arena cannot be
# mapped), so the same source is built against tests/standalone.h as one
# plain program, test_threads_tsan, with the configured compiler in this
# build tree; the library's sources are compiled once more for it with
# -fsanitize=thread.  When the compiler cannot build and run a
# ThreadSanitizer program, the test is registered anyway and skips with the
# reason.  Builds made with another RP_SANITIZE, or with RP_TSAN_TEST=OFF
# (a package build, which runs only the unit tests), get no TSan test.

option(RP_TSAN_TEST "Build and register the ThreadSanitizer test" ON)
if(NOT RP_TSAN_TEST OR (RP_SANITIZE AND NOT RP_SANITIZE MATCHES "thread"))
  return()
endif()

set(_rp_tsan_skip "")
if(NOT RP_SANITIZE MATCHES "thread")
  include(CheckCSourceRuns)
  set(CMAKE_REQUIRED_FLAGS "-fsanitize=thread")
  set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=thread")
  set(CMAKE_REQUIRED_QUIET ON)
  check_c_source_runs("
    #include <pthread.h>
    static int x;
    static void *f(void *a) { x = 1; return a; }
    int main(void) { pthread_t t; if (pthread_create(&t, 0, f, 0)) return 1;
                     pthread_join(t, 0); return x != 1; }"
    RP_HAVE_TSAN)
  unset(CMAKE_REQUIRED_FLAGS)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
  unset(CMAKE_REQUIRED_QUIET)
  if(NOT RP_HAVE_TSAN)
    string(CONCAT _rp_tsan_skip "${CMAKE_C_COMPILER_ID} "
           "${CMAKE_C_COMPILER_VERSION} cannot build and run a "
           "-fsanitize=thread program")
    message(STATUS "tsan_threads will be skipped: ${_rp_tsan_skip}")
  endif()
endif()

if(_rp_tsan_skip)
  add_test(NAME tsan_threads
    COMMAND sh -c "echo 'skip: ${_rp_tsan_skip}'; exit 77")
  set_tests_properties(tsan_threads PROPERTIES SKIP_RETURN_CODE 77
                       LABELS "tsan")
  return()
endif()

set(_rp_tsan_defs RP_STANDALONE_TEST _POSIX_C_SOURCE=200809L
    PCRE2_CODE_UNIT_WIDTH=8)
if(RP_SANITIZE MATCHES "thread")
  set(_rp_tsan_objs $<TARGET_OBJECTS:relaypolicy_obj>)
else()
  add_library(relaypolicy_tsan_obj OBJECT ${RP_LIB_SOURCES})
  target_include_directories(relaypolicy_tsan_obj PRIVATE
    "${PROJECT_SOURCE_DIR}/include" "${PROJECT_SOURCE_DIR}/lib")
  target_compile_definitions(relaypolicy_tsan_obj PRIVATE RP_BUILDING
    _POSIX_C_SOURCE=200809L PCRE2_CODE_UNIT_WIDTH=8)
  target_compile_options(relaypolicy_tsan_obj PRIVATE -fsanitize=thread
    -fno-omit-frame-pointer)
  target_link_libraries(relaypolicy_tsan_obj PRIVATE ${RP_PCRE2_TARGET}
   )
  set(_rp_tsan_objs $<TARGET_OBJECTS:relaypolicy_tsan_obj>)
endif()

add_executable(test_threads_tsan "${CMAKE_CURRENT_LIST_DIR}/test_threads.c"
               ${_rp_tsan_objs})
target_include_directories(test_threads_tsan PRIVATE
  "${PROJECT_SOURCE_DIR}/include" "${PROJECT_SOURCE_DIR}/lib"
  "${CMAKE_CURRENT_LIST_DIR}")
target_compile_definitions(test_threads_tsan PRIVATE ${_rp_tsan_defs})
target_compile_options(test_threads_tsan PRIVATE -fsanitize=thread
  -fno-omit-frame-pointer)
target_link_options(test_threads_tsan PRIVATE -fsanitize=thread)
target_link_libraries(test_threads_tsan PRIVATE ${RP_PCRE2_TARGET}
  Threads::Threads)
add_test(NAME tsan_threads COMMAND test_threads_tsan)
set_tests_properties(tsan_threads PROPERTIES TIMEOUT 900 LABELS "tsan"
  ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1 second_deadlock_stack=1")
