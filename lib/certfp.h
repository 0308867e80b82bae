/*
 * certfp.h - certificate fingerprints as text (relaypolicy(7) §2): the
 * SHA-256 of a client certificate's public key, 64 hex digits, any case,
 * colons anywhere ignored.  Used by the builder and by rp_decide().
 */
#ifndef RP_CERTFP_H
#define RP_CERTFP_H

#include <stddef.h>
#include <stdint.h>

#define RP__FP_LEN 32 /* bytes of a SHA-256 fingerprint */

/* Parse @p len bytes of @p s into @p out.  Returns 0, or -1 with a static
 * reason in *why (which may be NULL).  Never reads past @p len. */
int rp__fp_parse(const char *s,
                 size_t len,
                 uint8_t out[RP__FP_LEN],
                 const char **why);
/* 64 lowercase hex digits and a NUL into @p buf (at least 65 bytes). */
void rp__fp_format(const uint8_t fp[RP__FP_LEN], char *buf);

#endif /* RP_CERTFP_H */
