/*
 * parse.h - policy text to builder calls (parse.c, with lex.c).
 */
#ifndef RP_PARSE_H
#define RP_PARSE_H

#include "relaypolicy.h"

/* Parse @p text (named @p file in messages) into @p b, under the limits
 * of @p opts (the builder's).  @p depth counts nested includes.  Returns
 * RP_OK or fills @p err. */
rp_status rp__parse(rp_builder *b,
                    const rp_options *opts,
                    const char *file,
                    const char *text,
                    size_t len,
                    unsigned depth,
                    rp_error *err);

#endif /* RP_PARSE_H */
