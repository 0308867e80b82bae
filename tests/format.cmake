# The C sources follow .clang-format (house style); this test fails on the
# first file that does not.  Skipped when clang-format is not installed.
find_program(RP_CLANG_FORMAT NAMES clang-format clang-format-14)
if(RP_CLANG_FORMAT)
  file(GLOB _rp_fmt_files
       "${PROJECT_SOURCE_DIR}/include/*.h"
       "${PROJECT_SOURCE_DIR}/lib/*.c" "${PROJECT_SOURCE_DIR}/lib/*.h"
       "${PROJECT_SOURCE_DIR}/bin/*.c" "${PROJECT_SOURCE_DIR}/bin/*.h")
  add_test(NAME format
    COMMAND ${RP_CLANG_FORMAT} --dry-run -Werror ${_rp_fmt_files})
endif()
