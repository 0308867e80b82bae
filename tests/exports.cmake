# The shared library exports the rp_ API and nothing else; the public
# header compiles on its own as C99 and as C++.
if(BUILD_SHARED_LIBS)
  add_test(NAME exports
    COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/check_exports.sh"
            $<TARGET_FILE:relaypolicy>)
endif()
add_test(NAME header_c99
  COMMAND ${CMAKE_C_COMPILER} -std=c99 -Wall -Wextra -pedantic -Werror
          -fsyntax-only -x c "${PROJECT_SOURCE_DIR}/include/relaypolicy.h")
find_program(RP_CXX NAMES c++ g++ clang++)
if(RP_CXX)
  add_test(NAME header_cxx
    COMMAND ${RP_CXX} -std=c++11 -Wall -Wextra -pedantic -Werror
            -fsyntax-only -x c++ "${PROJECT_SOURCE_DIR}/include/relaypolicy.h")
endif()
if(RP_INSTALL AND BUILD_SHARED_LIBS)
  add_test(NAME consumer
    COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/consumer/run.sh"
            "${CMAKE_BINARY_DIR}" "${CMAKE_CURRENT_SOURCE_DIR}/consumer"
            "${CMAKE_C_COMPILER}")
  set_tests_properties(consumer PROPERTIES TIMEOUT 300)
endif()
