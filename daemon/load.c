/*
 * load.c - relaypolicyd-load, a load generator for the policy
 * server: many concurrent connections, each sending Postfix-style requests
 * one after another, as smtpd processes do.
 *
 *   relaypolicyd-load -c 64 -n 2000 -d 20 -C 10.1.2.3 \
 *       -s 192.0.2.1 -P 25 inet:127.0.0.1:10040
 *
 * Each connection sends -n requests (bounded further by -d seconds in
 * total), cycling through three recipients whose answers are known for a
 * gateway listener on -s:-P: a local recipient (action=OK), a relay from
 * the outside (action=550 ...) and a relay from the trusted device -C
 * (action=OK).  Any other answer counts as an error.  Prints the number of
 * requests, the time, the rate and the median and 99th percentile of the
 * time from sending a request to reading its answer; exits 1 on any error.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

typedef struct opts {
    const char *target;
    const char *device;
    const char *server;
    const char *port;
    const char *local_rcpt;
    unsigned conns;
    unsigned requests;
    double seconds;
} opts;

static opts o = {NULL, "10.1.2.3", "192.0.2.1", "25", "alice@local.example",
                 32,   1000,       30.0};

typedef struct worker {
    pthread_t thread;
    unsigned long done;
    unsigned long errors;
    double deadline;
    float *lat; /* seconds per request, `done` of them */
} worker;

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
connect_target(void)
{
    const char *t = o.target;
    int fd;

    if (strncmp(t, "unix:", 5) == 0) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", t + 5);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
            close(fd), fd = -1;
        return fd;
    }
    if (strncmp(t, "inet:", 5) == 0)
        t += 5;
    const char *colon = strrchr(t, ':');
    struct sockaddr_in sa = {.sin_family = AF_INET};
    char host[64];

    if (colon == NULL || (size_t)(colon - t) >= sizeof(host))
        return -1;
    memcpy(host, t, (size_t)(colon - t));
    host[colon - t] = '\0';
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -1;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        close(fd), fd = -1;
    return fd;
}

/* Build request @p i and say which answer it expects. */
static size_t
make_request(unsigned long i, char *buf, size_t len, const char **expect)
{
    const char *client = "203.0.113.9";
    const char *rcpt = o.local_rcpt;

    switch (i % 3) {
    case 0:
        *expect = "action=OK\n\n";
        break;
    case 1:
        rcpt = "user@remote.example";
        *expect = "action=550 ";
        break;
    default:
        client = o.device;
        rcpt = "user@remote.example";
        *expect = "action=OK\n\n";
    }
    return (size_t)snprintf(
        buf, len,
        "request=smtpd_access_policy\nprotocol_state=RCPT\n"
        "protocol_name=ESMTP\nclient_address=%s\nclient_name=unknown\n"
        "server_address=%s\nserver_port=%s\nhelo_name=load.test\n"
        "sender=load@example.org\nrecipient=%s\nsasl_username=\n"
        "instance=%lx\n\n",
        client, o.server, o.port, rcpt, i);
}

/* Read one reply (up to its empty line) into @p buf. */
static bool
read_reply(int fd, char *buf, size_t len)
{
    size_t n = 0;

    while (n + 1 < len) {
        ssize_t r = recv(fd, buf + n, len - 1 - n, 0);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        n += (size_t)r;
        buf[n] = '\0';
        if (n >= 2 && strcmp(buf + n - 2, "\n\n") == 0)
            return true;
    }
    return false;
}

static void *
work(void *arg)
{
    worker *w = arg;
    char req[1024], rep[1024];
    const char *expect;
    int fd = connect_target();

    if (fd < 0) {
        w->errors++;
        return NULL;
    }
    for (unsigned long i = 0; i < o.requests && now() < w->deadline; i++) {
        size_t n = make_request(i, req, sizeof(req), &expect);
        double t0 = now();

        if (send(fd, req, n, MSG_NOSIGNAL) != (ssize_t)n ||
            !read_reply(fd, rep, sizeof(rep))) {
            w->errors++;
            break;
        }
        if (strncmp(rep, expect, strlen(expect)) != 0) {
            if (w->errors++ == 0)
                fprintf(stderr, "unexpected reply: %s", rep);
        }
        w->lat[w->done++] = (float)(now() - t0);
    }
    close(fd);
    return NULL;
}

static bool
parse(int argc, char **argv)
{
    int ch;

    while ((ch = getopt(argc, argv, "c:n:d:C:s:P:r:")) != -1) {
        switch (ch) {
        case 'c':
            o.conns = (unsigned)atoi(optarg);
            break;
        case 'n':
            o.requests = (unsigned)atoi(optarg);
            break;
        case 'd':
            o.seconds = atof(optarg);
            break;
        case 'C':
            o.device = optarg;
            break;
        case 's':
            o.server = optarg;
            break;
        case 'P':
            o.port = optarg;
            break;
        case 'r':
            o.local_rcpt = optarg;
            break;
        default:
            return false;
        }
    }
    if (optind + 1 != argc || o.conns == 0 || o.conns > 4096 || o.seconds <= 0)
        return false;
    o.target = argv[optind];
    return true;
}

static int
by_value(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;

    return (x > y) - (x < y);
}

/* The median and 99th percentile of every request's time, microseconds. */
static void
percentiles(const worker *w, unsigned long done, double *p50, double *p99)
{
    float *all = malloc((done + 1) * sizeof(*all));
    unsigned long n = 0;

    *p50 = *p99 = 0;
    if (all == NULL || done == 0) {
        free(all);
        return;
    }
    for (unsigned i = 0; i < o.conns; i++) {
        memcpy(all + n, w[i].lat, w[i].done * sizeof(*all));
        n += w[i].done;
    }
    qsort(all, n, sizeof(*all), by_value);
    *p50 = all[n / 2] * 1e6;
    *p99 = all[(n * 99) / 100] * 1e6;
    free(all);
}

int
main(int argc, char **argv)
{
    unsigned long done = 0, errors = 0;
    worker *w;
    double start, secs, p50, p99;

    if (!parse(argc, argv)) {
        fprintf(stderr, "usage: relaypolicyd-load [-c CONNS] "
                        "[-n REQUESTS] [-d SECONDS] [-C DEVICE_IP] "
                        "[-s SERVER_IP] [-P PORT] [-r LOCAL_RCPT] "
                        "unix:PATH|inet:HOST:PORT\n");
        return 2;
    }
    w = calloc(o.conns, sizeof(*w));
    if (w == NULL)
        return 1;
    start = now();
    for (unsigned i = 0; i < o.conns; i++) {
        w[i].lat = malloc((o.requests + 1) * sizeof(*w[i].lat));
        if (w[i].lat == NULL)
            return 1;
    }
    for (unsigned i = 0; i < o.conns; i++) {
        w[i].deadline = start + o.seconds;
        if (pthread_create(&w[i].thread, NULL, work, &w[i]) != 0)
            return 1;
    }
    for (unsigned i = 0; i < o.conns; i++) {
        pthread_join(w[i].thread, NULL);
        done += w[i].done;
        errors += w[i].errors;
    }
    secs = now() - start;
    percentiles(w, done, &p50, &p99);
    printf("connections %u requests %lu errors %lu seconds %.3f "
           "requests/s %.0f p50_us %.0f p99_us %.0f\n",
           o.conns, done, errors, secs, secs > 0 ? (double)done / secs : 0, p50,
           p99);
    for (unsigned i = 0; i < o.conns; i++)
        free(w[i].lat);
    free(w);
    return errors == 0 && done > 0 ? 0 : 1;
}
