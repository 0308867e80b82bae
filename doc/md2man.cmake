# Turn one of doc/*.md into a man page with go-md2man.
#   cmake -DIN=doc/relaypolicy.3.md -DOUT=relaypolicy.3 -DNAME=relaypolicy
#         -DSECTION=3 -DVERSION=0.1.0 -DMD2MAN=/usr/bin/go-md2man -P md2man.cmake
# The pages start with "# name(N)", which gives way to a title block; go-md2man
# makes "##" a section (.SH) and "###" a subsection (.SS).
file(READ "${IN}" text)
string(REGEX REPLACE "^# [^\n]*\n" "" text "${text}")
set(manuals_1 "User Commands")
set(manuals_3 "Library Functions")
set(manuals_5 "File Formats")
set(manuals_7 "Miscellaneous Information Manual")
set(manuals_8 "System Administration")
file(WRITE "${OUT}.md"
     "% ${NAME} ${SECTION} \"\" \"relaypolicy ${VERSION}\" \"${manuals_${SECTION}}\"\n\n${text}")
execute_process(COMMAND "${MD2MAN}" -in "${OUT}.md" -out "${OUT}"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "go-md2man failed on ${IN}")
endif()
