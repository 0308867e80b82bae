/*
 * layout.c - print the size and field offsets of every public structure,
 * as the compiler sees include/relaypolicy.h.  test_layout.py compares
 * them with the ctypes declarations of the Python binding.
 */
#include <relaypolicy.h>

#include <stddef.h>
#include <stdio.h>

#define SIZE(s) printf("%s size %zu\n", #s, sizeof(s))
#define VALUE(v) printf("%s value %lu\n", #v, (unsigned long)(v))
#define FIELD(s, f) printf("%s.%s offset %zu\n", #s, #f, offsetof(s, f))

int
main(void)
{
    /* Constants the binding repeats. */
    VALUE(RP_VERSION_MAJOR);
    VALUE(RP_VERSION_MINOR);
    VALUE(RP_ADDR_MAX);
    VALUE(RP_REPLY_MAX);
    VALUE(RP_EXPLAIN_DEFAULT);
    VALUE(RP_QUERY_EXPLAIN);
    VALUE(RP_QUERY_TLS);
    VALUE(RP_DECISION_TRUNCATED);
    VALUE(RP_QUERY_SMTPUTF8);
    VALUE(RP_OPT_NO_FILES);
    VALUE(RP_OPT_NO_JIT);
    VALUE(RP_PERM_SUBMIT);
    VALUE(RP_PERM_RELAY);
    VALUE(RP_PERM_ROUTING);
    VALUE(RP_PERM_LOCAL_SENDER);
    VALUE(RP_ACCEPT);
    VALUE(RP_RELAY);
    VALUE(RP_REJECT);
    VALUE(RP_TEMPFAIL);
    VALUE(RP_STEP_CLASS);
    VALUE(RP_SEV_CRITICAL);
#define RP__STATUS_VALUE(name, value, text) VALUE(RP_##name);
    RP_STATUS_MAP(RP__STATUS_VALUE)
    /* Enumerations are passed as C int by the binding. */
    SIZE(int);
    SIZE(rp_status);
    SIZE(rp_verdict);
    SIZE(rp_reason);
    SIZE(rp_step);
    SIZE(rp_severity);
    SIZE(size_t);
    SIZE(bool);
    SIZE(rp_allocator);
    FIELD(rp_allocator, malloc);
    FIELD(rp_allocator, realloc);
    FIELD(rp_allocator, free);
    FIELD(rp_allocator, ctx);
    SIZE(rp_options);
    FIELD(rp_options, allocator);
    FIELD(rp_options, flags);
    FIELD(rp_options, max_policy_bytes);
    FIELD(rp_options, max_line_length);
    FIELD(rp_options, max_entries);
    FIELD(rp_options, max_rules);
    FIELD(rp_options, max_regex_length);
    FIELD(rp_options, max_include_depth);
    FIELD(rp_options, regex_match_limit);
    FIELD(rp_options, regex_depth_limit);
    FIELD(rp_options, regex_budget);
    FIELD(rp_options, explain_capacity);
    FIELD(rp_options, batch_capacity);
    FIELD(rp_options, base_dir);
    FIELD(rp_options, reserved);
    SIZE(rp_error);
    FIELD(rp_error, status);
    FIELD(rp_error, line);
    FIELD(rp_error, column);
    FIELD(rp_error, offset);
    FIELD(rp_error, file);
    FIELD(rp_error, message);
    FIELD(rp_error, snippet);
    FIELD(rp_error, reserved);
    SIZE(rp_finding);
    FIELD(rp_finding, severity);
    FIELD(rp_finding, code);
    FIELD(rp_finding, file);
    FIELD(rp_finding, line);
    FIELD(rp_finding, message);
    FIELD(rp_finding, advice);
    FIELD(rp_finding, reserved);
    SIZE(rp_listener_info);
    FIELD(rp_listener_info, name);
    FIELD(rp_listener_info, file);
    FIELD(rp_listener_info, line);
    FIELD(rp_listener_info, n_binds);
    FIELD(rp_listener_info, require_auth);
    FIELD(rp_listener_info, bind_ip);
    FIELD(rp_listener_info, bind_port);
    FIELD(rp_listener_info, bind_family);
    FIELD(rp_listener_info, reserved);
    SIZE(rp_ip);
    FIELD(rp_ip, family);
    FIELD(rp_ip, addr);
    SIZE(rp_query);
    FIELD(rp_query, flags);
    FIELD(rp_query, local_port);
    FIELD(rp_query, client);
    FIELD(rp_query, local);
    FIELD(rp_query, client_ip);
    FIELD(rp_query, client_ip_len);
    FIELD(rp_query, local_ip);
    FIELD(rp_query, local_ip_len);
    FIELD(rp_query, user);
    FIELD(rp_query, user_len);
    FIELD(rp_query, groups);
    FIELD(rp_query, n_groups);
    FIELD(rp_query, sender);
    FIELD(rp_query, sender_len);
    FIELD(rp_query, recipient);
    FIELD(rp_query, recipient_len);
    FIELD(rp_query, helo);
    FIELD(rp_query, helo_len);
    FIELD(rp_query, peer);
    FIELD(rp_query, reserved1);
    FIELD(rp_query, peer_ip);
    FIELD(rp_query, peer_ip_len);
    FIELD(rp_query, cert_fingerprint);
    FIELD(rp_query, cert_fingerprint_len);
    FIELD(rp_query, reserved);
    SIZE(rp_decision);
    FIELD(rp_decision, verdict);
    FIELD(rp_decision, reason);
    FIELD(rp_decision, step);
    FIELD(rp_decision, code);
    FIELD(rp_decision, enhanced);
    FIELD(rp_decision, listener_index);
    FIELD(rp_decision, rule);
    FIELD(rp_decision, rule_line);
    FIELD(rp_decision, prefix_len);
    FIELD(rp_decision, permissions);
    FIELD(rp_decision, flags);
    FIELD(rp_decision, text);
    FIELD(rp_decision, listener);
    FIELD(rp_decision, rule_file);
    FIELD(rp_decision, detail);
    FIELD(rp_decision, reply);
    FIELD(rp_decision, reply_len);
    FIELD(rp_decision, destination);
    FIELD(rp_decision, destination_len);
    FIELD(rp_decision, rewritten);
    FIELD(rp_decision, rewritten_len);
    FIELD(rp_decision, explanation);
    FIELD(rp_decision, explanation_len);
    FIELD(rp_decision, reserved);
    return 0;
}
