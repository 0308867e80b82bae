# The ABI check (tests/abi/check.sh): exported symbols and the public
# structs' layout against the lists checked in under tests/abi/.  Only for
# the shared library, where the ABI is what callers link against.
if(BUILD_SHARED_LIBS)
  add_executable(abi_layout "${CMAKE_CURRENT_SOURCE_DIR}/abi/layout.c")
  target_link_libraries(abi_layout PRIVATE relaypolicy)
  add_test(NAME abi
    COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/abi/check.sh"
            $<TARGET_FILE:relaypolicy> $<TARGET_FILE:abi_layout>
            "${CMAKE_CURRENT_SOURCE_DIR}/abi")
  add_custom_target(abi_update
    COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/abi/check.sh"
            $<TARGET_FILE:relaypolicy> $<TARGET_FILE:abi_layout>
            "${CMAKE_CURRENT_SOURCE_DIR}/abi" --update
    DEPENDS relaypolicy abi_layout
    COMMENT "Recording the current ABI in tests/abi/")
endif()
