#!/usr/bin/env bash
# bad_commands: refused commands fail as INTERFACE.md says (one line
# "dpctl: error: ..." on stderr, non-zero exit, nothing changed), and garbage on
# the raw control socket gets an error or a closed connection while the daemon
# stays up.
. "$(dirname "$0")/lib.sh"

# Refusing input is a WARNING by the logging rules: expected here.
allow_log 'WARNING: .*request refused'

start_daemon
run dpctl add-port n0 --type null --devargs no-rx=1
BEFORE=$(dpctl port ls --json) || fail "port ls --json failed"

# refused DESCRIPTION DPCTL-ARGS...: the command fails as the contract says.
refused() {
	local what=$1 rc out err lines
	shift
	out=$(dpctl "$@" 2>"$E2E_TMP/err")
	rc=$?
	err=$(cat "$E2E_TMP/err")
	[ $rc -ne 0 ] || fail "$what: 'dpctl $*' exited 0 (stdout: $out)"
	lines=$(printf '%s\n' "$err" | grep -c .)
	[ "$lines" -eq 1 ] || fail "$what: expected one line on stderr, got $lines: $err"
	[[ "$err" == "dpctl: error: "?* ]] ||
		fail "$what: stderr does not start with 'dpctl: error: ': $err"
	[ -z "$out" ] || fail "$what: unexpected stdout: $out"
	[ "$(dpctl port ls --json)" = "$BEFORE" ] || fail "$what: 'port ls --json' changed"
	daemon_alive || fail "$what: dpnetd died"
	ok "$what: $err"
}

refused "unknown port (stats)"     port stats nosuchport
refused "unknown port (del-port)"  del-port nosuchport
refused "unknown type"             add-port x1 --type bogus --iface lo
refused "missing interface"        add-port x2 --type afpacket --iface "$(ifname zz)"
refused "afpacket without --iface" add-port x3 --type afpacket
refused "duplicate name"           add-port n0 --type null
refused "pcap without devargs"     add-port x4 --type pcap
refused "vhost relative path"      add-port x5 --type vhost --iface relative.sock
refused "unknown network"          add-port x6 --type null --network nosuchnet
refused "bad port name"            add-port 'bad/name' --type null
refused "unknown command"          frobnicate
refused "unknown network (mac ls)" mac ls nosuchnet

# ---- raw socket: each case gets an error response or a closed connection.
"$PY" - "$E2E_SOCK" <<'EOF' || fail "raw socket checks failed"
import json, socket, sys, time

path = sys.argv[1]

def exchange(payload, what, expect_error=True, shut=True):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    try:
        if payload:
            s.sendall(payload)
        if shut:
            s.shutdown(socket.SHUT_WR)
        data = b""
        while b"\n" not in data and len(data) < 1 << 20:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (BrokenPipeError, ConnectionResetError):
        data = b""  # the daemon closed on us: acceptable
    except socket.timeout:
        print("FAIL: %s: no answer and no close within 10 s" % what)
        sys.exit(1)
    finally:
        s.close()
    line = data.split(b"\n", 1)[0]
    if not line:
        print("ok - %s: connection closed" % what)
        return None
    try:
        r = json.loads(line)
    except ValueError:
        print("FAIL: %s: response is not JSON: %r" % (what, line[:200]))
        sys.exit(1)
    if expect_error:
        if not isinstance(r, dict) or r.get("ok") is not False or not r.get("error"):
            print("FAIL: %s: expected an error response, got %r" % (what, line[:200]))
            sys.exit(1)
        print("ok - %s: error %r" % (what, r.get("error")))
    return r

exchange(b"hello there\n", "not JSON")
exchange(b"\x00\xff\xfe garbage \x01\x02\n", "binary garbage")
exchange(b"[1, 2, 3]\n", "JSON but not an object")
exchange(b'"just a string"\n', "JSON string")
exchange(b"{\"v\": 1, \"cmd\": \n", "truncated JSON")
exchange(b'{"v": 999, "cmd": "status"}\n', "unknown protocol version")
exchange(b'{"v": 1, "cmd": "no.such.command"}\n', "unknown command")
exchange(b'{"v": 1, "cmd": "port.add", "args": 42}\n', "args not an object")
exchange(b'{"v": 1, "cmd": "port.add", "args": {"name": 1, "type": []}}\n', "wrong arg types")
exchange(b"[" * 10000 + b"]" * 10000 + b"\n", "deeply nested")
exchange(b"{\"v\":1,\"cmd\":\"status\",\"pad\":\"" + b"A" * (200 * 1024) + b"\"}\n",
         "oversized request (200 KiB)")
exchange(b"x" * (2 * 1024 * 1024), "2 MiB without a newline")
exchange(b"", "connect and close")
exchange(b'{"v": 1, "cm', "partial line then close")
# An error message that would not be UTF-8 (the unknown name is quoted cut at
# 64 bytes, inside the 2-byte 'é'): still the one-line error, not a close.
r = exchange(('{"v": 1, "cmd": "%s\u00e9"}\n' % ("a" * 63)).encode(),
             "unknown command cut inside a UTF-8 character")
if r is None or "unknown command" not in r.get("error", ""):
    print("FAIL: a message cut inside a character got %r" % (r,))
    sys.exit(1)
# A client may only hand over its own process: pid 1 would let it have dpnetd
# signal init on 'rm -f'.
r = exchange(b'{"v": 1, "cmd": "container.run", "args": {"name": "x", "cmd": ["sleep", "1"],'
             b' "pid": 1}}\n', "container.run adopting another process")
if "own pid" not in r.get("error", ""):
    print("FAIL: pid refusal says %r" % r.get("error"))
    sys.exit(1)

# A client that connects and says nothing must not block others.
idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
idle.connect(path)
r = exchange(b'{"cmd": "hello", "v": 1}\n', "hello while another client idles",
             expect_error=False)
if not r or r.get("ok") is not True:
    print("FAIL: hello got %r" % (r,))
    sys.exit(1)
idle.close()
EOF
daemon_alive || fail "dpnetd died on raw socket input"
run dpctl status >/dev/null
[ "$(dpctl port ls --json)" = "$BEFORE" ] || fail "'port ls --json' changed by raw socket input"
ok "daemon alive and unchanged after raw socket garbage"

stop_daemon
