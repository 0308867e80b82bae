/*
 * compile.c - `relaypolicy compile`: write a policy as a compiled policy
 * file that relaypolicyd, the milter and the library open without
 * compiling (rp_policy_open()), or check such a file.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char compile_usage[] =
    "usage: relaypolicy compile POLICY -o FILE\n"
    "       relaypolicy compile --check FILE\n"
    "\n"
    "Compile POLICY and write it to FILE as a compiled policy file, which\n"
    "relaypolicyd and every other command open in a few milliseconds\n"
    "instead of compiling.  FILE is replaced atomically: the new file is\n"
    "written next to it, synced, checked and renamed over it, so that\n"
    "readers see the old policy or the new one, never a part.\n"
    "\n"
    "--check reads FILE whole, checks its checksum and its structure, and\n"
    "says which policy it holds.\n"
    "\n"
    "Exit status 0, 2 when the policy does not compile or FILE is\n"
    "damaged, foreign or cannot be written, 64 on a usage error.\n";

static int
check_file(const char *path)
{
    rp_options opts;
    rp_policy *p = NULL;
    rp_error err;
    rp_status st;

    rp_options_init(&opts);
    opts.flags |= RP_OPT_VERIFY;
    memset(&err, 0, sizeof(err));
    st = rp_policy_open(path, &opts, &p, &err);
    if (st != RP_OK) {
        if (err.status == RP_OK)
            err.status = st;
        print_error(&err, path);
        return EXIT_POLICY;
    }
    printf("%s: a compiled policy (format %d), checksum good, %zu "
           "listener%s\n",
           path, RP_POLICY_FILE_VERSION, rp_policy_listener_count(p),
           rp_policy_listener_count(p) == 1 ? "" : "s");
    rp_policy_free(p);
    return 0;
}

int
cmd_compile(int argc, char **argv)
{
    static const opt_spec specs[] = {
        {"help", false}, {"check", false}, {"output", true}};
    opt_state st = {argc, argv, 0, NULL};
    const char *in = NULL, *out = NULL;
    bool check = false;
    rp_policy *p;
    rp_error err;
    int k;

    /* -o is the short form of --output. */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-o") == 0)
            argv[i] = "--output";
    while ((k = opt_next(&st, specs, 3, "compile")) != -2) {
        if (k == -3)
            return EXIT_USAGE;
        if (k == 0) {
            fputs(compile_usage, stdout);
            return 0;
        }
        if (k == 1)
            check = true;
        else if (k == 2)
            out = st.value;
        else if (in != NULL)
            return usage_error("compile", "only one POLICY, please");
        else
            in = st.value;
    }
    if (in == NULL)
        return usage_error("compile", "missing %s", check ? "FILE" : "POLICY");
    if (check)
        return out != NULL ? usage_error("compile", "--check takes no -o")
                           : check_file(in);
    if (out == NULL)
        return usage_error("compile", "missing -o FILE");
    if ((p = load_policy(in)) == NULL)
        return EXIT_POLICY;
    memset(&err, 0, sizeof(err));
    if (rp_policy_save(p, out, &err) != RP_OK) {
        print_error(&err, out);
        rp_policy_free(p);
        return EXIT_POLICY;
    }
    rp_policy_free(p);
    return 0;
}
