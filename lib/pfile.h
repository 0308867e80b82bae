/*
 * pfile.h - the compiled policy file, shared by pfile_write.c (which
 * writes a compiled policy out) and pfile_read.c (which maps one back).
 * Private to lib/.
 *
 * Layout, every integer little-endian whatever the host:
 *
 *   header   128 bytes: magic, format version, header size, the library
 *            version that wrote it, a byte-order mark, the file size, a
 *            checksum of the whole file (the checksum field read as zero),
 *            the number of sections and where their table is.
 *   table    one 24-byte entry per section: id, reserved, offset, length.
 *   sections each at a 64-byte aligned offset, in table order:
 *            0 the string pool (NUL-terminated strings, ending in NUL),
 *            1 the record stream (the policy's small structures, in a
 *              fixed order, see pfile_write.c),
 *            2.. the big tables, used in place from the mapping: the
 *              items and domains (fixed-size records of uint32), the
 *              prefix table's parts and every string map's slots and keys.
 *
 * A reader checks the header and the section bounds at open; each offset
 * and length read from a section is checked before it is used: those of
 * the stream at open, those of the items and domains where they are read
 * (the accessors of policy.h), so that open does not read every record.  The
 * checksum is checked by `relaypolicy compile --check` and at publish.
 */
#ifndef RP_PFILE_H
#define RP_PFILE_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "radix_table.h"
#include "relaypolicy.h"

#define RP__PF_MAGIC "\x89RPC\r\n\x1a\n"
/* Format 1 was 1.1.0's.  Format 2 (1.2.0): items, domains and lint
 * findings read in place as uint32 records; the prefix heap's slack grew
 * to RP__RX_PAD (4096 bytes); the literal deny-client list and its
 * prefix -> statement records follow the deny client lists; no section
 * per rule (a relay scope's table is built from its patterns at open). */
#define RP__PF_VERSION ((uint32_t)RP_POLICY_FILE_VERSION)
#define RP__PF_HEADER 128u
#define RP__PF_BOM 0x01020304u
#define RP__PF_ALIGN 64u
#define RP__PF_ENTRY 24u
#define RP__PF_MAX_SECTIONS 4096u
#define RP__PF_POOL 0u
#define RP__PF_STREAM 1u

/* Header field offsets. */
#define RP__PFH_VERSION 8
#define RP__PFH_HSIZE 12
#define RP__PFH_LIBVER 16
#define RP__PFH_BOM 20
#define RP__PFH_SIZE 24
#define RP__PFH_SUM 32
#define RP__PFH_NSECT 40
#define RP__PFH_TABLE 44

static inline uint32_t
rp__pf_ld32(const uint8_t *p)
{
    return rp__rx_ld_le32(p);
}

static inline uint64_t
rp__pf_ld64(const uint8_t *p)
{
    return rp__rx_ld_le64(p);
}

/* A 64-bit checksum over a byte stream, fed in pieces of any size: four
 * lanes of multiply-rotate over little-endian words, so that it runs near
 * memory speed and gives the same value on every host.  It finds damage,
 * not forgery. */
typedef struct rp__pf_sum {
    uint64_t v[4];
    uint64_t total;
    uint8_t buf[32];
    size_t n;
} rp__pf_sum;

void rp__pf_sum_init(rp__pf_sum *s);
void rp__pf_sum_add(rp__pf_sum *s, const void *data, size_t len);
uint64_t rp__pf_sum_final(rp__pf_sum *s);
/* The checksum of a whole file image of @p len bytes (at least the
 * header), its checksum field read as zero. */
uint64_t rp__pf_checksum(const uint8_t *file, size_t len);

/* pfile_write.c: write @p p as a compiled policy file through @p write. */
rp_status
rp__pfile_write(const rp_policy *p, rp_write_fn write, void *ctx, char *why);

/* pfile_read.c: what a policy opened from a file holds on to; the
 * policy releases it through its file_close (policy.h). */
typedef struct rp__pfile rp__pfile;

/* pfile_read.c: rp_policy_open() of the file the caller has open on @p fd
 * (and keeps), named @p path in errors; @p o are merged options. */
rp_status rp__pfile_open_fd(int fd,
                            const char *path,
                            const rp_options *o,
                            rp_policy **out,
                            rp_error *err);

#endif /* RP_PFILE_H */
