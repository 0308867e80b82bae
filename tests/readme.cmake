# The README's C quick start compiles and prints what the README says.
if(BUILD_SHARED_LIBS)
  add_test(NAME readme_quickstart
    COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/readme/run.sh"
            "${PROJECT_SOURCE_DIR}" "$<TARGET_FILE_DIR:relaypolicy>"
            "${CMAKE_C_COMPILER}")
  set_tests_properties(readme_quickstart PROPERTIES TIMEOUT 120)
endif()
