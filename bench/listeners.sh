#!/bin/sh
# listeners.sh N [shared] - print a policy with N listeners of a
# realistic shape: each listener binds its own address (172.16.0.0/12) on
# one of a few ports, takes its own remote /24 (10.0.0.0/8, or a shared
# named list for every 10th), grants relay to a shared named network and
# a /28 of its own, and denies part of that; a few deny client entries.
# With "shared", remote ranges and grants name only the 20 shared lists
# (no list of its own per listener).
# Compile time: time relaypolicy compile policy.conf out.rpc (see
# doc/benchmarks.md, "Many listeners").
set -eu
n=${1:?usage: listeners.sh N [shared]}
shared=0
[ "${2:-}" = shared ] && shared=1
awk -v n="$n" -v shared="$shared" 'BEGIN {
    print "domain example.com local recipients alice bob"
    print "domain partner.example relay"
    for (k = 0; k < 20; k++)
        printf "network office%d 192.168.%d.0/24 192.168.%d.128/26 2001:db8:%x::/48\n", k, k, k + 100, k
    print "network guests 192.168.99.0/24"
    print "deny client 203.0.113.0/24 198.51.100.7"
    split("25 587 465 2525", ports, " ")
    for (i = 0; i < n; i++) {
        a = int(i / 65536); b = int(i / 256) % 256; c = i % 256
        printf "listener l%d {\n", i
        printf "    bind 172.%d.%d.%d:%d\n", 16 + a, b, c, ports[i % 4 + 1]
        if (i % 10 == 9 || shared)
            printf "    remote office%d\n", i % 20
        else
            printf "    remote 10.%d.%d.0/24\n", a * 64 + b % 64, c
        print "    role gateway"
        printf "    allow network office%d relay\n", i % 20
        if (!shared)
            printf "    allow network 10.%d.%d.16/28 relay\n", a * 64 + b % 64, c
        if (i % 3 == 0)
            print "    deny network guests relay"
        if (i % 5 == 0)
            print "    allow authenticated submit relay"
        print "}"
    }
}'
