#!/usr/bin/env python3
"""Regenerate the seed corpora in fuzz/seeds/<target>/.

The seeds are checked in; run this after changing the lists below or the
test policies under tests/data/.  File names are a short content hash, so
regenerating is idempotent and hand-added seeds (regressions) are kept.
"""
import hashlib
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def write(target, data, prefix="seed"):
    if isinstance(data, str):
        data = data.encode("latin-1")
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    name = "%s-%s" % (prefix, hashlib.sha1(data).hexdigest()[:12])
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def fixed_policy():
    """The policy text of fuzz_common.h, unescaped from its C literal."""
    text = open(os.path.join(HERE, "fuzz_common.h")).read()
    body = text.split("fz_policy_text[] FZ_UNUSED =", 1)[1].split(";", 1)[0]
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', body)
    return "".join(bytes(p, "latin-1").decode("unicode_escape") for p in parts)


EXAMPLE_POLICY = r'''# The example policy of relaypolicy(7) section 8.
domain example.com     local  recipients alice bob
domain .example.net    local
domain partner.org     relay
domain dec.com         reroute compaq.com

network guests   10.9.0.0/16
network devices  10.1.2.3 \
                 10.1.2.4      # two devices
group   helpdesk alice bob

listener internet {
    bind 0.0.0.0:25 [::]:25
    role gateway
    allow network devices relay
    allow group helpdesk relay
    deny  network guests relay       # never route
}
listener submission {
    bind 0.0.0.0:587
    require auth
    allow authenticated submit relay
}

deny client    198.51.100.0/24
deny sender    /@spam\.example$/ /a b#c/
deny recipient trap@example.com
reply relay-denied 554 5.7.1 "Relay access denied"
'''

POLICIES = [
    EXAMPLE_POLICY,
    "",
    "# nothing\n\n   \n\\\n",
    "domain example.com local\nnetwork office 10.0.0.0/8\ngroup admins root\n"
    "listener inside {\n  bind 192.0.2.1:25\n  remote office 172.16.0.0/12\n"
    "  allow interface 192.0.2.1 submit\n  allow user carol relay\n"
    "  allow group admins relay routing\n"
    "  allow network all-except 10.66.0.0/16 relay\n"
    "  deny  network 10.99.0.0/16 relay\n  allow anonymous local-sender\n}\n"
    "listener outside {\n  bind *\n  role all-in-one\n  deny anonymous submit\n"
    "}\n",
    "domain example.com local recipients alice\nrecipients example.com bob\n"
    "self 198.51.100.25\nself-domain example.com\n"
    "qualify-domain example.com\n"
    "sender-login alice alice@example.com @alice.example\nsoft-fail\n"
    "reply unknown-user 550 5.1.1 \"No such user here\"\n"
    "listener mx {\n  bind *:25\n  role gateway\n"
    "  allow authenticated submit\n}\n",
    "allow open-relay\nlistener \\\nmx {\n  bind *:25\n"
    "  allow anonymous relay\n}\n",
    "domain\ta.example\tlocal recipients bob#comment\r\n"
    "listener mx { # the MX\r\n  bind *:25 \\ # first\r\n       *:26\r\n"
    "  role gateway\r\n}\r\ndeny sender /x\\\\y/ \\",
    "".join("listener l%d {\n  bind *:25\n  role %s\n}\n" % (i, r)
            for i, r in enumerate(["gateway", "all-in-one", "mailbox",
                                   "frontend", "submission"])),
    "domain a.example reroute b.example\ndomain b.example reroute c.example\n"
    "domain c.example local\ndomain /^x[0-9]+\\.example$/ relay\n",
    "domain a.example reroute b.example\ndomain b.example reroute a.example\n",
    "listener mx {\n  bind *:25\n  allow anonymous relay\n}\n",
    "network lan 10.0.0.0/8 \\\n    10.1.2.3/8\n",
    "listener mx {\n  bind *:25\n",
    "domain x.example local\ndomain x.example relay\n",
    "deny recipient /(a+)+$/\n",
    "deny sender /[/\n",
    "domain example.com local\n# x\0y\n",
    "domain a\x01.example local\n",
    "reply relay-denied 454 4.7.1 \"wrong class\"\n",
    "reply frobnicate 550 5.7.1 \"x\"\n",
    "listener a {\n  bind [2001:db8::1]:25 192.0.2.1:* *:587\n"
    "  allow network all-except 0.0.0.0/0 relay\n}\n",
    "self 192.0.2.01\n",
    "include \"main.conf\"\n",
    "domain example.com local recipients \"users.txt\"\n",
    "network n ::/0\nlisten x {\n}\n",
    "domian example.com local\n",
]


def parse_seeds():
    for p in POLICIES + [fixed_policy()]:
        write("fuzz_parse", p)
    for base, dirs, files in os.walk(os.path.join(ROOT, "tests", "data")):
        for f in files:
            if f == "policy" or f.endswith(".conf"):
                with open(os.path.join(base, f), "rb") as fh:
                    write("fuzz_parse", fh.read())


# relaypolicy(7) §6, with local.example local and remote.example external.
TRICKS = [
    "user@remote.example",
    "user%remote.example@local.example",
    "remote.example!user@local.example",
    "user@remote.example@local.example",
    '"user@remote.example"@local.example',
    '"user%remote.example"@local.example',
    "@local.example:user@remote.example",
    "@local.example,@x:user@remote.example",
    "user@[203.0.113.50]",
    "user%remote.example@[192.0.2.1]",
    '"user%remote.example"',
    "remote.example!user",
    "user@remote.example@",
    "user@REMOTE.EXAMPLE.",
    "<user@remote.example>",
    "user%remote.example%local.example@local.example",
    "a!b!user@local.example",
    "user%@local.example",
    "%@local.example",
    "!@local.example",
    '"u@"@local.example',
    "user@[IPv6:2001:db8::25]",
    "user@[IPv6:::ffff:192.0.2.1]",
    "user@[2001:db8::25]",
    "user@[192.0.2.01]",
    "user%relay.example@local.example",
    "user@fwd.example",
    "user@old.example",
    "user%fwd.example@local.example",
    "x@mx12.partner.example",
    "x@mx.partner.example",
    "x%mx7.partner.example@corp.example",
]

REAL = [
    "alice@local.example",
    "Alice@Local.Example.",
    "postmaster",
    "<postmaster>",
    "postmaster@local.example",
    "postmaster@[192.0.2.1]",
    "nobody@local.example",
    "bob@sub.corp.example",
    "carol",
    "trap@local.example",
    "xxxy@local.example",
    "someone@blocked.example",
    "someone@a.blocked.example",
    '"john smith"@local.example',
    '"a\\"b\\\\c"@local.example',
    '"bob"@local.example',
    "first.last+tag@relay.example",
    "o'reilly@relay.example",
    "user@xn--bcher-kva.example",
    "<>",
    "",
    "<@a.example,@b.example:user@c.example>",
    "a" * 64 + "@local.example",
    "a" * 65 + "@local.example",
    "u@" + ".".join(["a" * 63] * 4),
    "u@" + "b" * 250 + ".example",
    "user@local.example\r\n",
    "us\x00er@local.example",
    "j\xc3\xb6rg@local.example",
    ".user@local.example",
    "user.@local.example",
    "us..er@local.example",
    "user@-bad.example",
    "user@local..example",
    "user@[300.1.1.1]",
    "user@[IPv6:fe80::1%eth0]",
    "<user@local.example",
    "user@local.example>",
]

SENDERS = ["", "<>", "admin@local.example", "x@spam.example",
           "bob@bad.example", "alice@local.example", "x@alice.example",
           "user@[192.0.2.1]", "someone@outside.example", "bad sender@"]


def address_seeds():
    for a in TRICKS + REAL + SENDERS:
        write("fuzz_address", a)


IPS = [
    "192.0.2.1", "0.0.0.0", "255.255.255.255", "10.1", "010.1.1.1",
    "1.2.3.4.", " 1.2.3.4", "1.2.3.256", "0x7f.0.0.1", "2130706433",
    "::", "::1", "2001:db8::1", "2001:DB8:0:0:0:0:0:1", "::ffff:192.0.2.1",
    "::ffff:c000:201", "fe80::1%eth0", "1::2::3", "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:1.2.3.4", "::1.2.3.4",
    "0001:0002::", "00001::", "[::1]", "::ffff:1.2.3.04",
    "10.0.0.0/8", "10.0.0.0/08", "10.0.0.0/00", "0.0.0.0/0", "127.0.0.1/8",
    "192.0.2.1/32", "192.0.2.0/33", "::/0", "2001:db8::/32",
    "2001:db8::/129", "::ffff:10.0.0.0/104", "10.0.0.0/", "/8",
    "10.0.0.0/8/8", "2001:db8::1/128", "10.0.0.0/+8", "10.0.0.0/ 8",
]


def ip_seeds():
    for a in IPS:
        write("fuzz_ip", a)


def decide_input(s0, s1, rcpt, sender="", user="", client="", helo=""):
    return bytes([s0, s1]) + "\n".join(
        [rcpt, sender, user, client, helo]).encode("latin-1")


def decide_seeds():
    # Untrusted clients (bit 3) on each listener, every trick and address.
    for i, r in enumerate(TRICKS + REAL):
        write("fuzz_decide", decide_input(8 | (i % 6), 2, r,
                                          SENDERS[i % len(SENDERS)]))
    for s in SENDERS:
        write("fuzz_decide", decide_input(8, 0, "user@remote.example", s))
    # Trusted clients, authenticated users and bad facts.
    write("fuzz_decide", decide_input(1, 0, "x@remote.example"))
    write("fuzz_decide", decide_input(2, 0, "x@remote.example"))
    write("fuzz_decide", decide_input(0x80 | 1, 2,
                                      "u%remote.example@local.example"))
    write("fuzz_decide", decide_input(0x40, 1, "x@remote.example",
                                      "alice@local.example", "alice"))
    write("fuzz_decide", decide_input(0x40, 1, "x@remote.example",
                                      "bob@local.example", "alice"))
    write("fuzz_decide", decide_input(0, 9, "x@remote.example", "", "root"))
    write("fuzz_decide", decide_input(0, 1, "x@remote.example", "", ""))
    write("fuzz_decide", decide_input(0, 1, "x@remote.example", "", "a\nb"))
    write("fuzz_decide", decide_input(0, 4, "x@local.example", "", "",
                                      "010.1.1.1"))
    write("fuzz_decide", decide_input(0, 4, "x@local.example", "", "",
                                      "2001:db8:10::99"))
    write("fuzz_decide", decide_input(0x30, 0, "postmaster@[192.0.2.2]"))
    write("fuzz_decide", decide_input(4, 0, "alice@local.example"))
    write("fuzz_decide", decide_input(8, 0, "x" * 200 + "y@local.example"))


def differential_seeds():
    for i, r in enumerate(TRICKS + REAL):
        sel = i % 8 | (8 if i % 5 == 0 else 0) | ((i % 4) << 6)
        data = bytes([sel]) + "\n".join(
            [r, SENDERS[i % len(SENDERS)], "alice"]).encode("latin-1")
        write("fuzz_differential", data)


def main():
    parse_seeds()
    address_seeds()
    ip_seeds()
    decide_seeds()
    differential_seeds()
    return 0


if __name__ == "__main__":
    sys.exit(main())
