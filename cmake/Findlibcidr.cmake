# Findlibcidr.cmake - find libcidr, which ships no pkg-config file.
#
# Defines libcidr_FOUND, libcidr_INCLUDE_DIR, libcidr_LIBRARY and the
# imported target libcidr::libcidr.
find_path(libcidr_INCLUDE_DIR NAMES libcidr.h)
find_library(libcidr_LIBRARY NAMES cidr)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(libcidr
  REQUIRED_VARS libcidr_LIBRARY libcidr_INCLUDE_DIR)
if(libcidr_FOUND AND NOT TARGET libcidr::libcidr)
  add_library(libcidr::libcidr UNKNOWN IMPORTED)
  set_target_properties(libcidr::libcidr PROPERTIES
    IMPORTED_LOCATION "${libcidr_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${libcidr_INCLUDE_DIR}")
endif()
mark_as_advanced(libcidr_INCLUDE_DIR libcidr_LIBRARY)
