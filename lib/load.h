/*
 * load.h - a policy from a path that holds either a compiled policy file
 * or policy text (load.c, rp_policy_load_path()).  Private to lib/.
 */
#ifndef RP_LOAD_H
#define RP_LOAD_H

#include <stddef.h>

#include "relaypolicy.h"

/* compile.c: compile @p len bytes of @p text read from the file @p path,
 * as rp_policy_compile_file() does once it has read them: errors name
 * @p path, and relative includes resolve against its directory unless
 * @p merged (options already checked and merged) sets base_dir. */
rp_status rp__compile_text_file(const char *text,
                                size_t len,
                                const rp_options *merged,
                                const char *path,
                                rp_policy **out,
                                rp_error *err);

#endif /* RP_LOAD_H */
