# The C sources follow .clang-format (house style); this test fails on the
# first file that does not.  Formatting differs between clang-format
# releases, so the check is pinned to one major version (Debian 12's);
# with another one, or none, the test skips and says why.
set(RP_CLANG_FORMAT_VERSION 14 CACHE STRING
    "The clang-format major version the sources are formatted with")
find_program(RP_CLANG_FORMAT
  NAMES clang-format-${RP_CLANG_FORMAT_VERSION} clang-format)
set(_rp_fmt_skip "")
if(NOT RP_CLANG_FORMAT)
  set(_rp_fmt_skip "clang-format is not installed")
else()
  execute_process(COMMAND "${RP_CLANG_FORMAT}" --version
                  OUTPUT_VARIABLE _rp_fmt_ver ERROR_QUIET)
  if(NOT _rp_fmt_ver MATCHES "version ${RP_CLANG_FORMAT_VERSION}\\.")
    string(STRIP "${_rp_fmt_ver}" _rp_fmt_ver)
    string(CONCAT _rp_fmt_skip "the sources are formatted with "
           "clang-format ${RP_CLANG_FORMAT_VERSION}, ${RP_CLANG_FORMAT} is "
           "'${_rp_fmt_ver}'")
  endif()
endif()

if(_rp_fmt_skip)
  message(STATUS "format will be skipped: ${_rp_fmt_skip}")
  string(REPLACE "'" "" _rp_fmt_skip "${_rp_fmt_skip}")
  add_test(NAME format COMMAND sh -c "echo 'skip: ${_rp_fmt_skip}'; exit 77")
  set_tests_properties(format PROPERTIES SKIP_RETURN_CODE 77)
  return()
endif()

file(GLOB _rp_fmt_files
     "${PROJECT_SOURCE_DIR}/include/*.h"
     "${PROJECT_SOURCE_DIR}/lib/*.c" "${PROJECT_SOURCE_DIR}/lib/*.h"
     "${PROJECT_SOURCE_DIR}/bin/*.c" "${PROJECT_SOURCE_DIR}/bin/*.h")
add_test(NAME format
  COMMAND ${RP_CLANG_FORMAT} --dry-run -Werror ${_rp_fmt_files})
