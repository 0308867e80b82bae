"""Differential test of `relaypolicy import postfix` against a real Postfix.

For each configuration in tests/data/import/postfix/<case>/ (main.cf and
master.cf templates, lookup tables, case.json), the test

  1. writes the configuration into a scratch directory (ports chosen free
     at run time, 127.0.0.1 only), runs postmap on its tables;
  2. imports it with `relaypolicy import postfix --config-dir`;
  3. starts that Postfix (postfix -c DIR start), with
     smtpd_authorized_xclient_hosts = 127.0.0.1;
  4. generates facts: clients inside, at the edges of and outside every
     network of the case, without and with XCLIENT LOGIN, each sender and
     each recipient of the case (local, unknown, relay domain, external,
     routing tricks), on every listener;
  5. sends them to Postfix (one session per client state, the recipients
     one after another in it) and to the imported policy
     (`relaypolicy check --batch`), and compares the reply classes
     (2xx / 4xx / 5xx).

Every disagreement must be explained: either by a difference
relaypolicy(1) lists as deliberate (defer_unauth_destination imported as a
permanent refusal; routing forms that are syntax errors for relaypolicy;
the postmaster exemption), or by a finding the importer printed for that
parameter (the import then says it is incomplete).  Anything else fails
the test.  Prints the figures per configuration.

Needs root and Debian's postfix; exits 77 (skip) without them.
"""

import ipaddress
import json
import os
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

POSTMAP = "/usr/sbin/postmap"
TIMEOUT = 20
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from mtalib import (POSTFIX, POSTFIX_SERVICES, SKIP, free_ports,
                    postfix_maillog, postfix_start, postfix_stop, wait_port)

DATA = HERE.parent / "data" / "import" / "postfix"

BASE_MAIN = """
# ---- test harness (no effect on which recipients are accepted) ----
queue_directory = {dir}/queue
data_directory = {dir}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
smtpd_authorized_xclient_hosts = 127.0.0.1
smtpd_hard_error_limit = 100000
smtpd_soft_error_limit = 100000
smtpd_error_sleep_time = 0
smtpd_junk_command_limit = 100000
smtpd_recipient_limit = 100000
smtputf8_enable = no
default_transport = discard
local_transport = discard
relay_transport = discard
virtual_transport = discard
biff = no
"""

def witnesses(networks):
    """Clients at the edges of each network and just outside them."""
    out = []
    for net in networks:
        n = ipaddress.ip_network(net)
        first, last = n.network_address, n.broadcast_address
        out += [first, last, first + n.num_addresses // 2]
        if int(first) > 0:
            out.append(first - 1)
        if int(last) < (2 ** n.max_prefixlen) - 1:
            out.append(last + 1)
    seen, res = set(), []
    for a in out:
        if a.is_multicast or a.is_unspecified:
            continue
        if a.version == 4 and (a.is_reserved or str(a).endswith(".255")
                               or str(a).endswith(".0")) and not a.is_private:
            continue
        if str(a) not in seen:
            seen.add(str(a))
            res.append(str(a))
    return res


class Case:
    def __init__(self, name, cli, keep=False):
        self.name = name
        self.src = DATA / name
        self.spec = json.loads((self.src / "case.json").read_text())
        self.cli = cli
        self.dir = Path(tempfile.mkdtemp(prefix="rp-import-%s-" % name))
        self.dir.chmod(0o755)
        self.etc = self.dir / "etc"
        self.started = False

    # ---- configuration ---------------------------------------------------

    def write(self):
        for sub in ("etc", "queue", "data"):
            (self.dir / sub).mkdir()
        shutil.chown(self.dir / "data", "postfix")
        ports = free_ports(len(self.spec["ports"]))
        self.ports = dict(zip(self.spec["ports"], ports))
        subst = dict(self.ports, dir=str(self.dir))
        for f in self.src.iterdir():
            if f.name in ("case.json", "expected.conf", "expected.rc"):
                continue
            text = f.read_text()
            for k, v in subst.items():
                text = text.replace("{%s}" % k, str(v))
            if f.name == "main.cf":
                text += BASE_MAIN.format(dir=self.dir)
            if f.name == "master.cf":
                text += "\n" + POSTFIX_SERVICES
            (self.etc / f.name).write_text(text)
        for t in self.spec.get("postmap", []):
            subprocess.run([POSTMAP, "-c", str(self.etc), "hash:%s" %
                            (self.etc / t)], check=True, timeout=TIMEOUT)
        for t in self.spec.get("postalias", []):
            subprocess.run(["/usr/sbin/postalias", "-c", str(self.etc),
                            "hash:%s" % (self.etc / t)], check=True,
                           timeout=TIMEOUT)

    def import_policy(self):
        self.policy = self.dir / "policy.conf"
        out = subprocess.run([self.cli, "import", "postfix", "--config-dir",
                              str(self.etc), "-o", str(self.policy)],
                             capture_output=True, text=True, timeout=60)
        self.import_rc = out.returncode
        self.import_report = out.stderr
        if out.returncode not in (0, 1):
            raise RuntimeError("import failed (%d):\n%s" % (out.returncode,
                                                           out.stderr))
        self.findings = [l.strip() for l in out.stderr.splitlines()
                         if l.startswith("  ") and ": " in l and
                         not l.startswith("  <") and "lint" not in l]

    def start(self):
        self.started = True
        postfix_start(self.dir)  # etc/ as write() made it
        for p in self.ports.values():
            wait_port(p, banner=True, timeout=TIMEOUT)

    def stop(self):
        if self.started:
            postfix_stop(self.dir)
        shutil.rmtree(self.dir, True)

    def maillog(self):
        return postfix_maillog(self.dir)[-3000:]

    # ---- facts -----------------------------------------------------------

    def sessions(self):
        s = self.spec
        clients = witnesses(s["networks"]) + s.get("clients", [])
        for port_name in s["ports"]:
            for client in clients:
                for login in [None] + s.get("logins", []):
                    yield (port_name, client, login)

    def ask_postfix(self, port_name, client, login, senders, rcpts):
        """One session per client state: each sender in its own
        transaction (MAIL, the recipients, RSET)."""
        port = self.ports[port_name]
        s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test",
                         timeout=TIMEOUT)
        try:
            s.ehlo("client.test")
            addr = ("IPV6:" + client) if ":" in client else client
            attrs = "ADDR=%s NAME=[UNAVAILABLE]" % addr
            if login:
                attrs += " LOGIN=%s" % login
            code, msg = s.docmd("XCLIENT", attrs)
            if code != 220:
                raise RuntimeError("XCLIENT refused: %d %s" % (code, msg))
            s.ehlo("client.test")
            res = []
            for sender in senders:
                code, msg = s.docmd("MAIL", "FROM:<%s>" % sender)
                if code != 250:
                    res += [(code, msg.decode(errors="replace"))] * len(rcpts)
                    continue
                for r in rcpts:
                    code, msg = s.docmd("RCPT", "TO:<%s>" % r)
                    res.append((code, msg.decode(errors="replace")))
                s.docmd("RSET")
            s.docmd("QUIT")
            return res
        finally:
            s.close()

    def ask_policy(self, facts):
        lines = "".join(json.dumps(f) + "\n" for f in facts)
        out = subprocess.run([self.cli, "check", "--policy", str(self.policy),
                              "--batch"], input=lines, capture_output=True,
                             text=True, timeout=120)
        res = [json.loads(l) for l in out.stdout.splitlines()]
        if len(res) != len(facts):
            raise RuntimeError("check --batch: %d answers for %d facts: %s"
                               % (len(res), len(facts), out.stderr))
        return res

    # ---- comparing -------------------------------------------------------

    def explain(self, fact, pf, rp):
        """Why the classes differ, or None when nothing explains it."""
        code, text = pf
        rpc = rp.get("code", 0)
        to = fact["to"]
        if code // 100 == 4 and "Relay access denied" in text and \
                rp.get("reason") == "relay-denied":
            return "deliberate: defer_unauth_destination is a 5xx refusal"
        if rpc == 501 and code // 100 in (2, 4):
            return "deliberate: a routing form relaypolicy refuses as syntax"
        if "@" not in to and ("%" in to or "!" in to) and code == 504:
            return ("deliberate: an unqualified routing form is judged by "
                    "where it would go")
        if to.lower() == "postmaster" and code // 100 == 2:
            return "deliberate: Postfix accepts <postmaster> from any client"
        if code // 100 == 5 and rpc // 100 == 2 and \
                to.lower().startswith("postmaster"):
            return "deliberate: postmaster is always accepted"
        for f in self.findings:
            param = f.split(":", 1)[0].split(" ")[0]
            for key, matches in self.spec.get("explained_by", {}).items():
                if param == key and any(m in text or m == rp.get("reason")
                                        for m in matches):
                    return "finding: " + f
        return None

    def run(self):
        facts, pf = [], []
        for port_name, client, login in self.sessions():
            rcpts = self.spec["recipients"]
            senders = self.spec["senders"]
            answers = self.ask_postfix(port_name, client, login, senders,
                                       rcpts)
            pairs = [(snd, r) for snd in senders for r in rcpts]
            for (sender, r), a in zip(pairs, answers):
                f = {"client": client, "local": "127.0.0.1:%d" %
                     self.ports[port_name], "from": sender, "to": r,
                     "helo": "client.test"}
                if login:
                    f["user"] = login
                facts.append(f)
                pf.append(a)
        rp = self.ask_policy(facts)
        agree, explained, bad = 0, {}, []
        for f, p, r in zip(facts, pf, rp):
            if "error" in r:
                bad.append((f, p, r))
                continue
            if p[0] // 100 == r["code"] // 100:
                agree += 1
                continue
            why = self.explain(f, p, r)
            if why is None:
                bad.append((f, p, r))
            else:
                explained[why] = explained.get(why, 0) + 1
        return len(facts), agree, explained, bad


def prepared(name, cli, t):
    """The case written, imported and its Postfix started; on other ports
    again (three tries) when another program took a port first."""
    for attempt in range(3):
        case = Case(name, cli)
        case.write()
        case.import_policy()
        t[1:] = [time.monotonic()]
        try:
            case.start()
            t.append(time.monotonic())
            return case
        except RuntimeError as e:
            log = case.maillog()
            case.stop()
            if attempt == 2:
                raise RuntimeError("%s\n%s" % (e, log))
    raise RuntimeError("unreachable")


def main():
    if len(sys.argv) < 2:
        print("usage: postfix_differential.py RELAYPOLICY [CASE...]")
        return 2
    cli = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        print("SKIP: runs Postfix and needs root")
        return SKIP
    if not os.access(POSTFIX, os.X_OK):
        print("SKIP: Debian's postfix is not installed "
              "(scripts/install-deps.sh)")
        return SKIP
    names = sys.argv[2:] or sorted(p.name for p in DATA.iterdir()
                                   if (p / "case.json").exists())
    failed = 0
    t0 = time.monotonic()
    for name in names:
        case = None
        try:
            t = [time.monotonic()]
            case = prepared(name, cli, t)
            n, agree, explained, bad = case.run()
            t.append(time.monotonic())
        except Exception as e:  # report and go on with the next case
            print("%s: ERROR %s\n%s" % (name, e,
                                          case.maillog() if case else ""))
            failed += 1
            if case:
                case.stop()
            continue
        case.stop()
        t.append(time.monotonic())
        print("%-18s seconds: import %.1f, postfix start %.1f, facts %.1f, "
              "stop %.1f" % (name, t[1] - t[0], t[2] - t[1], t[3] - t[2],
                             t[4] - t[3]))
        want_rc = case.spec.get("import_rc", 0)
        print("%-18s facts %5d  agree %5d  explained %4d  unexplained %3d"
              "  import exit %d" % (name, n, agree, sum(explained.values()),
                                    len(bad), case.import_rc))
        for why, k in sorted(explained.items()):
            print("    %5d  %s" % (k, why))
        for f, p, r in bad[:15]:
            print("    UNEXPLAINED %s\n        postfix: %d %s\n"
                  "        policy:  %s" % (json.dumps(f), p[0], p[1],
                                           json.dumps(r)))
        if bad or case.import_rc != want_rc:
            if case.import_rc != want_rc:
                print("    import exit %d, expected %d:\n%s" % (
                    case.import_rc, want_rc, case.import_report))
            failed += 1
    print("total time %.1f s" % (time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
