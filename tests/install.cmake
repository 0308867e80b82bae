# The install is relocatable: installed to a scratch prefix, moved, and run
# with a clean environment (tests/install/run.sh).
if(RP_INSTALL AND BUILD_SHARED_LIBS AND RP_BUILD_TOOLS)
  if(RP_MD2MAN)
    set(_rp_expect_man "RP_EXPECT_MAN=1")
  else()
    set(_rp_expect_man "RP_EXPECT_MAN=")
  endif()
  add_test(NAME install_relocatable
    COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/install/run.sh"
            "${CMAKE_BINARY_DIR}"
            "${PROJECT_SOURCE_DIR}/examples/policies/default.conf")
  set_tests_properties(install_relocatable PROPERTIES TIMEOUT 120
    ENVIRONMENT "${_rp_expect_man}")
endif()
