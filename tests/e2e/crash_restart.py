# crash_restart.py - the configuration churn of crash_restart.sh and its check.
#
#   crash_restart.py churn JOURNAL PREFIX PROBE-PORT SEED
#       random valid changes through dpctl, one at a time, until one fails
#       (the daemon was killed) or 400 are done. JOURNAL gets, fsync'ed, a line
#       "try <json op>" before each command and "ack" after it exits 0.
#   crash_restart.py check JOURNAL PREFIX
#       replay the acknowledged ops into a model, read the daemon's state with
#       dpctl, and require: state == model, or state == model + the one
#       unacknowledged op (in flight when the daemon died). Prints a summary.
# DPCTL and DPNET_SOCKET come from the environment.
import json, os, random, subprocess, sys

DPCTL = os.environ["DPCTL"]

def dpctl(*args, check=False):
    p = subprocess.run([DPCTL] + list(args), capture_output=True, text=True, timeout=30)
    if check and p.returncode != 0:
        sys.exit("dpctl %s: %s" % (" ".join(args), p.stderr.strip()))
    return p

def empty():
    return {"nets": {}, "ctrs": {}, "routes": {}, "macs": []}

def apply(m, op):
    k = op["op"]
    if k == "net-create":
        m["nets"][op["name"]] = op["subnet"]
    elif k == "net-rm":
        del m["nets"][op["name"]]
    elif k == "run":
        m["ctrs"][op["name"]] = {"nets": [op["net"]], "pub": op["pub"]}
    elif k == "rm":
        del m["ctrs"][op["name"]]
    elif k == "connect":
        m["ctrs"][op["name"]]["nets"].append(op["net"])
    elif k == "disconnect":
        m["ctrs"][op["name"]]["nets"].remove(op["net"])
    elif k == "route-add":
        m["routes"][op["to"]] = op["via"]
    elif k == "route-rm":
        del m["routes"][op["to"]]
    elif k == "mac-add":
        m["macs"].append(op["mac"])
    elif k == "mac-rm":
        m["macs"].remove(op["mac"])

def argv(op, probe_port):
    k = op["op"]
    if k == "net-create":
        return ["network", "create", "--subnet", op["subnet"], op["name"]]
    if k == "net-rm":
        return ["network", "rm", op["name"]]
    if k == "run":
        a = ["run", "-d", "--name", op["name"], "--network", op["net"]]
        for p in op["pub"]:
            a += ["-p", p]
        return a + ["--", "sleep", "600"]
    if k == "rm":
        return ["rm", "-f", op["name"]]
    if k == "connect":
        return ["connect", op["net"], op["name"]]
    if k == "disconnect":
        return ["disconnect", op["net"], op["name"]]
    if k == "route-add":
        return ["route", "add", op["to"], "via", op["via"]]
    if k == "route-rm":
        return ["route", "rm", op["to"]]
    if k == "mac-add":
        return ["mac", "add", "bridge", op["mac"], probe_port]
    if k == "mac-rm":
        return ["mac", "rm", "bridge", op["mac"]]

def replay(journal):
    """The model of the acknowledged ops and the one in flight (or None)."""
    m, pending = empty(), None
    with open(journal) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("try "):
                pending = json.loads(line[4:])
            elif line == "ack" and pending is not None:
                apply(m, pending)
                pending = None
            elif line == "nak":
                pending = None      # the daemon did not keep it (found out later)
            elif line.startswith("try") or line.startswith("ack"):
                pass  # a torn last line: nothing acknowledged by it
    return m, pending

def pick(m, r, prefix, used_ports):
    """A random change that is valid in model m."""
    nets = sorted(m["nets"])
    ctrs = sorted(m["ctrs"])
    choices = []
    if len(nets) < 4:
        choices.append("net-create")
    free_nets = [n for n in nets if not any(n in c["nets"] for c in m["ctrs"].values())]
    if free_nets:
        choices.append("net-rm")
    if len(ctrs) < 6:
        choices += ["run"] * 3
    if ctrs:
        choices += ["rm"] * 2
    conn = [(n, c) for c in ctrs for n in nets if n not in m["ctrs"][c]["nets"]]
    if conn:
        choices.append("connect")
    disc = [(n, c) for c in ctrs for n in m["ctrs"][c]["nets"][1:]]
    if disc:
        choices.append("disconnect")
    if len(m["routes"]) < 5:
        choices.append("route-add")
    if m["routes"]:
        choices.append("route-rm")
    if len(m["macs"]) < 5:
        choices.append("mac-add")
    if m["macs"]:
        choices.append("mac-rm")
    k = r.choice(choices)
    if k == "net-create":
        i = next(i for i in range(1, 250) if "%sn%d" % (prefix, i) not in m["nets"])
        return {"op": k, "name": "%sn%d" % (prefix, i), "subnet": "10.%d.%d.0/24" % (150 + i % 50, r.randint(0, 255))}
    if k == "net-rm":
        return {"op": k, "name": r.choice(free_nets)}
    if k == "run":
        # (a run cut by the kill can leave its namespace behind, not in the
        # state: dpnetd then refuses the name; crash_restart.sh reports those)
        i = next(i for i in range(1, 13) if "%sc%d" % (prefix, i) not in m["ctrs"] and
                 not os.path.exists("/run/netns/dpnet-%sc%d" % (prefix, i)))
        pub = []
        if r.random() < 0.6:
            hp = r.choice([p for p in range(18000, 18100) if p not in used_ports(m)])
            pub = ["%d:80" % hp]
        return {"op": k, "name": "%sc%d" % (prefix, i), "net": r.choice(["bridge"] + nets), "pub": pub}
    if k == "rm":
        return {"op": k, "name": r.choice(ctrs)}
    if k == "connect":
        n, c = r.choice(conn)
        return {"op": k, "net": n, "name": c}
    if k == "disconnect":
        n, c = r.choice(disc)
        return {"op": k, "net": n, "name": c}
    if k == "route-add":
        while True:
            to = "10.77.%d.0/24" % r.randint(0, 255)
            if to not in m["routes"]:
                return {"op": k, "to": to, "via": "172.17.%d.%d" % (r.randint(100, 254), r.randint(1, 254))}
    if k == "route-rm":
        return {"op": k, "to": r.choice(sorted(m["routes"]))}
    if k == "mac-add":
        while True:
            mac = "02:cc:00:00:%02x:%02x" % (r.randint(0, 255), r.randint(0, 255))
            if mac not in m["macs"]:
                return {"op": k, "mac": mac}
    return {"op": k, "mac": r.choice(m["macs"])}

def used_ports(m):
    return {int(p.split(":")[0]) for c in m["ctrs"].values() for p in c["pub"]}

def churn(journal, prefix, probe_port, seed):
    r = random.Random(seed)
    m, pending = replay(journal) if os.path.exists(journal) else (empty(), None)
    if pending is not None:
        # The op in flight at the last kill: the daemon's state says whether it
        # happened; the check already accepted either. Adopt what the daemon has.
        st = state()
        m2 = json.loads(json.dumps(m))
        apply(m2, pending)
        if st == norm(m2):
            m = m2
            with open(journal, "a") as f:
                f.write("ack\n")
        else:
            with open(journal, "a") as f:
                f.write("nak\n")
    fd = os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    n = 0
    for _ in range(400):
        op = pick(m, r, prefix, used_ports)
        os.write(fd, ("try %s\n" % json.dumps(op, sort_keys=True)).encode())
        os.fsync(fd)
        p = dpctl(*argv(op, probe_port))
        if p.returncode != 0:
            print("churn: %d changes acknowledged, then '%s' failed: %s" % (
                n, " ".join(argv(op, probe_port)), p.stderr.strip()), flush=True)
            return
        os.write(fd, b"ack\n")
        os.fsync(fd)
        apply(m, op)
        n += 1
    print("churn: %d changes acknowledged, none failed" % n)

def norm(m):
    return {
        "nets": sorted(m["nets"].items()),
        "ctrs": sorted((n, sorted(c["nets"]), sorted(c["pub"])) for n, c in m["ctrs"].items()),
        "routes": sorted(m["routes"].items()),
        "macs": sorted(m["macs"]),
    }

def state():
    """The daemon's state, in the model's terms (only what the churn touches)."""
    prefix = os.environ["CHURN_PREFIX"]
    nets = json.loads(dpctl("network", "ls", "--json", check=True).stdout)
    ps = json.loads(dpctl("ps", "--json", check=True).stdout)
    routes = json.loads(dpctl("route", "ls", "--json", check=True).stdout)
    macs = json.loads(dpctl("mac", "ls", "bridge", "--json", check=True).stdout)
    if isinstance(routes, dict):
        routes = routes.get("routes", routes.get("result", []))
    if isinstance(macs, dict):
        macs = macs.get("macs", macs.get("result", []))
    m = empty()
    for n in nets:
        if n["name"].startswith(prefix):
            cfg = (n.get("IPAM") or {}).get("Config") or [{}]
            m["nets"][n["name"]] = n.get("subnet") or cfg[0].get("Subnet")
    for c in ps:
        if not c["name"].startswith(prefix):
            continue
        m["ctrs"][c["name"]] = {"nets": [f["network"] for f in c.get("networks") or []],
                                "pub": ["%d:%d" % (p["host_port"], p["container_port"]) +
                                        ("" if p.get("proto", "tcp") == "tcp" else "/" + p["proto"])
                                        for p in c.get("published") or []]}
    for r in routes:
        if r.get("destination", "").startswith("10.77."):
            m["routes"][r["destination"]] = r.get("gateway")
    for e in macs:
        if e.get("local") and e["mac"].startswith("02:cc:"):
            m["macs"].append(e["mac"])
    return norm(m)

def check(journal):
    m, pending = replay(journal)
    st = state()
    want = norm(m)
    acked = sum(1 for l in open(journal) if l.strip() == "ack")
    if st == want:
        print("state = the last acknowledged change (%d acknowledged so far)%s" % (
            acked, "; the change in flight (%s) is absent" % pending["op"] if pending else ""))
        return
    if pending is not None:
        m2 = json.loads(json.dumps(m))
        apply(m2, pending)
        if st == norm(m2):
            print("state = the last acknowledged change (%d acknowledged so far) plus the one in flight (%s)" % (
                acked, pending["op"]))
            return
    print("state differs from the acknowledged changes (in flight: %s)" % (pending,))
    for k in want:
        if want[k] != st[k]:
            print("  %s: expected %s" % (k, want[k]))
            print("  %s: daemon   %s" % (k, st[k]))
    sys.exit(1)

if __name__ == "__main__":
    os.environ.setdefault("CHURN_PREFIX", sys.argv[3])
    if sys.argv[1] == "churn":
        churn(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        check(sys.argv[2])
