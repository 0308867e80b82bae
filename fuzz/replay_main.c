/*
 * replay_main.c - runs a fuzz target over files without libFuzzer, so the
 * seed corpora run as ordinary tests in every build.
 *
 * Usage: <target> FILE|DIR...  Each file (or each regular file directly
 * inside a directory, in sorted order) is read whole and handed to
 * LLVMFuzzerTestOneInput() once.  A target's invariant violation aborts;
 * an unreadable argument is an error.  Nothing is written.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read and run one file; 0 on success, -1 if it cannot be read. */
static int
run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0, got;

    if (f == NULL) {
        perror(path);
        return -1;
    }
    do {
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap = cap * 2 + 4096);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    /* A private copy of exactly n bytes lets ASan see overreads. */
    {
        uint8_t *exact = malloc(n == 0 ? 1 : n);
        if (exact == NULL) {
            free(buf);
            return -1;
        }
        memcpy(exact, buf, n);
        free(buf);
        LLVMFuzzerTestOneInput(exact, n);
        free(exact);
    }
    return 0;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run every regular file in @p dir; returns the number of failures and
 * adds the number of files run to *count. */
static int
run_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int bad = 0;

    if (d == NULL) {
        perror(dir);
        return 1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **nn = realloc(names, (cap = cap * 2 + 64) * sizeof(*nn));
            if (nn == NULL)
                break;
            names = nn;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct stat st;

        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            bad += run_file(path) != 0;
            ++*count;
        }
        free(names[i]);
    }
    free(names);
    return bad;
}

int
main(int argc, char **argv)
{
    size_t count = 0;
    int bad = 0;

    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;

        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            bad++;
        } else if (S_ISDIR(st.st_mode)) {
            bad += run_dir(argv[i], &count);
        } else {
            bad += run_file(argv[i]) != 0;
            count++;
        }
    }
    printf("%s: %zu inputs replayed, %d unreadable\n", argv[0], count, bad);
    if (count == 0)
        return 1;
    return bad != 0;
}
