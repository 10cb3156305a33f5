#!/usr/bin/python3
"""perf/sample.py - read one counter of dpnetd as often as possible.

Usage: /usr/bin/python3 perf/sample.py SOCKET CMD PATH SECONDS [--until N] [--every MS]

Keeps one connection to dpnetd's control socket (the JSON-lines protocol of
control/proto.h: hello, then requests) and sends CMD (e.g. "conntrack.stats")
every MS milliseconds (default 1) for SECONDS seconds, or until the value
reaches N; prints one line per answer: "MONOTONIC-SECONDS VALUE", where VALUE
is the number at PATH (dot-separated keys) in the result. bench.sh uses it to
time the first pass over a pcap of distinct flows: the slope of conntrack's
"created" counter is the rate at which the table accepts new connections,
which dpctl's one-second samples cannot resolve (the pass lasts a fraction of
a second).
"""
import json
import socket
import sys
import time


def main():
    a = sys.argv[1:]
    if len(a) < 4:
        sys.exit(__doc__)
    path, cmd, key, secs = a[0], a[1], a[2].split("."), float(a[3])
    until = int(a[a.index("--until") + 1]) if "--until" in a else None
    every = float(a[a.index("--every") + 1]) / 1000 if "--every" in a else 0.001
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    f = s.makefile("rwb")

    def call(c, args=None):
        f.write(json.dumps({"v": 1, "cmd": c, "args": args or {}}).encode() + b"\n")
        f.flush()
        r = json.loads(f.readline())
        if not r.get("ok"):
            sys.exit("sample.py: %s: %s" % (c, r.get("error")))
        return r.get("result")

    call("hello")
    end = time.monotonic() + secs
    out = []
    while time.monotonic() < end:
        t = time.monotonic()
        v = call(cmd)
        for k in key:
            v = v[k]
        out.append("%.6f %d" % (t, v))
        if until is not None and v >= until:
            break
        time.sleep(every)
    print("\n".join(out))


if __name__ == "__main__":
    main()
