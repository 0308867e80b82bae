# The documentation keeps up with the code: every public function is named
# in relaypolicy(3) or relaypolicy(7), and the README's layout tables list
# every file of lib/.
add_test(NAME doc_manpages
  COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/check_manpages.sh"
          "${PROJECT_SOURCE_DIR}/include/relaypolicy.h"
          "${PROJECT_SOURCE_DIR}/doc")
add_test(NAME doc_layout
  COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/check_layout.sh"
          "${PROJECT_SOURCE_DIR}")
