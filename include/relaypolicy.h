/*
 * relaypolicy.h - the public interface of librelaypolicy.
 *
 * relaypolicy decides, for every SMTP recipient, whether a mail server
 * accepts it for local delivery (submit), accepts it for relaying, or
 * rejects it, and with which SMTP reply.  A policy is compiled once into an
 * immutable object; any number of threads then call rp_decide() on it.
 *
 * This header is the whole contract.  Anything not declared here is not
 * API.  See relaypolicy(3) for an overview and an example, and
 * relaypolicy(7) for what a decision means: the session facts (§2), the
 * policy model (§4) and the decision procedure, step by step (§5).
 *
 * Thread safety
 * -------------
 * A compiled rp_policy never changes.  rp_decide(), rp_policy_dump(),
 * rp_policy_lint() and every other function taking a `const rp_policy *`
 * may be called on the same policy from any number of threads at once,
 * without locks.  rp_policy_ref() and rp_policy_free() use atomic reference
 * counting and are safe to call concurrently on one policy; reload through
 * an rp_policy_slot.  An rp_builder and an rp_workspace belong to one
 * thread at a time.  The library keeps no global state.
 *
 * Ownership
 * ---------
 * Inputs are borrowed for the duration of a call and never kept: compile
 * copies what it needs, and rp_decide() keeps nothing of the query.
 * Strings reached through an rp_decision are borrowed: listener,
 * rule_file and text from the policy (valid until the last reference to
 * it is released), reply, destination, rewritten and explanation from the
 * workspace (valid until its next decision).  Handles are freed with their
 * matching _free() function; every _free(NULL) is a no-op.
 */
#ifndef RELAYPOLICY_H
#define RELAYPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Version
 * ------------------------------------------------------------------------ */

#define RP_VERSION_MAJOR 1
#define RP_VERSION_MINOR 2
#define RP_VERSION_PATCH 0
#define RP_VERSION_STRING "1.2.0"
#define RP_VERSION_NUM                                                         \
    ((RP_VERSION_MAJOR << 16) | (RP_VERSION_MINOR << 8) | RP_VERSION_PATCH)
/** True when the header is at least version x.y.z. */
#define RP_VERSION_AT_LEAST(x, y, z)                                           \
    (RP_VERSION_NUM >= (((x) << 16) | ((y) << 8) | (z)))

/* ------------------------------------------------------------------------
 * Symbol visibility
 * ------------------------------------------------------------------------ */

#if defined(_WIN32) && !defined(RP_STATIC)
#if defined(RP_BUILDING)
#define RP_API __declspec(dllexport)
#else
#define RP_API __declspec(dllimport)
#endif
#elif defined(__GNUC__)
#define RP_API __attribute__((visibility("default")))
#else
#define RP_API
#endif

/** A length meaning "the string is NUL-terminated; measure it". */
#define RP_NTS ((size_t)-1)

/* ------------------------------------------------------------------------
 * Status codes
 *
 * Values are only ever appended.  A status says whether a call worked; it
 * never carries a decision (see rp_verdict and rp_reason for those).
 * ------------------------------------------------------------------------ */

#define RP_STATUS_MAP(XX)                                                      \
    XX(OK, 0, "success")                                                       \
    XX(E_ARG, 1, "invalid argument")                                           \
    XX(E_NOMEM, 2, "out of memory")                                            \
    XX(E_SYNTAX, 3, "policy syntax error")                                     \
    XX(E_POLICY, 4, "invalid policy")                                          \
    XX(E_UNSAFE, 5, "unsafe policy refused (open relay)")                      \
    XX(E_LIMIT, 6, "limit exceeded")                                           \
    XX(E_IO, 7, "cannot read file")                                            \
    XX(E_REGEX, 8, "invalid regular expression")                               \
    XX(E_MATCH, 9, "regular expression match failed or hit its limit")         \
    XX(E_INTERNAL, 10, "internal error")                                       \
    XX(E_STATE, 11, "call not valid in this state")                            \
    XX(E_FORMAT, 12, "not a compiled policy file, or a damaged or foreign one")

/** The status of a call.  RP_OK is 0; everything else is an error. */
typedef enum rp_status {
#define RP__STATUS_ENUM(name, value, text) RP_##name = value,
    RP_STATUS_MAP(RP__STATUS_ENUM)
#undef RP__STATUS_ENUM
} rp_status;

/**
 * A static, human-readable description of a status.
 *
 * @param status  any value, including ones this version does not know.
 * @return never NULL; "unknown status" for unknown values.  Do not free.
 * Thread safety: safe from any thread.
 */
RP_API const char *rp_strerror(rp_status status);

/**
 * The symbolic name of a status, e.g. "RP_E_SYNTAX".
 *
 * @return never NULL; "RP_E_UNKNOWN" for unknown values.  Do not free.
 */
RP_API const char *rp_status_name(rp_status status);

/* ------------------------------------------------------------------------
 * Decision vocabulary
 * ------------------------------------------------------------------------ */

/** What the server does with the recipient. */
typedef enum rp_verdict {
    RP_VERDICT_NONE = 0, /**< no decision: the call failed (see status). */
    RP_ACCEPT = 1,       /**< accept for local delivery (submit). */
    RP_RELAY = 2,        /**< accept for relaying to another server. */
    RP_REJECT = 3,       /**< permanent refusal (5xx). */
    RP_TEMPFAIL = 4      /**< temporary refusal (4xx). */
} rp_verdict;

/** Why; stable names are given by rp_reason_name(). */
#define RP_REASON_MAP(XX)                                                      \
    XX(NONE, 0, "none")                                                        \
    XX(ACCEPTED, 1, "accepted")                                                \
    XX(RELAYED, 2, "relayed")                                                  \
    XX(RELAY_DENIED, 3, "relay-denied")                                        \
    XX(UNKNOWN_USER, 4, "unknown-user")                                        \
    XX(NO_LISTENER, 5, "no-listener")                                          \
    XX(CLIENT_BLOCKED, 6, "client-blocked")                                    \
    XX(SENDER_DENIED, 7, "sender-denied")                                      \
    XX(RECIPIENT_DENIED, 8, "recipient-denied")                                \
    XX(AUTH_REQUIRED, 9, "auth-required")                                      \
    XX(NOT_PERMITTED, 10, "not-permitted")                                     \
    XX(SENDER_SPOOF, 11, "sender-spoof")                                       \
    XX(SENDER_LOGIN_MISMATCH, 12, "sender-login-mismatch")                     \
    XX(BAD_RECIPIENT_SYNTAX, 13, "bad-recipient-syntax")                       \
    XX(BAD_SENDER_SYNTAX, 14, "bad-sender-syntax")                             \
    XX(INTERNAL_ERROR, 15, "internal-error")                                   \
    XX(SMTPUTF8_REQUIRED, 16, "smtputf8-required")

typedef enum rp_reason {
#define RP__REASON_ENUM(name, value, text) RP_REASON_##name = value,
    RP_REASON_MAP(RP__REASON_ENUM)
#undef RP__REASON_ENUM
} rp_reason;

/* Counts derived from the maps: values are 0, 1, 2... with no gaps. */
#define RP__COUNT_ONE(name, value, text) +1
/** Number of reasons (one past the largest value). */
#define RP_REASON_COUNT (0 RP_REASON_MAP(RP__COUNT_ONE))
/** Number of statuses (one past the largest value). */
#define RP_STATUS_COUNT (0 RP_STATUS_MAP(RP__COUNT_ONE))

/**
 * The stable name of a reason ("relay-denied"), as used in policy files
 * (`reply relay-denied ...`) and in batch output.
 * @return never NULL; "unknown" for unknown values.
 */
RP_API const char *rp_reason_name(rp_reason reason);

/**
 * Look up a reason by its stable name.
 * @param name  NUL-terminated; NULL gives RP_E_ARG.
 * @param out   receives the reason; must not be NULL.
 * @return RP_OK, or RP_E_ARG for NULL or an unknown name.
 */
RP_API rp_status rp_reason_from_name(const char *name, rp_reason *out);

/** The name of a verdict: "ACCEPT", "RELAY", "REJECT", "TEMPFAIL", "NONE". */
RP_API const char *rp_verdict_name(rp_verdict verdict);

/** The relaypolicy(7) §5 step that produced a decision. */
typedef enum rp_step {
    RP_STEP_NONE = 0,
    RP_STEP_LISTENER = 1,     /**< 1: listener selection. */
    RP_STEP_DENY_CLIENT = 2,  /**< 2: global client deny list. */
    RP_STEP_SYNTAX = 3,       /**< 3: sender and recipient syntax. */
    RP_STEP_DENY_ADDRESS = 4, /**< 4: global sender/recipient deny lists. */
    RP_STEP_REQUIRE_AUTH = 5, /**< 5: the listener's require-auth gate. */
    RP_STEP_DESTINATION = 6,  /**< 6: effective destination resolution. */
    RP_STEP_CLASS = 7         /**< 7: the decision by recipient class. */
} rp_step;

/** Permissions a listener grants (bit flags). */
typedef enum rp_permission {
    RP_PERM_SUBMIT = 1u << 0,       /**< deliver to local domains. */
    RP_PERM_RELAY = 1u << 1,        /**< relay to any domain. */
    RP_PERM_ROUTING = 1u << 2,      /**< take %, ! and quoted @ literally. */
    RP_PERM_LOCAL_SENDER = 1u << 3, /**< use a local sender unauthenticated. */
    RP_PERM_ALL = 0xF
} rp_permission;

/** Whom a listener rule applies to. */
typedef enum rp_principal {
    RP_PRINCIPAL_ANONYMOUS = 1,      /**< every client. */
    RP_PRINCIPAL_AUTHENTICATED = 2,  /**< every logged-in client. */
    RP_PRINCIPAL_USER = 3,           /**< one user name. */
    RP_PRINCIPAL_GROUP = 4,          /**< a group (policy or caller's). */
    RP_PRINCIPAL_NETWORK = 5,        /**< client IP inside a network list. */
    RP_PRINCIPAL_NETWORK_EXCEPT = 6, /**< client IP NOT inside the list. */
    RP_PRINCIPAL_INTERFACE = 7,      /**< local IP inside a network list. */
    /** A client certificate whose public-key SHA-256 fingerprint is in a
     * certificate list (or is the one fingerprint given). */
    RP_PRINCIPAL_CERTIFICATE = 8
} rp_principal;

/**
 * Role presets: what a listener grants before its own rules, after the
 * server roles of the Exchange lock-down guides (relaypolicy(7) §4.2).
 * More grants and denies may follow a preset.
 */
typedef enum rp_role {
    RP_ROLE_GATEWAY = 1,    /**< anonymous submit; no relay for anyone. */
    RP_ROLE_ALL_IN_ONE = 2, /**< anonymous submit; no relay for anyone. */
    RP_ROLE_MAILBOX = 3,    /**< require auth; no grants. */
    RP_ROLE_FRONTEND = 4,   /**< require auth; no grants. */
    RP_ROLE_SUBMISSION = 5  /**< require auth; authenticated submit, relay. */
} rp_role;

/** What the policy is for a domain (relaypolicy(7) §4.1). */
typedef enum rp_domain_kind {
    RP_DOMAIN_LOCAL = 1,  /**< final destination. */
    RP_DOMAIN_RELAY = 2,  /**< accepted for anyone and passed on. */
    RP_DOMAIN_REROUTE = 3 /**< accepted for anyone, rewritten to a target. */
} rp_domain_kind;

/* ------------------------------------------------------------------------
 * Options and errors
 * ------------------------------------------------------------------------ */

/** An allocator used for everything a policy or builder allocates. */
typedef struct rp_allocator {
    void *(*malloc)(size_t size, void *ctx);
    void *(*realloc)(void *ptr, size_t size, void *ctx);
    void (*free)(void *ptr, void *ctx);
    void *ctx;
} rp_allocator;

/** Forbid `include` and list files: compile from the given text only. */
#define RP_OPT_NO_FILES (1u << 0)
/** Do not JIT-compile regular expressions. */
#define RP_OPT_NO_JIT (1u << 1)
/** rp_policy_open() and rp_policy_load(): also check the file's checksum,
 * which reads every byte of it (see rp_policy_open()). */
#define RP_OPT_VERIFY (1u << 2)

/** The largest batch_capacity of a workspace. */
#define RP_BATCH_MAX 1024

/** Default capacity of a workspace's explanation buffer, NUL included. */
#define RP_EXPLAIN_DEFAULT 4096

/**
 * Options for compiling a policy and for creating a workspace.  A zeroed
 * struct means "all defaults"; every zero field takes its default.  Call
 * rp_options_init() to see the defaults.  Calls taking options refuse,
 * with RP_E_ARG, unknown flag bits and non-zero reserved fields: they are
 * kept for later versions.
 */
typedef struct rp_options {
    const rp_allocator *allocator; /**< NULL: malloc/realloc/free. */
    uint32_t flags;                /**< RP_OPT_* bits. */
    uint32_t max_policy_bytes;     /**< one file's size (default 64 MiB). */
    uint32_t max_line_length;      /**< bytes per line (default 8192). */
    uint32_t max_entries;          /**< entries across lists (default 16M). */
    uint32_t max_rules;            /**< rules and listeners (default 65536). */
    uint32_t max_regex_length;     /**< bytes per pattern (default 1024). */
    uint32_t max_include_depth;    /**< nested includes (default 8). */
    uint32_t regex_match_limit;    /**< PCRE2 match limit (default 100000). */
    uint32_t regex_depth_limit;    /**< PCRE2 depth limit (default 1000). */
    /** PCRE2 match steps one decision may spend across all its regexes
     * (default 1000000).  A decision that needs more fails safe. */
    uint32_t regex_budget;
    /** Workspace only: the explanation buffer, NUL included
     * (default RP_EXPLAIN_DEFAULT; 256 to 1 MiB). */
    uint32_t explain_capacity;
    /** Workspace only: how many decisions one rp_decide_batch() call with
     * it may make (default 1; 1 to RP_BATCH_MAX).  Each decision slot
     * takes about 4 KiB plus an explanation buffer. */
    uint32_t batch_capacity;
    const char *base_dir; /**< relative include paths (NULL: cwd). */
    uint64_t reserved[6]; /**< must be zero. */
} rp_options;

/** Fill @p opts with the defaults.  NULL is a no-op. */
RP_API void rp_options_init(rp_options *opts);

/** Details of a failed compile or builder call. */
typedef struct rp_error {
    uint32_t status;   /**< an rp_status. */
    uint32_t line;     /**< 1-based; 0 when not tied to a line. */
    uint32_t column;   /**< 1-based; 0 when not tied to a column. */
    uint64_t offset;   /**< byte offset into the file or text. */
    char file[256];    /**< the file the error is in ("<string>"). */
    char message[160]; /**< "line:col: text", or just "text". */
    char snippet[32];  /**< the offending token, possibly cut. */
    uint64_t reserved[4];
} rp_error;

/* ------------------------------------------------------------------------
 * Policies
 * ------------------------------------------------------------------------ */

typedef struct rp_policy rp_policy;

/**
 * Compile a policy from text.
 *
 * @param text  the policy; need not be NUL-terminated.  NULL is allowed
 *              only with len 0 (an empty policy, which rejects everything).
 * @param len   its length in bytes, or RP_NTS.
 * @param opts  NULL for defaults.
 * @param out   receives the new policy (reference count 1), or NULL on
 *              failure.  Must not be NULL.  Free with rp_policy_free().
 * @param err   optional; filled on failure with the location and message.
 * @return RP_OK; RP_E_SYNTAX, RP_E_POLICY, RP_E_UNSAFE, RP_E_REGEX,
 *         RP_E_LIMIT, RP_E_IO (an include), RP_E_NOMEM, RP_E_ARG.
 * Thread safety: safe; the options and text are only read.
 */
RP_API rp_status rp_policy_compile(const char *text,
                                   size_t len,
                                   const rp_options *opts,
                                   rp_policy **out,
                                   rp_error *err);

/**
 * Compile a policy from a file.  Relative includes are resolved against
 * the file's directory unless opts->base_dir is set.  Errors name the file.
 * @param path  NUL-terminated; NULL gives RP_E_ARG.
 * Otherwise as rp_policy_compile().
 */
RP_API rp_status rp_policy_compile_file(const char *path,
                                        const rp_options *opts,
                                        rp_policy **out,
                                        rp_error *err);

/**
 * Take another reference to a policy, e.g. before handing it to another
 * thread.  Atomic.
 * @return @p policy; NULL for NULL.
 */
RP_API rp_policy *rp_policy_ref(const rp_policy *policy);

/**
 * Release a reference; the last one frees the policy.  NULL is a no-op.
 * Atomic: threads may release their references concurrently.
 */
RP_API void rp_policy_free(rp_policy *policy);

/** A sink for text output (dump): return 0 to continue, non-zero to stop. */
typedef int (*rp_write_fn)(void *ctx, const char *data, size_t len);

/**
 * Write the compiled policy in normalised policy-language form: what the
 * library understood, with role presets expanded and lists sorted, so two
 * policies can be compared with diff.
 * The recipient lists, the network list entries and the `deny client`
 * entries are rendered from the compiled policy at each call (sorting them
 * there), with the policy's allocator.
 * @return RP_OK, RP_E_ARG for NULL arguments, RP_E_IO when @p write
 *         returned non-zero, RP_E_NOMEM.
 */
RP_API rp_status rp_policy_dump(const rp_policy *policy,
                                rp_write_fn write,
                                void *ctx);

/* ------------------------------------------------------------------------
 * Compiled policy files
 *
 * A compiled policy can be written to a file once and opened by any number
 * of processes without compiling it again: rp_policy_open() maps the file
 * read-only and uses its big tables (networks, domains, recipients, every
 * list) in place, so opening costs little and processes that open the
 * same file share its pages.  Decisions, dump, lint, explanations and the
 * exposure analysis of an opened policy are those of the policy written.
 *
 * The file is little-endian on every host and starts with
 * RP_POLICY_FILE_MAGIC, a format version (RP_POLICY_FILE_VERSION), the
 * version of the library that wrote it, its size and a checksum.  A file
 * of another format version, a foreign file or a damaged one is refused
 * with RP_E_FORMAT, never trusted: every offset and length in it is
 * checked before use.  The checksum is checked with RP_OPT_VERIFY (it
 * reads the whole file; `relaypolicy compile --check` does it) and, once,
 * when the file is written.
 *
 * Replace a file that processes have open only by writing a new file and
 * renaming it over the old one, as rp_policy_save() does: an opened
 * policy keeps the old file's pages, and a file truncated or rewritten in
 * place under a mapping makes its readers fault (SIGBUS).
 * ------------------------------------------------------------------------ */

/** The first 8 bytes of a compiled policy file. */
#define RP_POLICY_FILE_MAGIC "\x89RPC\r\n\x1a\n"
/** The format version this library writes and reads. */
#define RP_POLICY_FILE_VERSION 2

/**
 * Write @p policy as a compiled policy file to @p path, atomically: the
 * bytes go to a temporary file in the same directory, which is synced,
 * checked against its checksum, renamed over @p path, and the directory
 * synced.  Readers see the old file or the new one, never a part.  The
 * file is created with mode 0644.
 * @param policy  NULL gives RP_E_ARG.
 * @param path    NUL-terminated; NULL gives RP_E_ARG.
 * @param err     optional; filled on failure.
 * @return RP_OK, RP_E_ARG, RP_E_IO (cannot write, sync or rename),
 *         RP_E_NOMEM, RP_E_LIMIT (a table too large for the format).
 * Thread safety: safe on a shared policy.
 */
RP_API rp_status rp_policy_save(const rp_policy *policy,
                                const char *path,
                                rp_error *err);

/**
 * Write @p policy as a compiled policy file through @p write, in pieces
 * of any size (what rp_policy_save() writes to its temporary file).
 * @return RP_OK, RP_E_ARG for NULL arguments, RP_E_IO when @p write
 *         returned non-zero, RP_E_NOMEM, RP_E_LIMIT.
 * Thread safety: safe on a shared policy.
 */
RP_API rp_status rp_policy_write(const rp_policy *policy,
                                 rp_write_fn write,
                                 void *ctx);

/**
 * Open a compiled policy file: map it read-only and shared, check its
 * header, the bounds of every section and the structure of its tables,
 * rebuild the small structures (listeners, rules, domains, replies) and
 * compile its regexes again.  The result is an ordinary rp_policy.
 *
 * @param path  NUL-terminated; NULL gives RP_E_ARG.
 * @param opts  NULL for defaults.  The allocator, RP_OPT_NO_JIT and
 *              RP_OPT_VERIFY apply; the regex limits are the ones the
 *              policy was compiled with; max_policy_bytes does not apply
 *              (the file is mapped, not read).
 * @param out   receives the policy (reference count 1), NULL on failure.
 *              Must not be NULL.  Free with rp_policy_free(), which
 *              unmaps the file with the last reference.
 * @param err   optional; says why a file was refused.
 * @return RP_OK; RP_E_FORMAT (not a compiled policy file, another format
 *         version, damaged: a checksum mismatch with RP_OPT_VERIFY),
 *         RP_E_IO (cannot open or map it, not a regular file),
 *         RP_E_NOMEM, RP_E_ARG.
 * Thread safety: safe.  Ownership: the mapping belongs to the policy;
 * strings reached through it stay valid while the policy is referenced.
 */
RP_API rp_status rp_policy_open(const char *path,
                                const rp_options *opts,
                                rp_policy **out,
                                rp_error *err);

/**
 * As rp_policy_open(), from @p len bytes of a compiled policy file in
 * memory, which are copied (the caller may free them on return).
 * @param data  NULL is allowed only with len 0 (refused: RP_E_FORMAT).
 */
RP_API rp_status rp_policy_load(const void *data,
                                size_t len,
                                const rp_options *opts,
                                rp_policy **out,
                                rp_error *err);

/**
 * A policy from a file that is either a compiled policy file or policy
 * text: the file is opened once and its first 8 bytes decide.  One that
 * starts with RP_POLICY_FILE_MAGIC is opened as by rp_policy_open()
 * (mapped, from the same open file); any other is compiled as by
 * rp_policy_compile_file() (the same limits, relative includes resolved
 * against the file's directory unless opts->base_dir is set, errors with
 * the file, line and column).  A file that starts with the magic but is
 * damaged or of another format version is refused with RP_E_FORMAT; it
 * is never compiled as text.  The check and the read use one open file,
 * so a file renamed over @p path meanwhile cannot reach the wrong reader.
 * (Since 1.2.0.)
 *
 * @param path  NUL-terminated; NULL gives RP_E_ARG.  Only a regular file
 *              is read (never blocking on a FIFO: RP_E_IO).
 * @param opts  NULL for defaults; as rp_policy_open() for a compiled file,
 *              as rp_policy_compile_file() for text.
 * @param out   receives the policy (reference count 1), NULL on failure.
 *              Must not be NULL (RP_E_ARG).  Free with rp_policy_free().
 * @param err   optional; filled on failure, err->file naming the file
 *              (or the included file at fault).
 * @return RP_OK; RP_E_IO (cannot open or read it, not a regular file),
 *         RP_E_FORMAT (a damaged or foreign compiled policy file), what
 *         rp_policy_compile_file() returns for text, RP_E_NOMEM, RP_E_ARG.
 * Thread safety: safe; the options are only read.  Ownership: as
 * rp_policy_open() for a compiled file (the mapping belongs to the
 * policy), as rp_policy_compile() for text (nothing of the file is kept).
 */
RP_API rp_status rp_policy_load_path(const char *path,
                                     const rp_options *opts,
                                     rp_policy **out,
                                     rp_error *err);

/** Severity of a lint finding. */
typedef enum rp_severity {
    RP_SEV_INFO = 1,
    RP_SEV_WARNING = 2,
    RP_SEV_CRITICAL = 3
} rp_severity;

/** One lint finding; every pointer is valid only during the callback. */
typedef struct rp_finding {
    uint32_t severity;   /**< an rp_severity. */
    const char *code;    /**< stable identifier, e.g. "wide-relay-range". */
    const char *file;    /**< policy file, or "<string>". */
    uint32_t line;       /**< 0 when the finding is not tied to a line. */
    const char *message; /**< what is wrong. */
    const char *advice;  /**< one line of what to do. */
    uint64_t reserved[4];
} rp_finding;

/** Receives lint findings: return 0 to continue, non-zero to stop. */
typedef int (*rp_finding_fn)(void *ctx, const rp_finding *finding);

/**
 * Audit a policy (relaypolicy(7) §7) and report each finding.
 * @param count  optional; receives the number of findings reported.
 * @return RP_OK, RP_E_ARG for NULL policy or callback.
 */
RP_API rp_status rp_policy_lint(const rp_policy *policy,
                                rp_finding_fn report,
                                void *ctx,
                                size_t *count);

/** A listener as compiled (see rp_policy_listener()). */
typedef struct rp_listener_info {
    const char *name; /**< borrowed from the policy. */
    const char *file; /**< where it was defined. */
    uint32_t line;
    uint32_t n_binds;
    uint32_t require_auth; /**< 1 when the listener requires auth. */
    char bind_ip[48];      /**< first explicit bind address, or "" if none. */
    uint32_t bind_port;    /**< first explicit bind port, or 0 if any. */
    int32_t bind_family;   /**< 4 or 6: the family of the first bind. */
    uint64_t reserved[4];
} rp_listener_info;

/** The number of listeners of a policy (0 for NULL). */
RP_API size_t rp_policy_listener_count(const rp_policy *policy);

/**
 * Describe listener @p index (0-based, in file order).
 * @return RP_OK, or RP_E_ARG for NULL or an index out of range.
 */
RP_API rp_status rp_policy_listener(const rp_policy *policy,
                                    size_t index,
                                    rp_listener_info *info);

/* ------------------------------------------------------------------------
 * Relay exposure: who can relay through the server without credentials
 *
 * When a policy is compiled, the library works out exactly, for every
 * listener, the client addresses from which an unauthenticated client
 * (no login, no certificate) holds `relay`, on which local addresses and
 * ports, towards which destinations, and by which rule (relaypolicy(7)
 * §7).  The analysis cuts the IPv4 and the IPv6 address space at every
 * prefix of the lists that decide it (remote ranges, binds, network,
 * all-except and interface relay rules, deny client) and looks each
 * piece up in the compiled prefix table: it is exact, never sampled, and
 * agrees with rp_decide() for every address.  The same analysis refuses
 * unsafe policies (RP_E_UNSAFE), drives lint and `relaypolicy relaytest`.
 * ------------------------------------------------------------------------ */

/** A range of addresses of one family. */
typedef struct rp_exposure_range {
    int32_t family;    /**< 4 or 6. */
    uint8_t first[16]; /**< network order; IPv4 in first[0..3]. */
    uint8_t last[16];  /**< the last address, inclusive, same layout. */
    /** The range is exactly one prefix of this length (0-32 or 0-128),
     * or -1.  An IPv6 range never includes ::ffff:0:0/96 (that block is
     * the IPv4 space), so "::/0" is every IPv6 client. */
    int32_t prefix_len;
    char text[100]; /**< "192.0.2.0/24", or "192.0.2.5-192.0.2.9". */
} rp_exposure_range;

/** A local address range and port a listener is selected on. */
typedef struct rp_exposure_local {
    rp_exposure_range range;
    /** The local port, or 0 for every port that no bind of the policy
     * names. */
    uint32_t port;
} rp_exposure_local;

/** Towards which destinations a range relays. */
typedef enum rp_exposure_dest {
    RP_EXPOSURE_EVERY_EXTERNAL = 1, /**< every external domain. */
    /** Only the domains of dest_patterns (a `relay to LIST` grant). */
    RP_EXPOSURE_DOMAINS = 2
} rp_exposure_dest;

/**
 * One exposed range: clients in `client`, unauthenticated, connecting to
 * any of `locals`, are selected by listener `listener_index` and hold
 * relay there towards `destinations` because of the rule at
 * rule_file:rule_line.  Every pointer is borrowed from the policy and
 * stays valid while the policy is referenced; the struct itself is valid
 * only during the callback.
 */
typedef struct rp_exposure {
    uint32_t listener_index;         /**< 0-based, file order. */
    const char *listener;            /**< its name. */
    rp_exposure_range client;        /**< the client addresses. */
    const rp_exposure_local *locals; /**< where they connect to. */
    size_t n_locals;                 /**< at least 1. */
    rp_exposure_dest destinations;   /**< every external, or DOMAINS. */
    /** With RP_EXPOSURE_DOMAINS, the domain patterns of the scoped grant
     * (normalised: "vendor.example", ".vendor.example", "/re/"); else
     * NULL. */
    const char *const *dest_patterns;
    size_t n_dest_patterns; /**< their number, or 0. */
    uint64_t public_hi;     /**< public client addresses in the */
    uint64_t public_lo;     /**< range, as a 128-bit number, */
    double public_count;    /**< and approximately. */
    const char *rule_file;  /**< the relay grant responsible. */
    uint32_t rule_line;
    uint32_t rule_column;
    const char *rule_text; /**< its statement, normalised. */
    void *reserved[8];
} rp_exposure;

/** Receives exposed ranges: return 0 to continue, non-zero to stop. */
typedef int (*rp_exposure_fn)(void *ctx, const rp_exposure *range);

/**
 * Report every range from which an unauthenticated client can relay,
 * listener by listener (file order), then by family (IPv4 first) and
 * address.  Public addresses exclude the special-purpose blocks of
 * relaypolicy(7) §7; the documentation blocks count as public.
 *
 * Computed once at compile time: this call only replays it, never
 * allocates, and reports nothing for a policy that relays for no one
 * without credentials.
 * @param policy  NULL gives RP_E_ARG.
 * @param report  NULL gives RP_E_ARG.
 * @param ctx     passed to @p report.
 * @return RP_OK (also when @p report stopped the walk), RP_E_ARG.
 * Thread safety: safe on a shared policy from any number of threads.
 */
RP_API rp_status rp_policy_exposure(const rp_policy *policy,
                                    rp_exposure_fn report,
                                    void *ctx);

/** A listener's exposure in totals (see rp_policy_exposure_summary()). */
typedef struct rp_exposure_summary {
    uint64_t public4;    /**< public IPv4 clients that relay (each once). */
    uint64_t public6_hi; /**< public IPv6 clients that relay, as a */
    uint64_t public6_lo; /**< 128-bit number, */
    double public6;      /**< and approximately. */
    uint64_t served4;    /**< public IPv4 clients the listener serves. */
    double served6;      /**< public IPv6 clients it serves (approx.). */
    size_t n_ranges;     /**< ranges rp_policy_exposure() reports for it. */
    /** At or over the compile thresholds (2^24 public IPv4 or 2^96
     * public IPv6 addresses): only compiled with `allow open-relay`. */
    bool unsafe;
    void *reserved[4];
} rp_exposure_summary;

/**
 * Totals of listener @p index's unauthenticated relay exposure.
 * @param summary  filled in; NULL gives RP_E_ARG.
 * @return RP_OK, or RP_E_ARG for NULL or an index out of range.
 * Thread safety: safe on a shared policy.  Never allocates.
 */
RP_API rp_status rp_policy_exposure_summary(const rp_policy *policy,
                                            size_t index,
                                            rp_exposure_summary *summary);

/* ------------------------------------------------------------------------
 * Deciding
 * ------------------------------------------------------------------------ */

/** Fill rp_decision.explanation with a step-by-step trace. */
#define RP_QUERY_EXPLAIN (1u << 0)
/** The session is protected by TLS (reserved for future rules). */
#define RP_QUERY_TLS (1u << 1)
/**
 * The client gave SMTPUTF8 on MAIL FROM (RFC 6531): a UTF-8 local part or
 * a U-label domain is then valid in the sender and the recipient.
 * Without it such an address is refused with 553 5.6.7, reason
 * smtputf8-required; an A-label (xn--) address is ASCII and needs no flag.
 */
#define RP_QUERY_SMTPUTF8 (1u << 2)

struct sockaddr;

/**
 * An IP address in binary form.  family 0 means "not given"; 4 is IPv4
 * with the address in addr[0..3]; 6 is IPv6 in addr[0..15] (an address in
 * ::ffff:0:0/96 is the IPv4 address it embeds).  Network byte order.
 */
typedef struct rp_ip {
    uint32_t family;  /**< 0, 4 or 6. */
    uint8_t addr[16]; /**< network byte order; unused bytes zero. */
} rp_ip;

/**
 * Parse strict IP text (relaypolicy(7) §2: inet_pton forms, no zone id).
 * @param text  need not be NUL-terminated; @p len may be RP_NTS.
 * @param out   receives the address; must not be NULL.
 * @return RP_OK, or RP_E_ARG for NULL or text that is not a strict address.
 * Thread safety: safe from any thread.
 */
RP_API rp_status rp_ip_parse(const char *text, size_t len, rp_ip *out);

/**
 * Convert a socket address (AF_INET or AF_INET6, e.g. from accept() or a
 * milter's connect callback) as MMDB_lookup_sockaddr() takes it.
 * @return RP_OK, or RP_E_ARG for NULL or another address family.
 */
RP_API rp_status rp_ip_from_sockaddr(const struct sockaddr *sa, rp_ip *out);

/**
 * The session facts for one recipient (relaypolicy(7) §2).  Every string
 * is a pointer and a length (or RP_NTS); the caller owns them and the
 * library keeps none after the call.  Zero the struct before filling it:
 * rp_decide() refuses non-zero reserved fields and unknown flag bits.
 *
 * The client and local addresses are given either in binary (client,
 * local: family 4 or 6) or as text (client_ip, local_ip), not both.
 * The fields from peer on were carved from the reserved space of 1.0: a
 * caller that zeroes the struct and never sets them decides as before.
 */
typedef struct rp_query {
    uint32_t flags;        /**< RP_QUERY_* bits. */
    uint32_t local_port;   /**< required: 1-65535. */
    rp_ip client;          /**< the client's address, binary form. */
    rp_ip local;           /**< the address the client reached, binary. */
    const char *client_ip; /**< or as strict IPv4 or IPv6 text. */
    size_t client_ip_len;
    const char *local_ip; /**< or as text. */
    size_t local_ip_len;
    const char *user; /**< NULL: unauthenticated; else the login. */
    size_t user_len;
    const char *const *groups; /**< n_groups NUL-terminated group names */
    size_t n_groups;           /**< the caller resolved for the user. */
    const char *sender; /**< MAIL FROM; NULL or "" or "<>": null sender. */
    size_t sender_len;
    const char *recipient; /**< required: RCPT TO, brackets optional. */
    size_t recipient_len;
    const char *helo; /**< optional; for explanations only. */
    size_t helo_len;
    /** Optional: the host that actually connected, when client/client_ip
     * is a claim it made (XCLIENT, a PROXY header).  The claim is believed
     * only when the peer is in the policy's `trusted-proxy` list; otherwise
     * the peer is the client (relaypolicy(7) §4.2).  With a peer, the
     * client may be left out: the peer is then the client.  Binary form
     * (family 4 or 6) or text (peer_ip), not both. */
    rp_ip peer;
    uint32_t reserved1;  /**< must be zero. */
    const char *peer_ip; /**< or the peer as strict IP text. */
    size_t peer_ip_len;
    /** Optional: the SHA-256 fingerprint of the public key (SPKI) of the
     * client certificate, as Postfix's ccert_pubkey_fingerprint gives it:
     * 64 hex digits, colons anywhere ignored, any case.  Anything else is
     * an API error. */
    const char *cert_fingerprint;
    size_t cert_fingerprint_len;
    /** Room for later facts; must be zero. */
    uint64_t reserved[9];
} rp_query;

/** Longest reply line rp_decide() produces, NUL excluded, is below this. */
#define RP_REPLY_MAX 512
/** Longest destination or rewritten address is below this (NUL excluded). */
#define RP_ADDR_MAX 320

/** rp_decision.flags: the explanation did not fit and was cut. */
#define RP_DECISION_TRUNCATED (1u << 0)

/**
 * A decision.  Caller-allocated; rp_decide() fills every field.  The
 * strings reply, destination, rewritten and explanation are NUL-terminated
 * (their lengths given as well) and point into the workspace: they stay
 * valid until the next rp_decide() with that workspace or its
 * rp_workspace_free().  text, listener, rule_file point into the policy
 * and stay valid while the policy is referenced; detail is static.
 */
typedef struct rp_decision {
    uint32_t verdict;       /**< an rp_verdict. */
    uint32_t reason;        /**< an rp_reason. */
    uint32_t step;          /**< the relaypolicy(7) §5 step (rp_step). */
    uint32_t code;          /**< basic reply code, e.g. 550. */
    char enhanced[16];      /**< enhanced status code, e.g. "5.7.1". */
    int32_t listener_index; /**< -1 when no listener matched. */
    int32_t rule;           /**< deciding rule's index, -1 for none. */
    uint32_t rule_line;     /**< its line, 0 for none. */
    int32_t prefix_len;     /**< matched network prefix, -1 for none. */
    uint32_t permissions;   /**< RP_PERM_* the client holds. */
    uint32_t flags;         /**< RP_DECISION_* bits. */
    const char *text;       /**< reply text without codes (policy). */
    const char *listener;   /**< the listener's name, or "" (policy). */
    const char *rule_file;  /**< the rule's file, or "" (policy). */
    const char *detail;     /**< static text for a failed call, or "". */
    const char *reply;      /**< full reply line, no CRLF (workspace). */
    size_t reply_len;
    const char *destination; /**< effective destination, or "". */
    size_t destination_len;
    const char *rewritten; /**< rewritten recipient, or "". */
    size_t rewritten_len;
    /** The trace with RP_QUERY_EXPLAIN, else "": one line per step, cut at
     * the workspace's explain_capacity (then flags has
     * RP_DECISION_TRUNCATED). */
    const char *explanation;
    size_t explanation_len;
    uint64_t reserved[8]; /**< set to zero. */
} rp_decision;

/**
 * A workspace: the memory one decision needs besides the stack (PCRE2
 * match data and JIT stack, the parsed addresses, the decision's text
 * buffers), as pcre2_match_data is for pcre2_match().  Create one per
 * thread, once, and pass it to every rp_decide() on that thread; any
 * policy may be decided with it.
 */
typedef struct rp_workspace rp_workspace;

/**
 * Create a workspace.
 * @param opts  NULL for defaults; used: allocator, explain_capacity,
 *              batch_capacity.
 * @param out   receives the workspace, or NULL on failure; not NULL.
 * @return RP_OK, RP_E_NOMEM, RP_E_ARG (NULL @p out, explain_capacity out
 *         of range, unknown flags or non-zero reserved fields).
 * Thread safety: a workspace is used by one thread at a time.
 */
RP_API rp_status rp_workspace_new(const rp_options *opts, rp_workspace **out);

/** Free a workspace; NULL is a no-op.  Its decision strings die with it. */
RP_API void rp_workspace_free(rp_workspace *ws);

/**
 * Decide one recipient (relaypolicy(7) §5).
 *
 * Never allocates, never blocks, keeps nothing of the query.  On RP_OK the
 * decision is complete.  An internal failure (a regex hitting its limit,
 * the decision's regex budget spent) still returns RP_OK with a TEMPFAIL
 * 451 4.3.0 decision, reason internal-error, and `detail` saying what
 * happened: a failure never accepts or relays.
 *
 * Stack: besides the workspace, a decision needs at most 16 KiB of the
 * calling thread's stack (regexes run on the workspace's JIT stack and
 * match data); threads with 40 KiB stacks are tested.
 *
 * @param policy     a compiled policy; NULL gives RP_E_ARG.
 * @param query      the facts; NULL gives RP_E_ARG.
 * @param workspace  this thread's workspace; NULL gives RP_E_ARG.
 * @param decision   filled in; NULL gives RP_E_ARG.  On an error status
 *                   the verdict is RP_VERDICT_NONE and `detail` says why.
 * @return RP_OK, or RP_E_ARG for bad facts: a NULL pointer, an IP missing,
 *         given twice, or not strict inet_pton text, a port outside
 *         1-65535, an empty user or group name or one with control
 *         characters, a missing recipient, unknown flag bits or non-zero
 *         reserved fields.
 * Thread safety: any number of threads may decide on one policy at once,
 * each with its own workspace.
 */
RP_API rp_status rp_decide(const rp_policy *policy,
                           const rp_query *query,
                           rp_workspace *workspace,
                           rp_decision *decision);

/**
 * Decide several recipients at once: the answers of rp_decide() on each
 * query in turn, faster.  All queries are checked and their addresses
 * parsed first, the client addresses are then looked up together and the
 * domain tables' lines fetched for all, and each decision is finished
 * last, so that the cache misses of the queries overlap instead of adding
 * up.  For an MTA or a policy server with several recipients (of one
 * message, or of several connections) waiting at once.
 *
 * Decision i's reply, destination, rewritten and explanation strings live
 * in slot i of the workspace and stay valid until the next rp_decide() or
 * rp_decide_batch() with it (or its rp_workspace_free()), so every
 * decision of a batch can be read after the call.  Never allocates, never
 * blocks, keeps nothing of the queries.
 *
 * @param policy     a compiled policy; NULL gives RP_E_ARG.
 * @param queries    @p n queries; NULL gives RP_E_ARG unless @p n is 0.
 * @param n          at most the workspace's batch_capacity (RP_E_LIMIT
 *                   otherwise, and nothing is decided); 0 does nothing.
 * @param workspace  this thread's workspace, made with a batch_capacity
 *                   of at least @p n; NULL gives RP_E_ARG.
 * @param decisions  @p n decisions, filled as rp_decide() fills one; NULL
 *                   gives RP_E_ARG unless @p n is 0.
 * @param statuses   optional (NULL allowed): @p n statuses, each what
 *                   rp_decide() returns for that query.
 * @return RP_OK when every query was decided; RP_E_ARG when one had bad
 *         facts (its status says which; the others are still decided);
 *         RP_E_ARG or RP_E_LIMIT for a bad call, when no decision is
 *         filled.
 * Thread safety: as rp_decide(): any number of threads on one policy,
 * each with its own workspace.
 */
RP_API rp_status rp_decide_batch(const rp_policy *policy,
                                 const rp_query *queries,
                                 size_t n,
                                 rp_workspace *workspace,
                                 rp_decision *decisions,
                                 rp_status *statuses);

/* ------------------------------------------------------------------------
 * Builder: a policy assembled by calls instead of text
 *
 * The policy language is compiled through exactly these calls.  Strings are
 * NUL-terminated and copied.  A failed call leaves the builder usable but
 * rp_builder_build() will then refuse to build.  Patterns:
 *   domains:   "example.com" exact, ".example.com" the domain and every
 *              subdomain, "/regex/" a PCRE2 pattern;
 *   addresses: "user@example.com", "@example.com", "@.example.com" or
 *              ".example.com", "/regex/";
 *   networks:  "192.0.2.0/24", "2001:db8::/32", "192.0.2.1".
 * ------------------------------------------------------------------------ */

typedef struct rp_builder rp_builder;

/**
 * Start a policy.
 * @param opts  NULL for defaults; copied.
 * @param out   receives the builder, or NULL on failure.
 * @return RP_OK, RP_E_NOMEM, RP_E_ARG.
 */
RP_API rp_status rp_builder_new(const rp_options *opts, rp_builder **out);

/** Free a builder (NULL is a no-op).  Built policies are unaffected. */
RP_API void rp_builder_free(rp_builder *b);

/**
 * Set the source location recorded with every following item, for
 * explanations, lint and error messages.
 * @param file  NULL keeps the current file name ("<builder>" at first).
 */
RP_API rp_status rp_builder_set_source(rp_builder *b,
                                       const char *file,
                                       uint32_t line,
                                       uint32_t column);

/**
 * Declare a domain.
 * @param target  for RP_DOMAIN_REROUTE, the domain to rewrite to; else NULL.
 */
RP_API rp_status rp_builder_domain(rp_builder *b,
                                   const char *pattern,
                                   rp_domain_kind kind,
                                   const char *target,
                                   rp_error *err);

/**
 * Add a known recipient to a local domain's list (recipient validation).
 * @param domain     a domain declared with rp_builder_domain() (any order).
 * @param recipient  a local part ("alice") or a full address.
 */
RP_API rp_status rp_builder_recipient(rp_builder *b,
                                      const char *domain,
                                      const char *recipient,
                                      rp_error *err);

/**
 * Turn recipient validation on for a local domain, whether or not any
 * rp_builder_recipient() entry follows: a list declared this way and left
 * empty (an empty list file) refuses every recipient but postmaster
 * (550 5.1.1, relaypolicy(7) §4.1); it never switches validation off.
 * rp_builder_recipient() turns validation on by itself.
 * @param b       the builder; NULL gives RP_E_ARG.
 * @param domain  a domain declared with rp_builder_domain() (any order;
 *                rp_builder_build() refuses one that is not local).
 * @param err     optional (NULL allowed); filled on failure.
 * @return RP_OK, RP_E_ARG (bad domain), RP_E_NOMEM.  The builder copies
 *         what it needs.  Not thread-safe on one builder.
 */
RP_API rp_status rp_builder_recipient_list(rp_builder *b,
                                           const char *domain,
                                           rp_error *err);

/** Add an entry (CIDR or address) to the named network list. */
RP_API rp_status rp_builder_network(rp_builder *b,
                                    const char *name,
                                    const char *cidr,
                                    rp_error *err);

/** Add a user to a policy-defined group. */
RP_API rp_status rp_builder_group(rp_builder *b,
                                  const char *group,
                                  const char *user,
                                  rp_error *err);

/**
 * Begin a listener.
 * @param index  receives the listener's index for the listener calls.
 */
RP_API rp_status rp_builder_listener(rp_builder *b,
                                     const char *name,
                                     uint32_t *index,
                                     rp_error *err);

/**
 * Add a bind address: "0.0.0.0:25", "[::]:25", "*:587", "192.0.2.1:*",
 * "[2001:db8::1]:25", "*" (every address, every port).
 */
RP_API rp_status rp_builder_bind(rp_builder *b,
                                 uint32_t listener,
                                 const char *bind,
                                 rp_error *err);

/** Add a remote range (CIDR, or a network list name) the listener serves. */
RP_API rp_status rp_builder_remote(rp_builder *b,
                                   uint32_t listener,
                                   const char *cidr_or_list,
                                   rp_error *err);

/** Apply a role preset (relaypolicy(7) §4.2). */
RP_API rp_status rp_builder_role(rp_builder *b,
                                 uint32_t listener,
                                 rp_role role,
                                 rp_error *err);

/** Set `require auth` on a listener. */
RP_API rp_status rp_builder_require_auth(rp_builder *b,
                                         uint32_t listener,
                                         bool on,
                                         rp_error *err);

/**
 * Grant (deny = false) or deny permissions to a principal.
 * @param arg    the user, group, network list name or CIDR for the
 *               principals that take one; NULL for anonymous/authenticated.
 * @param perms  a non-empty set of RP_PERM_* bits.
 */
RP_API rp_status rp_builder_rule(rp_builder *b,
                                 uint32_t listener,
                                 bool deny,
                                 rp_principal principal,
                                 const char *arg,
                                 uint32_t perms,
                                 rp_error *err);

/**
 * A rule with the narrower forms of relaypolicy(7) §4.2; rp_builder_rule()
 * is this call with @p from NULL and no destinations.
 * @param principal  RP_PRINCIPAL_CERTIFICATE takes, in @p arg, a
 *                   certificate list name (rp_builder_certificate()) or one
 *                   fingerprint (64 hex digits, colons ignored).
 * @param from       NULL, or a network list name or CIDR the client must
 *                   also be in (a login bound to a network); only with
 *                   RP_PRINCIPAL_USER, RP_PRINCIPAL_GROUP and
 *                   RP_PRINCIPAL_AUTHENTICATED.  A leading "!" means the
 *                   client must NOT be in it (all-except).
 * @param relay_to   NULL, or @p n_relay_to domain patterns (the forms of
 *                   rp_builder_domain()): the rule's `relay` holds only
 *                   towards destinations matching one of them.  @p perms
 *                   must hold RP_PERM_RELAY; its other permissions are not
 *                   narrowed.  A scoped relay grant implies neither submit
 *                   nor local-sender.
 * @return RP_OK, RP_E_ARG, RP_E_LIMIT, RP_E_NOMEM.  Everything is copied.
 */
RP_API rp_status rp_builder_rule_ex(rp_builder *b,
                                    uint32_t listener,
                                    bool deny,
                                    rp_principal principal,
                                    const char *arg,
                                    const char *from,
                                    uint32_t perms,
                                    const char *const *relay_to,
                                    size_t n_relay_to,
                                    rp_error *err);

/**
 * `require auth or certificate`: like rp_builder_require_auth(), but a
 * client presenting a certificate that a certificate grant of this
 * listener names passes the gate too.
 */
RP_API rp_status rp_builder_require_auth_or_certificate(rp_builder *b,
                                                        uint32_t listener,
                                                        bool on,
                                                        rp_error *err);

/**
 * Add a fingerprint to the named certificate list: the SHA-256 of a
 * client certificate's public key (SPKI), 64 hex digits in any case,
 * colons anywhere ignored ("3F:A0:..." or "3fa0...").
 */
RP_API rp_status rp_builder_certificate(rp_builder *b,
                                        const char *name,
                                        const char *fingerprint,
                                        rp_error *err);

/**
 * `trusted-proxy`: a CIDR or network list name of hosts whose claims of
 * a client address (rp_query.peer) are believed.
 */
RP_API rp_status rp_builder_trusted_proxy(rp_builder *b,
                                          const char *cidr_or_list,
                                          rp_error *err);

/**
 * Global deny lists, checked on every listener (relaypolicy(7) §4.3): a
 * client CIDR or network list name.
 */
RP_API rp_status rp_builder_deny_client(rp_builder *b,
                                        const char *cidr_or_list,
                                        rp_error *err);
/** Global sender deny list entry (address pattern). */
RP_API rp_status rp_builder_deny_sender(rp_builder *b,
                                        const char *pattern,
                                        rp_error *err);
/** Global recipient deny list entry (address pattern). */
RP_API rp_status rp_builder_deny_recipient(rp_builder *b,
                                           const char *pattern,
                                           rp_error *err);

/**
 * Sender-login map entry: @p sender ("a@example.com" or "@example.com")
 * belongs to @p user.
 */
RP_API rp_status rp_builder_sender_login(rp_builder *b,
                                         const char *sender,
                                         const char *user,
                                         rp_error *err);

/** Declare one of the server's own addresses (for address literals). */
RP_API rp_status rp_builder_self(rp_builder *b, const char *ip, rp_error *err);

/** Validate local parts at the server's own address literals as @p domain. */
RP_API rp_status rp_builder_self_domain(rp_builder *b,
                                        const char *domain,
                                        rp_error *err);

/** Qualify unqualified recipients and senders with @p domain. */
RP_API rp_status rp_builder_qualify_domain(rp_builder *b,
                                           const char *domain,
                                           rp_error *err);

/**
 * Override the reply for a reason.
 * @param code      3 digits in the reason's class (2xx, 4xx or 5xx).
 * @param enhanced  "x.y.z" with the same class digit.
 * @param text      the reply text, printable ASCII.
 */
RP_API rp_status rp_builder_reply(rp_builder *b,
                                  rp_reason reason,
                                  uint32_t code,
                                  const char *enhanced,
                                  const char *text,
                                  rp_error *err);

/** `soft-fail`: turn every policy rejection into a temporary failure. */
RP_API rp_status rp_builder_soft_fail(rp_builder *b, bool on);

/** `allow open-relay`: let an unsafe policy compile. */
RP_API rp_status rp_builder_allow_open_relay(rp_builder *b, bool on);

/**
 * Freeze the builder's content into a policy.  The builder may be freed
 * afterwards or built again.
 * @return RP_OK, RP_E_POLICY, RP_E_UNSAFE, RP_E_STATE (an earlier call
 *         failed), RP_E_NOMEM, RP_E_LIMIT.
 */
RP_API rp_status rp_builder_build(rp_builder *b,
                                  rp_policy **out,
                                  rp_error *err);

/* ------------------------------------------------------------------------
 * Reloading: a slot holding the current policy
 * ------------------------------------------------------------------------ */

/**
 * A slot holds the policy currently in force: this is how a program
 * reloads its policy while other threads keep deciding.  Deciding threads
 * call rp_slot_acquire() for each decision (or batch of decisions) and
 * release what they got with rp_policy_free(); the reloading thread
 * compiles the new policy and, only when that succeeded, installs it with
 * rp_slot_swap().  In-flight decisions keep the policy they acquired,
 * which is freed when the last of them releases it.
 *
 * Do not publish a bare rp_policy pointer and rp_policy_ref() it from
 * other threads: the reference can be taken after the last one was
 * dropped.  The slot takes the pointer and the reference under one lock.
 *
 * Example:
 *
 *     rp_policy *p = rp_slot_acquire(slot);
 *     rp_decide(p, &query, ws, &decision);   // p may be NULL: RP_E_ARG
 *     rp_policy_free(p);
 */
typedef struct rp_policy_slot rp_policy_slot;

/**
 * Create a slot.
 * @param initial  the first policy, or NULL; the slot takes over the
 *                 caller's reference.
 * @param opts     NULL for defaults; only the allocator is used (for the
 *                 slot itself).
 * @param out      receives the slot; must not be NULL.
 * @return RP_OK, RP_E_ARG, RP_E_NOMEM (then @p initial is still the
 *         caller's).
 */
RP_API rp_status rp_slot_new(rp_policy *initial,
                             const rp_options *opts,
                             rp_policy_slot **out);

/**
 * Take a reference to the current policy.  Holds the slot's mutex only to
 * read one pointer and increment one count.
 * @return the policy (release it with rp_policy_free()), or NULL when the
 *         slot is empty or NULL.
 * Thread safety: any number of threads, concurrently with rp_slot_swap().
 */
RP_API rp_policy *rp_slot_acquire(rp_policy_slot *slot);

/**
 * Install @p next (the slot takes over the caller's reference; NULL
 * empties the slot) and release the slot's reference to the previous one,
 * which is freed once no thread holds it.
 * @return RP_OK, or RP_E_ARG for a NULL slot (then @p next is still the
 *         caller's).
 * Thread safety: any thread, concurrently with rp_slot_acquire().
 */
RP_API rp_status rp_slot_swap(rp_policy_slot *slot, rp_policy *next);

/**
 * Release the slot's policy and free the slot.  NULL is a no-op.  No other
 * thread may use the slot any more.
 */
RP_API void rp_slot_free(rp_policy_slot *slot);

/* ------------------------------------------------------------------------
 * Version at run time
 * ------------------------------------------------------------------------ */

/** The library's version as RP_VERSION_NUM (0xMMmmpp). */
RP_API uint32_t rp_version(void);
/** The library's version as a static string, e.g. "1.0.0". */
RP_API const char *rp_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* RELAYPOLICY_H */
