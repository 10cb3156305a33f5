#!/usr/bin/python3
"""tests/pkt/run.py - run one golden packet case against the real daemon.

Usage: /usr/bin/python3 run.py CASE
Environment: DPNETD, DPCTL (the programs), PKT_KEEP=1 keeps the scratch dir.

Generates the case with gen.py into a scratch directory, starts dpnetd with a
config that has no port (so nothing reaches the host), adds the case's pcap
ports phase by phase (see gen.py), checks the drop counters of `dpctl stats
--json`, stops the daemon with SIGTERM (which flushes the tx pcaps; it must exit
0 with a clean log) and compares every tx pcap with the expected one, frame by
frame. Exit 0 pass, 1 fail, 77 skip.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DPNETD = os.environ.get("DPNETD") or shutil.which("dpnetd") or ""
DPCTL = os.environ.get("DPCTL") or shutil.which("dpctl") or ""

# Known DPDK noise that is not ours to judge (same list as tests/e2e/lib.sh).
LOG_ALLOW = re.compile(r"failed to create multiq qdisc|Unable to .* qdisc|Could not .* qdisc")
LOG_BAD = re.compile(r"(^|[^A-Za-z])(WARNING|WARN|ERR|ERROR|CRIT|ALERT|EMERG)([^A-Za-z]|$)")


class Fail(Exception):
    pass


def skip(why):
    print("SKIP: %s" % why)
    sys.exit(77)


def read_pcap(path):
    """Frames of a classic pcap as a list of bytes (no scapy needed to compare)."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise Fail("%s: not a pcap (%d bytes): was the daemon stopped cleanly?" %
                   (path, len(data)))
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        end = ">"
    else:
        raise Fail("%s: bad pcap magic %#x" % (path, magic))
    frames, off = [], 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        frames.append(data[off:off + incl])
        off += incl
    return frames


def describe(raw):
    try:
        from scapy.all import Ether
        return Ether(raw).summary()
    except Exception:  # a runt is not worth a traceback
        return raw.hex()


class Daemon:
    def __init__(self, tmp, name):
        self.tmp = tmp
        self.sock = os.path.join(tmp, "dpnet.sock")
        self.state = os.path.join(tmp, "state")
        self.log = os.path.join(tmp, "dpnetd.log")
        # conf/no-ports.yaml: nothing on the host (the built-in config would
        # create the TAP uplink dpnet0 and flood test frames into the host).
        self.config = os.path.join(HERE, "..", "..", "conf", "no-ports.yaml")
        self.prefix = "dppkt-%s-%d" % (name, os.getpid())
        self.proc = None
        os.makedirs(self.state, exist_ok=True)
        if not os.path.exists(self.config):
            self.config = os.path.join(tmp, "dpnet.yaml")
            with open(self.config, "w") as f:
                f.write("# written by tests/pkt/run.py: no ports, adaptive polling\n"
                        "poll:\n  mode: adaptive\n")

    def dpctl(self, *args, check=True):
        r = subprocess.run([DPCTL, "--socket", self.sock] + list(args),
                           capture_output=True, text=True, timeout=30)
        if check and r.returncode != 0:
            raise Fail("dpctl %s failed (%d): %s" % (" ".join(args), r.returncode,
                                                    r.stderr.strip()))
        return r

    def json(self, *args):
        return json.loads(self.dpctl(*(args + ("--json",))).stdout)

    def start(self):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [DPNETD, "--socket", self.sock, "--state-dir", self.state, "--config", self.config,
             "--", "--no-huge", "-m", "512", "--no-pci", "--file-prefix", self.prefix,
             "-l", "0,1"],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Fail("dpnetd exited during start-up (status %d)" % self.proc.returncode)
            if self.dpctl("status", check=False).returncode == 0:
                return
            time.sleep(0.2)
        raise Fail("dpnetd did not answer 'dpctl status' within 30 s")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            raise Fail("dpnetd did not exit within 20 s of SIGTERM")
        if rc != 0:
            raise Fail("dpnetd exited with status %d after SIGTERM (expected 0)" % rc)
        if os.path.exists(self.sock):
            raise Fail("dpnetd left its socket behind")
        with open(self.log, errors="replace") as f:
            bad = [l.rstrip() for l in f if LOG_BAD.search(l) and not LOG_ALLOW.search(l)]
        if bad:
            raise Fail("unexpected WARNING/ERR lines in the daemon log:\n  " +
                       "\n  ".join(bad))

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree("/var/run/dpdk/" + self.prefix, ignore_errors=True)


def find_port(doc, name):
    if isinstance(doc, dict):
        for k in ("ports", "result"):
            if k in doc:
                return find_port(doc[k], name)
    for p in doc:
        if p.get("name") == name:
            return p
    return None


def counter(p, *keys):
    for k in keys:
        if k in p:
            return int(p[k])
    raise Fail("port entry has none of %s: %s" % (keys, json.dumps(p)))


def find_drops(doc):
    """The {reason: count} object of `dpctl stats --json`, wherever it sits."""
    if isinstance(doc, dict):
        if "malformed" in doc and all(isinstance(v, int) for v in doc.values()):
            return doc
        for v in doc.values():
            r = find_drops(v)
            if r is not None:
                return r
    elif isinstance(doc, list):
        for v in doc:
            r = find_drops(v)
            if r is not None:
                return r
    return None


def wait_for(what, cond, timeout=10.0):
    deadline = time.time() + timeout
    while True:
        r = cond()
        if r:
            return r
        if time.time() > deadline:
            raise Fail("timed out waiting for %s" % what)
        time.sleep(0.1)


def run_case(d, case_dir):
    with open(os.path.join(case_dir, "case.json")) as f:
        case = json.load(f)
    print("# %s" % case["description"])
    out = {}
    for i, phase in enumerate(case["phases"]):
        for p in phase["ports"]:
            out[p["name"]] = os.path.join(d.tmp, "out_%s.pcap" % p["name"])
            devargs = "tx_pcap=" + out[p["name"]]
            if p["rx"]:
                devargs = "rx_pcap=%s,%s" % (os.path.join(case_dir, p["rx"]), devargs)
            d.dpctl("add-port", p["name"], "--type", "pcap", "--devargs", devargs)
        # Every frame of the new ports received...
        for p in phase["ports"]:
            if not p["rx"]:
                continue
            n = len(read_pcap(os.path.join(case_dir, p["rx"])))
            wait_for("port %s to receive its %d frames" % (p["name"], n),
                     lambda: counter(find_port(d.json("port", "ls"), p["name"]) or {},
                                     "rx_pkts", "rx-pkts", "rx_packets", "rx") >= n)
        # ...and learned by the control thread (learning is asynchronous).
        for mac in phase["learned"]:
            wait_for("MAC %s in 'mac ls bridge'" % mac,
                     lambda: mac in json.dumps(d.json("mac", "ls", "bridge")).lower())
        # Let the worker finish transmitting the last burst.
        time.sleep(0.3)
        print("ok - phase %d: added %s" % (i + 1, ", ".join(p["name"] for p in phase["ports"])))

    stats = d.json("stats")
    drops = find_drops(stats)
    if drops is None:
        raise Fail("no drop counters (an object with 'malformed') in 'dpctl stats --json': %s"
                   % json.dumps(stats))
    want = case["drops"]
    for reason, n in drops.items():
        if reason in ("learn-full", "learn_full"):
            continue  # not a drop of a frame
        if n != want.get(reason, 0):
            raise Fail("drops[%s] = %d, expected %d (all: %s)" %
                       (reason, n, want.get(reason, 0), drops))
    for reason in want:
        if reason not in drops:
            raise Fail("no drop reason %r in 'dpctl stats --json': %s" % (reason, drops))
    print("ok - drop counters %s" % json.dumps(want or "all zero"))

    d.stop()
    print("ok - dpnetd stopped by SIGTERM: exit 0, clean log")

    for port, exp in sorted(case["expect"].items()):
        want_frames = read_pcap(os.path.join(case_dir, exp))
        got = read_pcap(out[port])
        for k in range(max(len(got), len(want_frames))):
            g = got[k] if k < len(got) else None
            w = want_frames[k] if k < len(want_frames) else None
            if g != w:
                raise Fail("port %s frame %d differs:\n  got      %s\n  expected %s\n"
                           "  (got %d frames, expected %d)" %
                           (port, k + 1, describe(g) if g is not None else "(none)",
                            describe(w) if w is not None else "(none)",
                            len(got), len(want_frames)))
        print("ok - port %s: %d frames as expected" % (port, len(got)))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: run.py CASE")
    name = sys.argv[1]
    if os.geteuid() != 0:
        skip("needs root")
    if not (DPNETD and os.access(DPNETD, os.X_OK) and DPCTL and os.access(DPCTL, os.X_OK)):
        skip("dpnetd/dpctl not built")
    # meson stops a test that overruns its timeout with SIGTERM: clean up then too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = tempfile.mkdtemp(prefix="dpnet-pkt-%s." % name)
    d = Daemon(tmp, name)
    ok = False
    try:
        r = subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), tmp, name],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise Fail("gen.py failed: %s" % r.stderr)
        d.start()
        run_case(d, os.path.join(tmp, name))
        ok = True
    except Fail as e:
        print("FAIL: %s: %s" % (name, e), file=sys.stderr)
        try:
            with open(d.log, errors="replace") as f:
                tail = f.readlines()[-40:]
            print("----- last lines of the daemon log -----\n" + "".join(tail) + "-----",
                  file=sys.stderr)
        except OSError:
            pass
    finally:
        d.kill()
        if ok and os.environ.get("PKT_KEEP") != "1":
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("# scratch directory kept: %s" % tmp, file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
