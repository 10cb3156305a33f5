/*
 * dpctl.c - the command-line client of dpnetd.
 *
 * Parses the command line into one request, connects to the control socket,
 * says hello (checking the protocol version), sends the request, waits at most
 * DPCTL_TIMEOUT_MS for the answer, and prints the result as a table (column
 * layout of docker's: at least 10 wide, 3 spaces of padding) or, with --json, as
 * one JSON document on stdout.
 *
 * Exit status: 0 on success, 1 when the command failed (one line
 * "dpctl: error: ..." on stderr), 2 for a usage error (one such line too).
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "proto.h"

#define DPCTL_TIMEOUT_MS 10000          /* wait this long for an answer */
#define DPCTL_MAX_RESPONSE (256u << 20) /* refuse answers larger than this */
#define DPCTL_EXIT_FAIL 1
#define DPCTL_EXIT_USAGE 2

static const char dpctl_usage_text[] =
	"usage: dpctl [--socket PATH] [--json] COMMAND ...\n"
	"\n"
	"Ports:\n"
	"  add-port NAME --type tap|afpacket|vhost|pcap|null|ring|dpdk|vtap [--iface IF]\n"
	"           [--devargs STR] [--network NET] [--role access|uplink|host]\n"
	"           [--address CIDR] [--gateway IP]   an uplink's own address, next hop\n"
	"           [--mtu N]      the uplink network's MTU\n"
	"           [--netns NAME] [--no-default-route]   the host port's TAP (role host)\n"
	"  del-port NAME\n"
	"  port ls                 NAME TYPE NETWORK MAC STATE RX-PKTS TX-PKTS DROPS\n"
	"  port stats NAME\n"
	"Networks:\n"
	"  network create [--driver bridge|overlay] [--subnet CIDR] [--gateway IP]\n"
	"                 [--ip-range CIDR] [--vni N] [--mtu N] [--internal] NAME\n"
	"                          overlay: a bridge network that spans hosts over VXLAN\n"
	"                          (--vni 1-16777215; MTU: the uplink's - 50)\n"
	"  network ls\n"
	"  network inspect NAME    JSON, as docker network inspect\n"
	"  network rm NAME\n"
	"Containers (a namespace dpnet-NAME, visible to ip netns, plus a process):\n"
	"  run [-d] [--name NAME] [--network bridge|host|none|container:NAME|NET]\n"
	"      [-p [IP:]HOSTPORT:CPORT[/tcp|udp]]... [-P] [--expose CPORT[/proto]]...\n"
	"      [--ip IP] [--mac MAC] [--attach veth|tap|vtap] [-- CMD [ARG...]]\n"
	"                          without -d, dpctl runs CMD in the container itself\n"
	"  connect [--ip IP] [--attach veth|tap|vtap] NETWORK NAME [--netns PATH]\n"
	"  disconnect NETWORK NAME\n"
	"  ps                      NAME NETWORK IP PORTS\n"
	"  port NAME               published ports, as docker port\n"
	"  rm [-f] NAME            stop its process, free its address, port, namespace\n"
	"NAT (published ports reach containers on the uplink address, see status):\n"
	"  nat ls [-x]             DNAT and MASQUERADE rules, as iptables -t nat -vnL;\n"
	"                          as in iptables, a rule counts each connection's first\n"
	"                          packet (-x: exact numbers)\n"
	"  conntrack ls [-p tcp|udp|icmp] [-s IP] [-d IP]   connections, as conntrack -L\n"
	"  conntrack stats         entries, max, created, expired, refused, NAT drops\n"
	"  conntrack flush         forget every connection (they restart from scratch)\n"
	"Routes and neighbours:\n"
	"  route add PREFIX/LEN via GW   a static route (GW on the uplink network or a\n"
	"                          bridge network); route add PREFIX/LEN blackhole\n"
	"  route ls                DESTINATION GATEWAY NETWORK TYPE, as ip route\n"
	"  route rm PREFIX/LEN     remove a static route\n"
	"  neigh ls                ADDRESS MAC STATE NETWORK, as ip neigh\n"
	"  neigh add ADDRESS MAC [--network NAME]\n"
	"                          a static neighbour (PERMANENT: never aged, not\n"
	"                          changed by ARP) on the uplink's or a bridge network\n"
	"  neigh rm ADDRESS [--network NAME]\n"
	"                          remove a static one, or forget a learned one\n"
	"Cluster (etcd, Flannel's layout; the config's cluster: section):\n"
	"  cluster status          etcd, state, our subnet, VTEP address and MAC, VNI, lease\n"
	"  cluster ls              SUBNET PUBLIC-IP VTEP-MAC of every host, ours first\n"
	"Tables and counters:\n"
	"  mac ls [NETWORK]        PORT MAC LOCAL AGEING, as brctl showmacs\n"
	"  mac add NETWORK MAC PORT  a static MAC (never aged), as ovs-appctl fdb/add\n"
	"  mac rm NETWORK MAC      forget one MAC\n"
	"Overlays (VXLAN):\n"
	"  vxlan peer add NETWORK VTEP-IP   send the overlay's traffic to that host too\n"
	"  vxlan peer rm NETWORK VTEP-IP    stop it\n"
	"  vxlan peer ls [NETWORK]  NETWORK VNI PEER SOURCE MACS\n"
	"  vxlan fdb ls NETWORK     MAC VTEP TYPE AGEING: remote MACs and their hosts\n"
	"  stats                   per-port and per-stage counters, drops by reason\n"
	"  stats --perf            per worker: loops, busy share, cycles per packet and\n"
	"                          per stage (as ovs-appctl dpif-netdev/pmd-stats-show)\n"
	"  status                  version, uptime, workers, poll mode, hugepages, uplink\n"
	"\n"
	"Options:\n"
	"  --socket PATH   control socket (default " PROTO_DEFAULT_SOCKET ", or $"
	PROTO_SOCKET_ENV ")\n"
	"  --json          print the result as one JSON document\n"
	"  -h, --help      this text\n";

/* What the command line asks for. */
struct dpctl_req {
	const char *cmd;            /* protocol command, "port.add" */
	json_t *args;               /* its arguments */
	void (*print)(json_t *);    /* human output of the result, NULL for none */
	void (*after)(json_t *);    /* after the output, also with --json (run) */
};

static const char *dpctl_socket;   /* socket path in use */
static bool dpctl_json;            /* --json */

static void __attribute__((format(printf, 2, 3), noreturn))
dpctl_die(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "dpctl: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* ---- tables ---- */

/* A table printed as docker prints its listings (tabwriter 10, 1, 3, ' '). */
struct dpctl_table {
	unsigned int ncols;         /* columns */
	unsigned int nrows;         /* rows, the header included */
	char **cells;               /* nrows * ncols strings */
};

static void
dpctl_table_row(struct dpctl_table *t, const char *const *cells)
{
	char **c = realloc(t->cells, sizeof(char *) * t->ncols * (t->nrows + 1));

	if (c == NULL)
		dpctl_die(DPCTL_EXIT_FAIL, "out of memory");
	t->cells = c;
	for (unsigned int i = 0; i < t->ncols; i++) {
		c[t->nrows * t->ncols + i] = strdup(cells[i] != NULL ? cells[i] : "");
		if (c[t->nrows * t->ncols + i] == NULL)
			dpctl_die(DPCTL_EXIT_FAIL, "out of memory");
	}
	t->nrows++;
}

static void
dpctl_table_print(struct dpctl_table *t)
{
	size_t widths[32] = { 0 };

	for (unsigned int r = 0; r < t->nrows; r++)
		for (unsigned int col = 0; col < t->ncols && col < 32; col++) {
			size_t w = strlen(t->cells[r * t->ncols + col]) + 3;

			if (w > widths[col])
				widths[col] = w;
		}
	for (unsigned int r = 0; r < t->nrows; r++) {
		for (unsigned int col = 0; col < t->ncols; col++) {
			const char *s = t->cells[r * t->ncols + col];

			if (col + 1 == t->ncols)
				printf("%s\n", s);
			else
				printf("%-*s", (int)(widths[col] < 10 ? 10 : widths[col]), s);
			free(t->cells[r * t->ncols + col]);
		}
	}
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}

static const char *
dpctl_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static const char *
dpctl_num(json_t *o, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.2f", json_real_value(v));
	else
		snprintf(buf, len, "-");
	return buf;
}

/* ---- printers ---- */

/* One column of a listing: its header, the JSON key of its cells, and whether
 * an empty cell prints as "-". */
struct dpctl_col {
	const char *head;
	const char *key;
	bool dash;
};

/* A listing whose cells are string members of the array's objects. */
static void
dpctl_print_list(json_t *res, const struct dpctl_col *cols, unsigned int ncols)
{
	struct dpctl_table t = { .ncols = ncols };
	const char *row[32];
	size_t i;
	json_t *o;

	for (unsigned int c = 0; c < ncols && c < 32; c++)
		row[c] = cols[c].head;
	dpctl_table_row(&t, row);
	json_array_foreach(res, i, o) {
		for (unsigned int c = 0; c < ncols && c < 32; c++) {
			const char *v = dpctl_str(o, cols[c].key);

			row[c] = v[0] == '\0' && cols[c].dash ? "-" : v;
		}
		dpctl_table_row(&t, row);
	}
	dpctl_table_print(&t);
}

static void
dpctl_print_ports(json_t *res)
{
	static const char *const head[] = {
		"NAME", "TYPE", "NETWORK", "MAC", "STATE", "RX-PKTS", "TX-PKTS", "DROPS",
	};
	struct dpctl_table t = { .ncols = 8 };
	size_t i;
	json_t *p;

	dpctl_table_row(&t, head);
	json_array_foreach(res, i, p) {
		char rx[32], tx[32], dr[32];
		const char *row[] = {
			dpctl_str(p, "name"), dpctl_str(p, "type"), dpctl_str(p, "network"),
			dpctl_str(p, "mac"), dpctl_str(p, "state"),
			dpctl_num(p, "rx_pkts", rx, sizeof(rx)),
			dpctl_num(p, "tx_pkts", tx, sizeof(tx)),
			dpctl_num(p, "drops", dr, sizeof(dr)),
		};

		dpctl_table_row(&t, row);
	}
	dpctl_table_print(&t);
}

static void
dpctl_print_port_stats(json_t *res)
{
	json_t *e = json_object_get(res, "ethdev"), *s = json_object_get(res, "switch");
	json_t *l = json_object_get(res, "link");
	char a[32], b[32], c[32], d[32], f[32];

	printf("port %s (%s, port id %s, network %s, role %s)\n", dpctl_str(res, "name"),
	       dpctl_str(res, "type"), dpctl_num(res, "port_id", a, sizeof(a)),
	       dpctl_str(res, "network"), dpctl_str(res, "role"));
	printf("  mac:    %s\n", dpctl_str(res, "mac"));
	printf("  link:   %s, %s Mbps, %s duplex\n", dpctl_str(l, "state"),
	       dpctl_num(l, "speed_mbps", a, sizeof(a)), dpctl_str(l, "duplex"));
	printf("  rx:     packets %s  bytes %s\n",
	       dpctl_num(e, "rx_pkts", a, sizeof(a)), dpctl_num(e, "rx_bytes", b, sizeof(b)));
	printf("  driver drops (before dpnet): rx-errors %s  rx-missed %s  rx-no-mbuf %s%s\n",
	       dpctl_num(e, "rx_errors", c, sizeof(c)), dpctl_num(e, "rx_missed", d, sizeof(d)),
	       dpctl_num(e, "rx_nombuf", f, sizeof(f)),
	       strcmp(dpctl_str(res, "type"), "tap") == 0 ?
	       " (rx-errors: frames longer than an mbuf, 2048 bytes)" : "");
	printf("  tx:     packets %s  bytes %s  errors %s\n",
	       dpctl_num(e, "tx_pkts", a, sizeof(a)), dpctl_num(e, "tx_bytes", b, sizeof(b)),
	       dpctl_num(e, "tx_errors", c, sizeof(c)));
	printf("  switch: rx %s  tx %s  drops %s  tx-drops %s\n",
	       dpctl_num(s, "rx_pkts", a, sizeof(a)), dpctl_num(s, "tx_pkts", b, sizeof(b)),
	       dpctl_num(s, "drops", c, sizeof(c)), dpctl_num(s, "tx_drops", d, sizeof(d)));
	if (json_is_object(json_object_get(res, "vtap"))) {
		json_t *v = json_object_get(res, "vtap");

		printf("  vtap:   rx-gso %s  rx-csum %s  tx-gso %s\n",
		       dpctl_num(v, "rx_gso", a, sizeof(a)), dpctl_num(v, "rx_csum", b, sizeof(b)),
		       dpctl_num(v, "tx_gso", c, sizeof(c)));
		printf("  vtap drops: rx-bad-vnet %s  rx-no-mbuf %s  tx-errors %s\n",
		       dpctl_num(v, "rx_bad_vnet", a, sizeof(a)),
		       dpctl_num(v, "rx_no_mbuf", b, sizeof(b)),
		       dpctl_num(v, "tx_errors", c, sizeof(c)));
	}
}

static void
dpctl_print_macs(json_t *res)
{
	static const char *const head[] = { "PORT", "MAC", "LOCAL", "AGEING", "VTEP" };
	struct dpctl_table t = { .ncols = 4 };
	size_t i;
	json_t *m;

	/* A fifth column, VTEP, only when remote MACs (behind vxlan0) are listed. */
	json_array_foreach(res, i, m)
		if (dpctl_str(m, "vtep")[0] != '\0')
			t.ncols = 5;
	dpctl_table_row(&t, head);
	json_array_foreach(res, i, m) {
		char age[32];
		const char *row[] = {
			dpctl_str(m, "port"), dpctl_str(m, "mac"),
			json_is_true(json_object_get(m, "local")) ? "yes" : "no",
			age, dpctl_str(m, "vtep")[0] != '\0' ? dpctl_str(m, "vtep") : "-",
		};

		snprintf(age, sizeof(age), "%.2f",
			 json_number_value(json_object_get(m, "ageing_s")));
		dpctl_table_row(&t, row);
	}
	dpctl_table_print(&t);
}

static void
dpctl_print_networks(json_t *res)
{
	static const struct dpctl_col cols[] = {
		{"NETWORK ID", "id", false}, {"NAME", "name", false},
		{"DRIVER", "driver", false}, {"SCOPE", "scope", false},
	};

	dpctl_print_list(res, cols, sizeof(cols) / sizeof(cols[0]));
}

/* network create prints the new id, as docker does. */
static void
dpctl_print_id(json_t *res)
{
	printf("%s\n", dpctl_str(res, "id"));
}

static void
dpctl_print_name(json_t *res)
{
	printf("%s\n", dpctl_str(res, "name"));
}

/* network inspect is JSON either way (docker's 4-space indent). */
static void
dpctl_print_inspect(json_t *res)
{
	if (json_dumpf(res, stdout, JSON_INDENT(4) | JSON_ENCODE_ANY) < 0)
		dpctl_die(DPCTL_EXIT_FAIL, "cannot write the output");
	putchar('\n');
}

/*
 * `stats --perf`: per worker, what its loop did and where the cycles went,
 * as ovs-appctl dpif-netdev/pmd-stats-show and VPP's show runtime.
 */
static void
dpctl_print_perf(json_t *res)
{
	static const char *const shead[] = { "STAGE", "CALLS", "PKTS", "PKTS/CALL", "CYCLES/PKT",
					     "SHARE" };
	double hz = (double)json_integer_value(json_object_get(res, "tsc_hz"));
	json_t *w, *o;
	size_t i, j;

	json_array_foreach(json_object_get(res, "workers"), i, w) {
		struct dpctl_table t = { .ncols = 6 };
		double loops = (double)json_integer_value(json_object_get(w, "loops"));
		double busy = (double)json_integer_value(json_object_get(w, "busy_loops"));
		double cyc = (double)json_integer_value(json_object_get(w, "busy_cycles"));
		double rx = (double)json_integer_value(json_object_get(w, "rx_pkts"));
		double staged = 0;
		char v[6][32];

		json_array_foreach(json_object_get(w, "stages"), j, o)
			staged += (double)json_integer_value(json_object_get(o, "cycles"));
		printf("%sworker %" JSON_INTEGER_FORMAT " (lcore %" JSON_INTEGER_FORMAT "):\n",
		       i ? "\n" : "", json_integer_value(json_object_get(w, "worker")),
		       json_integer_value(json_object_get(w, "lcore")));
		printf("  packets received:  %.0f (%.1f per busy loop)\n", rx,
		       busy > 0 ? rx / busy : 0.0);
		printf("  loops:             %.0f, %.0f busy (%.1f%%), %" JSON_INTEGER_FORMAT
		       " idle sleeps (%" JSON_INTEGER_FORMAT " blocked on interrupts)\n", loops,
		       busy, loops > 0 ? 100.0 * busy / loops : 0.0,
		       json_integer_value(json_object_get(w, "sleeps")),
		       json_integer_value(json_object_get(w, "intr_sleeps")));
		printf("  busy cycles:       %.0f (%.2f s at %.2f GHz), %.1f per packet\n", cyc,
		       hz > 0 ? cyc / hz : 0.0, hz / 1e9, rx > 0 ? cyc / rx : 0.0);
		dpctl_table_row(&t, shead);
		json_array_foreach(json_object_get(w, "stages"), j, o) {
			double calls = (double)json_integer_value(json_object_get(o, "calls"));
			double pk = (double)json_integer_value(json_object_get(o, "pkts"));
			double sc = (double)json_integer_value(json_object_get(o, "cycles"));
			double cpp = json_real_value(json_object_get(o, "cycles_per_pkt"));
			const char *row[6] = { dpctl_str(o, "name"), v[1], v[2], v[3], v[4], v[5] };

			snprintf(v[1], 32, "%.0f", calls);
			snprintf(v[2], 32, "%.0f", pk);
			snprintf(v[3], 32, "%.1f", calls > 0 ? pk / calls : 0.0);
			snprintf(v[4], 32, "%.1f", cpp);
			snprintf(v[5], 32, "%.1f%%", staged > 0 ? 100.0 * sc / staged : 0.0);
			dpctl_table_row(&t, row);
		}
		dpctl_table_print(&t);
	}
}

static void
dpctl_print_stats(json_t *res)
{
	static const char *const phead[] = {
		"PORT", "RX-PKTS", "RX-BYTES", "TX-PKTS", "TX-BYTES", "RX-ERRORS", "TX-ERRORS",
		"RX-MISSED", "DROPS", "TX-DROPS",
	};
	static const char *const shead[] = { "STAGE", "CALLS", "PKTS", "CYCLES", "CYCLES/PKT" };
	static const char *const dhead[] = { "DROP REASON", "PKTS" };
	static const char *const dhead_drv[] = { "DRIVER DROP", "PKTS" };
	struct dpctl_table t = { .ncols = 10 };
	json_t *o, *l3, *nat, *fdb = json_object_get(res, "fdb");
	const char *key;
	char v[10][32];
	size_t i;

	dpctl_table_row(&t, phead);
	json_array_foreach(json_object_get(res, "ports"), i, o) {
		const char *row[] = {
			dpctl_str(o, "name"), dpctl_num(o, "rx_pkts", v[1], 32),
			dpctl_num(o, "rx_bytes", v[2], 32), dpctl_num(o, "tx_pkts", v[3], 32),
			dpctl_num(o, "tx_bytes", v[4], 32), dpctl_num(o, "rx_errors", v[5], 32),
			dpctl_num(o, "tx_errors", v[6], 32), dpctl_num(o, "rx_missed", v[7], 32),
			dpctl_num(o, "drops", v[8], 32), dpctl_num(o, "tx_drops", v[9], 32),
		};

		dpctl_table_row(&t, row);
	}
	dpctl_table_print(&t);
	printf("\n");
	t.ncols = 5;
	dpctl_table_row(&t, shead);
	json_array_foreach(json_object_get(res, "stages"), i, o) {
		const char *row[] = {
			dpctl_str(o, "name"), dpctl_num(o, "calls", v[1], 32),
			dpctl_num(o, "pkts", v[2], 32), dpctl_num(o, "cycles", v[3], 32),
			dpctl_num(o, "cycles_per_pkt", v[4], 32),
		};

		dpctl_table_row(&t, row);
	}
	dpctl_table_print(&t);
	printf("\n");
	t.ncols = 2;
	dpctl_table_row(&t, dhead);
	json_object_foreach(json_object_get(res, "drops"), key, o) {
		const char *row[2] = { key, v[0] };

		snprintf(v[0], 32, "%" JSON_INTEGER_FORMAT, json_integer_value(o));
		dpctl_table_row(&t, row);
	}
	dpctl_table_print(&t);
	/* Before the switch: what the ports' drivers dropped (rte_eth_stats). */
	printf("\n");
	dpctl_table_row(&t, dhead_drv);
	json_object_foreach(json_object_get(res, "driver_drops"), key, o) {
		const char *row[2] = { key, v[0] };

		snprintf(v[0], 32, "%" JSON_INTEGER_FORMAT, json_integer_value(o));
		dpctl_table_row(&t, row);
	}
	dpctl_table_print(&t);
	printf("(driver drops: frames a port's driver dropped before dpnet saw them; rx-errors "
	       "on a TAP port: a frame longer than an mbuf, 2048 bytes)\n");
	printf("\nfloods %s, learn events %s; fdb: %s entries of %s, %s learned, %s aged, "
	       "%s moves, %s refused (full)\n",
	       dpctl_num(res, "floods", v[0], 32), dpctl_num(res, "learn_events", v[1], 32),
	       dpctl_num(fdb, "entries", v[2], 32), dpctl_num(fdb, "size", v[3], 32),
	       dpctl_num(fdb, "learned", v[4], 32), dpctl_num(fdb, "aged", v[5], 32),
	       dpctl_num(fdb, "moves", v[6], 32), dpctl_num(fdb, "full", v[7], 32));
	l3 = json_object_get(res, "l3");
	printf("routed %s; gateway answers: %s ARP, %s ping; ICMP errors %s sent, %s "
	       "rate-limited\n",
	       dpctl_num(l3, "routed", v[0], 32), dpctl_num(l3, "arp_replies", v[1], 32),
	       dpctl_num(l3, "icmp_echo_replies", v[2], 32), dpctl_num(l3, "icmp_errors", v[3], 32),
	       dpctl_num(l3, "icmp_ratelimited", v[4], 32));
	nat = json_object_get(res, "nat");
	if (json_is_object(nat))
		printf("nat: %s packets translated (%s ICMP errors), %s untracked; connections: "
		       "%s DNAT, %s MASQUERADE, %s hairpin; conntrack %s entries of %s\n",
		       dpctl_num(nat, "translated", v[0], 32),
		       dpctl_num(nat, "icmp_translated", v[1], 32),
		       dpctl_num(nat, "untracked", v[2], 32),
		       dpctl_num(nat, "dnat_connections", v[3], 32),
		       dpctl_num(nat, "masquerade_connections", v[4], 32),
		       dpctl_num(nat, "hairpin_connections", v[5], 32),
		       dpctl_num(nat, "conntrack_entries", v[6], 32),
		       dpctl_num(nat, "conntrack_max", v[7], 32));
	nat = json_object_get(res, "neigh");
	if (json_is_object(nat))
		printf("neigh: %s ARP requests, %s probes, %s gratuitous, %s learned; frames "
		       "%s held, %s sent, %s dropped; %s failed, %s expired, %s pending\n",
		       dpctl_num(nat, "requests", v[0], 32), dpctl_num(nat, "probes", v[1], 32),
		       dpctl_num(nat, "garps", v[2], 32), dpctl_num(nat, "learned", v[3], 32),
		       dpctl_num(nat, "held", v[4], 32), dpctl_num(nat, "held_sent", v[5], 32),
		       dpctl_num(nat, "held_dropped", v[6], 32),
		       dpctl_num(nat, "failed", v[7], 32), dpctl_num(nat, "expired", v[8], 32),
		       dpctl_num(nat, "pending", v[9], 32));
	nat = json_object_get(res, "vxlan");
	if (json_is_object(nat))
		printf("vxlan: %s decapsulated, %s encapsulated, %s dropped; %s overlays, %s "
		       "peers, %s remote MACs; UDP port %s, TTL %s, DF %s\n",
		       dpctl_num(nat, "decapsulated", v[0], 32),
		       dpctl_num(nat, "encapsulated", v[1], 32), dpctl_num(nat, "drops", v[2], 32),
		       dpctl_num(nat, "overlays", v[3], 32), dpctl_num(nat, "peers", v[4], 32),
		       dpctl_num(nat, "remote_macs", v[5], 32), dpctl_num(nat, "port", v[6], 32),
		       dpctl_num(nat, "ttl", v[7], 32),
		       json_is_true(json_object_get(nat, "df")) ? "on" : "off");
	nat = json_object_get(res, "offload");
	if (json_is_object(nat))
		printf("offload: %s large segments cut into %s frames, %s checksums completed "
		       "(for ports that take neither, dataplane/offload.h)\n",
		       dpctl_num(nat, "gso_frames", v[0], 32), dpctl_num(nat, "gso_segs", v[1], 32),
		       dpctl_num(nat, "csum_completed", v[2], 32));
	nat = json_object_get(res, "mbufs");
	if (json_is_object(nat))
		printf("mbufs: %s in use of %s\n", dpctl_num(nat, "in_use", v[0], 32),
		       dpctl_num(nat, "size", v[1], 32));
}

static void
dpctl_print_status(json_t *res)
{
	json_t *up = json_object_get(res, "uplink"), *lc;
	json_int_t s = json_integer_value(json_object_get(res, "uptime_s"));
	char buf[256], num[32];
	size_t off = 0, i;

	printf("version:     %s (protocol %s)\n", dpctl_str(res, "version"),
	       dpctl_num(res, "protocol", num, sizeof(num)));
	printf("pid:         %s\n", dpctl_num(res, "pid", num, sizeof(num)));
	if (s >= 86400)
		printf("uptime:      %" JSON_INTEGER_FORMAT "d %02d:%02d:%02d\n", s / 86400,
		       (int)(s % 86400 / 3600), (int)(s % 3600 / 60), (int)(s % 60));
	else
		printf("uptime:      %02d:%02d:%02d\n", (int)(s / 3600), (int)(s % 3600 / 60),
		       (int)(s % 60));
	buf[0] = '\0';
	json_array_foreach(json_object_get(res, "lcores"), i, lc)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%" JSON_INTEGER_FORMAT,
					i ? "," : "", json_integer_value(lc));
	printf("workers:     %s (lcore%s %s)\n", dpctl_num(res, "workers", num, sizeof(num)),
	       strchr(buf, ',') != NULL ? "s" : "", buf);
	printf("poll mode:   %s", dpctl_str(res, "poll_mode"));
	if (strcmp(dpctl_str(res, "poll_mode"), "adaptive") == 0 &&
	    dpctl_str(res, "poll_wake")[0] != '\0')
		printf(" (%s)", dpctl_str(res, "poll_wake"));
	printf("\n");
	printf("hugepages:   %s\n", json_is_true(json_object_get(res, "hugepages")) ?
	       "yes" : "no");
	if (dpctl_str(res, "attach_default")[0] != '\0')
		printf("containers:  attach with %s by default\n", dpctl_str(res, "attach_default"));
	if (json_is_object(up)) {
		printf("uplink:      %s (%s%s%s)\n", dpctl_str(up, "name"), dpctl_str(up, "type"),
		       dpctl_str(up, "iface")[0] != '\0' ? " " : "", dpctl_str(up, "iface"));
		/* Where published ports answer: the uplink's own address, or (none
		 * configured) the bridge network's gateway, for the containers. */
		if (dpctl_str(up, "address_cidr")[0] != '\0')
			printf("address:     %s (published ports answer here)\n",
			       dpctl_str(up, "address_cidr"));
		else
			printf("address:     %s\n", dpctl_str(up, "address"));
		if (dpctl_str(up, "gateway")[0] != '\0')
			printf("gateway:     %s\n", dpctl_str(up, "gateway"));
		/* The host's addresses on a TAP uplink (dpnet0), where it reaches us. */
		if (json_array_size(json_object_get(up, "addresses")) > 0) {
			json_t *ad;

			buf[0] = '\0';
			off = 0;
			json_array_foreach(json_object_get(up, "addresses"), i, ad)
				if (off < sizeof(buf))
					off += (size_t)snprintf(buf + off, sizeof(buf) - off,
								"%s%s", i ? ", " : "",
								json_string_value(ad));
			printf("host side:   %s (on %s)\n", buf, dpctl_str(up, "iface"));
		}
		/* NIC mode: the host's own address, given back on the host port. */
		if (json_is_object(json_object_get(up, "host_port"))) {
			json_t *hpo = json_object_get(up, "host_port");

			printf("host port:   %s (%s%s%s: %s%s)\n", dpctl_str(hpo, "name"),
			       dpctl_str(hpo, "iface"), dpctl_str(hpo, "netns")[0] ?
			       " in namespace " : "", dpctl_str(hpo, "netns"),
			       dpctl_str(up, "address_cidr"),
			       json_is_true(json_object_get(hpo, "default_route")) ?
			       ", default route" : "");
		}
	} else {
		printf("uplink:      none\n");
		printf("address:     none\n");
	}
	printf("ports:       %s\n", dpctl_num(res, "ports", num, sizeof(num)));
	printf("socket:      %s\n", dpctl_str(res, "socket"));
	printf("config:      %s\n", dpctl_str(res, "config"));
	printf("state:       %s%s%s\n", dpctl_str(res, "state_file")[0] != '\0' ?
	       dpctl_str(res, "state_file") : "not saved",
	       dpctl_str(res, "state_error")[0] != '\0' ? ": last save failed: " : "",
	       dpctl_str(res, "state_error"));
	printf("eal:         %s\n", dpctl_str(res, "eal_args"));
}

/* nat ls -x: exact counters instead of iptables's K/M/G. */
static bool dpctl_exact;

/* A counter as iptables -v prints it (print_num): exact up to 99999, then K,
 * M, G, T rounded; with -x the whole number in a wider column. */
static const char *
dpctl_ipt_num(json_t *o, const char *key, int width_x, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	unsigned long long n = (unsigned long long)json_integer_value(json_object_get(o, key));

	if (dpctl_exact) {
		snprintf(buf, len, "%*llu", width_x, n);
		return buf;
	}
	if (n <= 99999) {
		snprintf(buf, len, "%5llu", n);
		return buf;
	}
	for (int u = 0;; u++) {
		n = (n + 500) / 1000;
		if (n <= 9999 || u == 3) {
			snprintf(buf, len, "%4llu%c", n, units[u]);
			return buf;
		}
	}
}

/* Print a line without its trailing blanks (iptables pads its last column). */
static void
dpctl_put_trimmed(char *line)
{
	size_t n = strlen(line);

	while (n > 0 && line[n - 1] == ' ')
		line[--n] = '\0';
	printf("%s\n", line);
}

/* As iptables -t nat -vnL (its print_header and print_firewall columns). */
static void
dpctl_print_nat(json_t *res)
{
	json_t *ch, *r;
	size_t i, k;
	char line[768];

	json_array_foreach(json_object_get(res, "chains"), i, ch) {
		const char *name = dpctl_str(ch, "name");

		if (i > 0)
			putchar('\n');
		if (json_object_get(ch, "policy") != NULL)
			printf("Chain %s (policy %s %" JSON_INTEGER_FORMAT " packets, %"
			       JSON_INTEGER_FORMAT " bytes)\n", name, dpctl_str(ch, "policy"),
			       json_integer_value(json_object_get(ch, "policy_pkts")),
			       json_integer_value(json_object_get(ch, "policy_bytes")));
		else
			printf("Chain %s (%" JSON_INTEGER_FORMAT " references)\n", name,
			       json_integer_value(json_object_get(ch, "references")));
		snprintf(line, sizeof(line), "%*s %*s %-9s  prot opt %-6s %-6s  %-19s  %-19s",
			 dpctl_exact ? 8 : 5, "pkts", dpctl_exact ? 10 : 5, "bytes", "target",
			 "in", "out", "source", "destination");
		dpctl_put_trimmed(line);
		json_array_foreach(json_object_get(ch, "rules"), k, r) {
			const char *extra = dpctl_str(r, "extra");
			char p[32], b[32];

			snprintf(line, sizeof(line), "%s %s %-9s  %-5s%-2s  %-6s %-6s  %-19s  %-19s "
				 "%s%s", dpctl_ipt_num(r, "pkts", 8, p, sizeof(p)),
				 dpctl_ipt_num(r, "bytes", 10, b, sizeof(b)),
				 dpctl_str(r, "target"), dpctl_str(r, "prot"), dpctl_str(r, "opt"),
				 dpctl_str(r, "in"), dpctl_str(r, "out"), dpctl_str(r, "source"),
				 dpctl_str(r, "destination"), extra[0] ? " " : "", extra);
			dpctl_put_trimmed(line);
		}
	}
}

/* One direction of a connection: "src=A dst=B sport=P dport=Q" (ICMP: type code id). */
static void
dpctl_ct_tuple(json_t *t, char *buf, size_t len)
{
	char a[32], b[32], c[32];

	if (json_object_get(t, "type") != NULL)
		snprintf(buf, len, "src=%s dst=%s type=%s code=%s id=%s", dpctl_str(t, "src"),
			 dpctl_str(t, "dst"), dpctl_num(t, "type", a, sizeof(a)),
			 dpctl_num(t, "code", b, sizeof(b)), dpctl_num(t, "id", c, sizeof(c)));
	else
		snprintf(buf, len, "src=%s dst=%s sport=%s dport=%s", dpctl_str(t, "src"),
			 dpctl_str(t, "dst"), dpctl_num(t, "sport", a, sizeof(a)),
			 dpctl_num(t, "dport", b, sizeof(b)));
}

/* As conntrack -L; the count on stderr, as conntrack prints it. */
static void
dpctl_print_conntrack(json_t *res)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(res, "entries"), i, e) {
		char orig[160], reply[160], n[32], t[32];
		const char *state = dpctl_str(e, "state");

		dpctl_ct_tuple(json_object_get(e, "orig"), orig, sizeof(orig));
		dpctl_ct_tuple(json_object_get(e, "reply"), reply, sizeof(reply));
		printf("%-8s %s %s %s%s%s %s%s%s\n", dpctl_str(e, "proto"),
		       dpctl_num(e, "protonum", n, sizeof(n)), dpctl_num(e, "timeout", t, sizeof(t)),
		       state, state[0] ? " " : "", orig,
		       json_is_true(json_object_get(e, "unreplied")) ? "[UNREPLIED] " : "", reply,
		       json_is_true(json_object_get(e, "assured")) ? " [ASSURED]" : "");
	}
	fflush(stdout);
	fprintf(stderr, "dpctl: %zu flow entries have been shown.\n",
		json_array_size(json_object_get(res, "entries")));
}

static void
dpctl_print_conntrack_stats(json_t *res)
{
	json_t *drops = json_object_get(res, "drops"), *tmo = json_object_get(res, "timeouts");
	char v[8][32], line[1024];
	const char *key;
	size_t off = 0;
	json_t *d;

	printf("entries:          %s of %s\n", dpctl_num(res, "entries", v[0], 32),
	       dpctl_num(res, "max", v[1], 32));
	printf("created:          %s\n", dpctl_num(res, "created", v[0], 32));
	printf("expired:          %s\n", dpctl_num(res, "expired", v[0], 32));
	printf("deleted:          %s\n", dpctl_num(res, "deleted", v[0], 32));
	printf("refused (full):   %s\n", dpctl_num(res, "refused_full", v[0], 32));
	printf("refused (exists): %s\n", dpctl_num(res, "refused_exist", v[0], 32));
	printf("translated:       %s packets (%s ICMP errors); %s untracked\n",
	       dpctl_num(res, "translated", v[0], 32), dpctl_num(res, "icmp_translated", v[1], 32),
	       dpctl_num(res, "untracked", v[2], 32));
	line[0] = '\0';
	json_object_foreach(drops, key, d)
		if (off < sizeof(line))
			off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s %"
						JSON_INTEGER_FORMAT, off ? ", " : "", key,
						json_integer_value(d));
	printf("drops:            %s\n", line[0] ? line : "none");
	printf("timeouts (s):     tcp syn_sent %s, syn_recv %s, established %s, fin_wait %s, "
	       "close_wait %s, last_ack %s, time_wait %s, close %s\n",
	       dpctl_num(tmo, "tcp_syn_sent", v[0], 32), dpctl_num(tmo, "tcp_syn_recv", v[1], 32),
	       dpctl_num(tmo, "tcp_established", v[2], 32),
	       dpctl_num(tmo, "tcp_fin_wait", v[3], 32), dpctl_num(tmo, "tcp_close_wait", v[4], 32),
	       dpctl_num(tmo, "tcp_last_ack", v[5], 32), dpctl_num(tmo, "tcp_time_wait", v[6], 32),
	       dpctl_num(tmo, "tcp_close", v[7], 32));
	printf("                  udp %s, udp stream %s, icmp %s%s\n",
	       dpctl_num(tmo, "udp", v[0], 32), dpctl_num(tmo, "udp_stream", v[1], 32),
	       dpctl_num(tmo, "icmp", v[2], 32),
	       json_is_true(json_object_get(res, "tcp_loose")) ? "; tcp_loose" : "");
}

static void
dpctl_print_conntrack_flush(json_t *res)
{
	char n[32];

	printf("%s flow entries have been deleted.\n", dpctl_num(res, "deleted", n, sizeof(n)));
}

/* ---- the conversation ---- */

static uint64_t
dpctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
dpctl_wait(int fd, short events, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	uint64_t now = dpctl_now_ms();
	int rc;

	if (now >= deadline)
		return 0;
	do {
		rc = poll(&pfd, 1, (int)(deadline - now));
	} while (rc < 0 && errno == EINTR);
	return rc;
}

/*
 * The daemon closed before taking the request: if it said why first (a client
 * it does not let in gets one error line, then the close), die with that.
 */
static void
dpctl_closed_why(int fd)
{
	char buf[1024];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	char *nl = n > 0 ? memchr(buf, '\n', (size_t)n) : NULL;
	json_t *o = nl != NULL ? json_loadb(buf, (size_t)(nl - buf), 0, NULL) : NULL;
	const char *msg = json_string_value(json_object_get(o, "error"));

	if (msg != NULL) {
		snprintf(buf, sizeof(buf), "%s", msg);
		json_decref(o);
		dpctl_die(DPCTL_EXIT_FAIL, "%s", buf);
	}
	json_decref(o);
}

static void
dpctl_send(int fd, const char *buf, size_t len, uint64_t deadline)
{
	while (len > 0) {
		ssize_t n;

		if (dpctl_wait(fd, POLLOUT, deadline) <= 0)
			dpctl_die(DPCTL_EXIT_FAIL, "dpnetd on %s did not take the request within "
				  "%d s", dpctl_socket, DPCTL_TIMEOUT_MS / 1000);
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			int e = errno;

			dpctl_closed_why(fd);
			errno = e;
		}
		if (n < 0)
			dpctl_die(DPCTL_EXIT_FAIL, "cannot send to %s: %s", dpctl_socket,
				  strerror(errno));
		buf += n;
		len -= (size_t)n;
	}
}

/* Buffered reader of response lines. */
struct dpctl_conn {
	int fd;                 /* connected socket */
	char *buf;              /* received bytes */
	size_t len;             /* bytes in buf */
	size_t cap;             /* its size */
};

static json_t *
dpctl_recv(struct dpctl_conn *c, uint64_t deadline)
{
	for (;;) {
		char *nl = c->len > 0 ? memchr(c->buf, '\n', c->len) : NULL;
		json_error_t jerr;
		ssize_t n;

		if (nl != NULL) {
			size_t line = (size_t)(nl - c->buf);
			json_t *o = json_loadb(c->buf, line, 0, &jerr);

			memmove(c->buf, nl + 1, c->len - line - 1);
			c->len -= line + 1;
			if (o == NULL || !json_is_object(o))
				dpctl_die(DPCTL_EXIT_FAIL, "dpnetd on %s sent an answer that is "
					  "not a JSON object: %s", dpctl_socket, jerr.text);
			return o;
		}
		if (c->len == c->cap) {
			char *b;

			if (c->cap >= DPCTL_MAX_RESPONSE)
				dpctl_die(DPCTL_EXIT_FAIL, "answer from dpnetd larger than %u MB",
					  DPCTL_MAX_RESPONSE >> 20);
			c->cap = c->cap ? c->cap * 2 : 65536;
			b = realloc(c->buf, c->cap);
			if (b == NULL)
				dpctl_die(DPCTL_EXIT_FAIL, "out of memory");
			c->buf = b;
		}
		if (dpctl_wait(c->fd, POLLIN, deadline) <= 0)
			dpctl_die(DPCTL_EXIT_FAIL, "no answer from dpnetd on %s within %d s",
				  dpctl_socket, DPCTL_TIMEOUT_MS / 1000);
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			dpctl_die(DPCTL_EXIT_FAIL, "cannot read from %s: %s", dpctl_socket,
				  strerror(errno));
		if (n == 0)
			dpctl_die(DPCTL_EXIT_FAIL, "dpnetd on %s closed the connection without "
				  "answering", dpctl_socket);
		c->len += (size_t)n;
	}
}

/* Send one request, return its "result" (a new reference) or die with its error. */
static json_t *
dpctl_call(struct dpctl_conn *c, const char *cmd, json_t *args)
{
	uint64_t deadline = dpctl_now_ms() + DPCTL_TIMEOUT_MS;
	json_t *req, *resp, *res;
	char *text;

	req = json_pack("{s:i, s:s, s:O}", "v", PROTO_VERSION, "cmd", cmd, "args", args);
	text = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
	if (text == NULL)
		dpctl_die(DPCTL_EXIT_FAIL, "out of memory");
	json_decref(req);
	dpctl_send(c->fd, text, strlen(text), deadline);
	dpctl_send(c->fd, "\n", 1, deadline);
	free(text);
	resp = dpctl_recv(c, deadline);
	if (!json_is_true(json_object_get(resp, "ok"))) {
		const char *msg = json_string_value(json_object_get(resp, "error"));
		char buf[4096];

		snprintf(buf, sizeof(buf), "%s", msg != NULL ? msg : "dpnetd refused the request");
		json_decref(resp);
		json_decref(args);
		dpctl_die(DPCTL_EXIT_FAIL, "%s", buf);
	}
	res = json_object_get(resp, "result");
	res = res != NULL ? json_incref(res) : json_null();
	json_decref(resp);
	return res;
}

static int
dpctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		dpctl_die(DPCTL_EXIT_USAGE, "socket path \"%s\" is too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		dpctl_die(DPCTL_EXIT_FAIL, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		dpctl_die(DPCTL_EXIT_FAIL, "cannot connect to %s: %s (%s)", path, strerror(e),
			  e == EACCES || e == EPERM ? "run dpctl as root or as a member of the "
			  "socket's group" : "is dpnetd running?");
	}
	return fd;
}

/* ---- command line ---- */

static void __attribute__((noreturn))
dpctl_usage_error(const char *usage, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dpctl_die(DPCTL_EXIT_USAGE, "%s; usage: %s", msg, usage);
}

/* --opt VALUE or --opt=VALUE at argv[*i]; returns the value or NULL if not this opt. */
static const char *
dpctl_opt(int argc, char **argv, int *i, const char *opt, const char *usage)
{
	size_t len = strlen(opt);

	if (strncmp(argv[*i], opt, len) != 0)
		return NULL;
	if (argv[*i][len] == '=')
		return argv[*i] + len + 1;
	if (argv[*i][len] != '\0')
		return NULL;
	if (*i + 1 >= argc)
		dpctl_usage_error(usage, "option %s needs a value", opt);
	(*i)++;
	return argv[*i];
}

static void
dpctl_set(json_t *args, const char *key, const char *val)
{
	if (json_object_set_new(args, key, json_string(val)) < 0)
		dpctl_die(DPCTL_EXIT_USAGE, "argument for %s is not valid UTF-8", key);
}

static void
dpctl_parse_add_port(int argc, char **argv, struct dpctl_req *r)
{
	static const char usage[] = "dpctl add-port NAME --type tap|afpacket|vhost|pcap|null|"
		"ring|dpdk|vtap [--iface IF] [--devargs STR] [--network NET] "
		"[--role access|uplink|host] [--address CIDR] [--gateway IP] [--mtu N] "
		"[--netns NAME] [--no-default-route]";
	static const char *const opts[][2] = {
		{ "--type", "type" }, { "--iface", "iface" }, { "--devargs", "devargs" },
		{ "--network", "network" }, { "--role", "role" }, { "--address", "address" },
		{ "--gateway", "gateway" }, { "--mtu", "mtu" }, { "--netns", "netns" },
	};
	const unsigned int n_opts = sizeof(opts) / sizeof(opts[0]);
	const char *name = NULL;

	r->cmd = "port.add";
	for (int i = 0; i < argc; i++) {
		const char *v = NULL;
		unsigned int k;

		for (k = 0; k < n_opts && v == NULL; k++)
			v = dpctl_opt(argc, argv, &i, opts[k][0], usage);
		if (v != NULL) {
			dpctl_set(r->args, opts[k - 1][1], v);
		} else if (strcmp(argv[i], "--no-default-route") == 0) {
			json_object_set_new(r->args, "default_route", json_false());
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			dpctl_usage_error(usage, "unknown option \"%s\" for add-port", argv[i]);
		} else if (name == NULL) {
			name = argv[i];
		} else {
			dpctl_usage_error(usage, "unexpected argument \"%s\"", argv[i]);
		}
	}
	if (name == NULL)
		dpctl_usage_error(usage, "add-port needs a port NAME");
	if (json_object_get(r->args, "type") == NULL)
		dpctl_usage_error(usage, "add-port needs --type");
	dpctl_set(r->args, "name", name);
}

static void
dpctl_parse_network_create(int argc, char **argv, struct dpctl_req *r)
{
	static const char usage[] = "dpctl network create [--driver bridge|overlay|vlan] "
		"[--subnet CIDR] [--gateway IP] [--ip-range CIDR] [--vni N] [--vlan ID] "
		"[--mtu N] [--internal] NAME";
	static const char *const opts[][2] = {
		{ "--driver", "driver" }, { "-d", "driver" }, { "--subnet", "subnet" },
		{ "--gateway", "gateway" }, { "--ip-range", "ip_range" }, { "--mtu", "mtu" },
		{ "--vni", "vni" }, { "--vlan", "vlan" },
	};
	const unsigned int n_opts = sizeof(opts) / sizeof(opts[0]);
	const char *name = NULL;

	r->cmd = "network.create";
	r->print = dpctl_print_id;
	for (int i = 0; i < argc; i++) {
		const char *v = NULL;
		unsigned int k;

		for (k = 0; k < n_opts && v == NULL; k++)
			v = dpctl_opt(argc, argv, &i, opts[k][0], usage);
		if (v != NULL) {
			if (json_object_get(r->args, opts[k - 1][1]) != NULL)
				dpctl_usage_error(usage, "option %s given twice", opts[k - 1][0]);
			dpctl_set(r->args, opts[k - 1][1], v);
		} else if (strcmp(argv[i], "--internal") == 0) {
			json_object_set_new(r->args, "internal", json_true());
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			dpctl_usage_error(usage, "unknown option \"%s\" for network create",
					  argv[i]);
		} else if (name == NULL) {
			name = argv[i];
		} else {
			dpctl_usage_error(usage, "unexpected argument \"%s\"", argv[i]);
		}
	}
	if (name == NULL)
		dpctl_usage_error(usage, "network create needs a network NAME");
	dpctl_set(r->args, "name", name);
}

/* Commands taking a fixed number of positional words (min..max) mapped to args keys. */
static void
dpctl_positional(int argc, char **argv, struct dpctl_req *r, const char *usage,
		 const char *const *keys, int min, int max)
{
	int n = 0;

	for (int i = 0; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1] != '\0')
			dpctl_usage_error(usage, "unknown option \"%s\"", argv[i]);
		if (n == max)
			dpctl_usage_error(usage, "unexpected argument \"%s\"", argv[i]);
		dpctl_set(r->args, keys[n++], argv[i]);
	}
	if (n < min)
		dpctl_usage_error(usage, "missing %s", keys[n]);
}

/* ---- routes, neighbours ---- */

static void
dpctl_print_routes(json_t *res)
{
	static const struct dpctl_col cols[] = {
		{"DESTINATION", "destination", false}, {"GATEWAY", "gateway", true},
		{"NETWORK", "network", true}, {"TYPE", "type", false},
	};

	dpctl_print_list(res, cols, sizeof(cols) / sizeof(cols[0]));
}

static void
dpctl_print_neighs(json_t *res)
{
	static const struct dpctl_col cols[] = {
		{"ADDRESS", "address", false}, {"MAC", "mac", true},
		{"STATE", "state", false}, {"NETWORK", "network", false},
	};

	dpctl_print_list(res, cols, sizeof(cols) / sizeof(cols[0]));
}

/*
 * neigh ls | neigh add ADDRESS [lladdr] MAC [--network NAME] |
 * neigh rm ADDRESS [--network NAME] (ip neigh's words: show, del, lladdr).
 */
static void
dpctl_parse_neigh(int argc, char **argv, struct dpctl_req *r)
{
	static const char usage[] = "dpctl neigh ls | neigh add ADDRESS MAC [--network NAME] | "
		"neigh rm ADDRESS [--network NAME]";
	const char *sub = argc > 0 ? argv[0] : "";
	bool add = strcmp(sub, "add") == 0;
	int n = 0;

	if (strcmp(sub, "ls") == 0 || strcmp(sub, "show") == 0 || strcmp(sub, "list") == 0) {
		r->cmd = "neigh.ls";
		r->print = dpctl_print_neighs;
		dpctl_positional(argc - 1, argv + 1, r, usage, NULL, 0, 0);
		return;
	}
	if (!add && strcmp(sub, "rm") != 0 && strcmp(sub, "del") != 0)
		dpctl_usage_error(usage, sub[0] ? "unknown neigh command \"%s\"" :
				  "neigh needs a subcommand%s", sub);
	r->cmd = add ? "neigh.add" : "neigh.rm";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--network") == 0 || strcmp(argv[i], "--net") == 0) {
			if (i + 1 >= argc)
				dpctl_usage_error(usage, "--network needs a network name");
			dpctl_set(r->args, "network", argv[++i]);
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			dpctl_usage_error(usage, "unknown option \"%s\"", argv[i]);
		} else if (add && n == 1 && strcmp(argv[i], "lladdr") == 0) {
			continue; /* ip neigh add ADDRESS lladdr MAC */
		} else if (n < (add ? 2 : 1)) {
			dpctl_set(r->args, n == 0 ? "address" : "mac", argv[i]);
			n++;
		} else {
			dpctl_usage_error(usage, "unexpected argument \"%s\"", argv[i]);
		}
	}
	if (n == 0)
		dpctl_usage_error(usage, "neigh %s needs an ADDRESS", sub);
	if (add && n == 1)
		dpctl_usage_error(usage, "neigh add needs the neighbour's MAC after its address");
}

/* ---- cluster ---- */

static void
dpctl_print_cluster_status(json_t *res)
{
	char num[32];

	printf("state:       %s\n", dpctl_str(res, "state"));
	if (strcmp(dpctl_str(res, "state"), "disabled") == 0)
		return;
	printf("etcd:        %s (prefix %s)\n", dpctl_str(res, "etcd"), dpctl_str(res, "prefix"));
	printf("network:     %s%s\n", dpctl_str(res, "network"),
	       json_is_false(json_object_get(res, "network_ready")) &&
	       dpctl_str(res, "subnet")[0] != '\0' ? " (not ready)" : "");
	if (dpctl_str(res, "subnet")[0] != '\0') {
		printf("subnet:      %s (of %s)\n", dpctl_str(res, "subnet"),
		       dpctl_str(res, "cluster_network"));
		printf("public ip:   %s\n", dpctl_str(res, "public_ip"));
		printf("vtep mac:    %s\n", dpctl_str(res, "vtep_mac"));
		printf("vni:         %s\n", dpctl_num(res, "vni", num, sizeof(num)));
		printf("port:        %s\n", dpctl_num(res, "port", num, sizeof(num)));
	}
	printf("lease:       %s (TTL %s s)\n", dpctl_str(res, "lease_id")[0] != '\0' ?
	       dpctl_str(res, "lease_id") : "none", dpctl_num(res, "lease_ttl", num, sizeof(num)));
	printf("hosts:       %s\n", dpctl_num(res, "hosts", num, sizeof(num)));
	if (dpctl_str(res, "last_error")[0] != '\0')
		printf("last error:  %s\n", dpctl_str(res, "last_error"));
}

/* Our own host first, then the others by subnet (the daemon's order). */
static void
dpctl_print_cluster_ls(json_t *res)
{
	static const struct dpctl_col cols[] = {
		{"SUBNET", "subnet", false}, {"PUBLIC-IP", "public_ip", false},
		{"VTEP-MAC", "vtep_mac", false},
	};

	dpctl_print_list(res, cols, sizeof(cols) / sizeof(cols[0]));
}

/* route add PREFIX/LEN via GW | route add PREFIX/LEN blackhole | ls | rm PREFIX/LEN */
static void
dpctl_parse_route(int argc, char **argv, struct dpctl_req *r)
{
	static const char usage[] = "dpctl route add PREFIX/LEN via GW | route add PREFIX/LEN "
		"blackhole | route ls | route rm PREFIX/LEN";
	static const char *const to_key[] = { "to" };
	const char *sub = argc > 0 ? argv[0] : "";

	if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0 || strcmp(sub, "show") == 0) {
		r->cmd = "route.ls";
		r->print = dpctl_print_routes;
		dpctl_positional(argc - 1, argv + 1, r, usage, NULL, 0, 0);
	} else if (strcmp(sub, "rm") == 0 || strcmp(sub, "del") == 0) {
		r->cmd = "route.rm";
		dpctl_positional(argc - 1, argv + 1, r, usage, to_key, 1, 1);
	} else if (strcmp(sub, "add") == 0) {
		r->cmd = "route.add";
		if (argc < 2 || argv[1][0] == '-')
			dpctl_usage_error(usage, "route add needs a destination PREFIX/LEN");
		dpctl_set(r->args, "to", argv[1]);
		if (argc == 2)
			dpctl_usage_error(usage, "a route to nowhere: add via GW (a next hop on the "
					  "uplink network or a bridge network) or blackhole");
		if (strcmp(argv[2], "via") == 0 && argc == 4)
			dpctl_set(r->args, "via", argv[3]);
		else if (strcmp(argv[2], "blackhole") == 0 && argc == 3)
			json_object_set_new(r->args, "blackhole", json_true());
		else if (strcmp(argv[2], "via") == 0 && argc == 3)
			dpctl_usage_error(usage, "via needs a gateway address");
		else
			dpctl_usage_error(usage, "unexpected argument \"%s\"",
					  strcmp(argv[2], "via") == 0 || strcmp(argv[2],
					  "blackhole") == 0 ? argv[argc - 1] : argv[2]);
	} else {
		dpctl_usage_error(usage, sub[0] ? "unknown route command \"%s\"" :
				  "route needs a subcommand%s", sub);
	}
}

/* ---- overlays ---- */

static void
dpctl_print_peers(json_t *res)
{
	static const char *const head[] = { "NETWORK", "VNI", "PEER", "SOURCE", "MACS" };
	struct dpctl_table t = { .ncols = 5 };
	size_t i;
	json_t *o;

	dpctl_table_row(&t, head);
	json_array_foreach(res, i, o) {
		char vni[32], macs[32];
		const char *row[] = {
			dpctl_str(o, "network"), dpctl_num(o, "vni", vni, sizeof(vni)),
			dpctl_str(o, "peer"), dpctl_str(o, "source"),
			dpctl_num(o, "macs", macs, sizeof(macs)),
		};

		dpctl_table_row(&t, row);
	}
	dpctl_table_print(&t);
}

static void
dpctl_print_vxfdb(json_t *res)
{
	static const char *const head[] = { "MAC", "VTEP", "TYPE", "AGEING" };
	struct dpctl_table t = { .ncols = 4 };
	size_t i;
	json_t *o;

	dpctl_table_row(&t, head);
	json_array_foreach(res, i, o) {
		char age[32];
		const char *row[] = {
			dpctl_str(o, "mac"), dpctl_str(o, "vtep"), dpctl_str(o, "type"), age,
		};

		snprintf(age, sizeof(age), "%.2f",
			 json_number_value(json_object_get(o, "ageing_s")));
		dpctl_table_row(&t, row);
	}
	dpctl_table_print(&t);
}

/* vxlan peer add|rm NETWORK VTEP-IP | vxlan peer ls [NETWORK] | vxlan fdb ls NETWORK */
static void
dpctl_parse_vxlan(int argc, char **argv, struct dpctl_req *r)
{
	static const char usage[] = "dpctl vxlan peer add|rm NETWORK VTEP-IP | vxlan peer ls "
		"[NETWORK] | vxlan fdb ls NETWORK";
	static const char *const keys[] = { "network", "peer" };
	const char *obj = argc > 0 ? argv[0] : "", *sub = argc > 1 ? argv[1] : "";

	if (strcmp(obj, "peer") == 0 && strcmp(sub, "add") == 0) {
		r->cmd = "vxlan.peer.add";
		dpctl_positional(argc - 2, argv + 2, r, usage, keys, 2, 2);
	} else if (strcmp(obj, "peer") == 0 && (strcmp(sub, "rm") == 0 ||
						strcmp(sub, "del") == 0)) {
		r->cmd = "vxlan.peer.rm";
		dpctl_positional(argc - 2, argv + 2, r, usage, keys, 2, 2);
	} else if (strcmp(obj, "peer") == 0 && strcmp(sub, "ls") == 0) {
		r->cmd = "vxlan.peer.ls";
		r->print = dpctl_print_peers;
		dpctl_positional(argc - 2, argv + 2, r, usage, keys, 0, 1);
	} else if (strcmp(obj, "fdb") == 0 && strcmp(sub, "ls") == 0) {
		r->cmd = "vxlan.fdb.ls";
		r->print = dpctl_print_vxfdb;
		dpctl_positional(argc - 2, argv + 2, r, usage, keys, 1, 1);
	} else if (strcmp(obj, "peer") == 0 || strcmp(obj, "fdb") == 0) {
		dpctl_usage_error(usage, sub[0] ? "unknown vxlan %s command \"%s\"" :
				  "vxlan %s needs a subcommand%s", obj, sub);
	} else {
		dpctl_usage_error(usage, obj[0] ? "unknown vxlan command \"%s\"" :
				  "vxlan needs peer or fdb%s", obj);
	}
}

/* ---- containers ---- */

/* A foreground `run`: the command dpctl execs in the container once it exists. */
static struct {
	char **argv;                /* the command (NULL: none) */
	bool foreground;            /* no -d: dpctl becomes the container's process */
} dpctl_run;

static void
dpctl_print_ps(json_t *res)
{
	static const struct dpctl_col cols[] = {
		{"NAME", "name", false}, {"NETWORK", "network", false},
		{"IP", "ip", false}, {"PORTS", "ports", false},
	};

	dpctl_print_list(res, cols, sizeof(cols) / sizeof(cols[0]));
}

/* As docker port: "80/tcp -> 0.0.0.0:8080". */
static void
dpctl_print_ctr_port(json_t *res)
{
	size_t i;
	json_t *m;
	char a[32], b[32];

	json_array_foreach(json_object_get(res, "ports"), i, m)
		printf("%s/%s -> %s:%s\n", dpctl_num(m, "container_port", a, sizeof(a)),
		       dpctl_str(m, "proto"), dpctl_str(m, "host_ip"),
		       dpctl_num(m, "host_port", b, sizeof(b)));
}

/* A new connection for one more request (the first one is closed by now). */
static json_t *
dpctl_oneshot(const char *cmd, json_t *args)
{
	struct dpctl_conn conn = { .fd = dpctl_connect(dpctl_socket) };
	json_t *empty = json_object(), *hello, *res;

	hello = dpctl_call(&conn, "hello", empty);
	json_decref(empty);
	json_decref(hello);
	res = dpctl_call(&conn, cmd, args);
	close(conn.fd);
	free(conn.buf);
	return res;
}

/* The container is made but its process could not start here: undo, then fail. */
static void __attribute__((noreturn))
dpctl_run_abort(const char *name, int status, const char *fmt, const char *a, const char *b)
{
	json_t *args = json_pack("{s:s, s:b}", "name", name, "force", 1);
	char msg[1024];

	snprintf(msg, sizeof(msg), fmt, a, b);
	if (args != NULL)
		json_decref(dpctl_oneshot("container.rm", args));
	json_decref(args);
	dpctl_die(status, "%s", msg);
}

/* Is cmd runnable (as execvp would find it)? */
static bool
dpctl_runnable(const char *cmd)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (strchr(cmd, '/') != NULL)
		return access(cmd, X_OK) == 0;
	if (path == NULL || path[0] == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path != '\0') {
		size_t len = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)len, path, len ? "/" : "", cmd);
		if (access(buf, X_OK) == 0)
			return true;
		path += len + (path[len] == ':');
	}
	return false;
}

/* After `run`: warnings on stderr; in the foreground, become the command. */
static void
dpctl_run_after(json_t *res)
{
	const char *name = dpctl_str(res, "name"), *netns = dpctl_str(res, "netns");
	size_t i;
	json_t *w;

	json_array_foreach(json_object_get(res, "warnings"), i, w)
		fprintf(stderr, "%s\n", json_string_value(w));
	if (!dpctl_run.foreground || dpctl_run.argv == NULL)
		return;
	if (fflush(stdout) != 0)
		dpctl_run_abort(name, DPCTL_EXIT_FAIL, "cannot write the output%s%s", "", "");
	if (netns[0] != '\0') {
		int fd = open(netns, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			dpctl_run_abort(name, DPCTL_EXIT_FAIL, "cannot enter the container's "
					"namespace %s: %s (run dpctl as root)", netns,
					strerror(errno));
		close(fd);
	}
	execvp(dpctl_run.argv[0], dpctl_run.argv);
	dpctl_run_abort(name, errno == ENOENT ? 127 : 126, "exec: \"%s\": %s",
			dpctl_run.argv[0], errno == ENOENT ? "executable file not found in $PATH" :
			strerror(errno));
}

static void
dpctl_append(json_t *args, const char *key, const char *val)
{
	json_t *arr = json_object_get(args, key);

	if (arr == NULL) {
		arr = json_array();
		if (arr == NULL || json_object_set_new(args, key, arr) < 0)
			dpctl_die(DPCTL_EXIT_FAIL, "out of memory");
	}
	if (json_array_append_new(arr, json_string(val)) < 0)
		dpctl_die(DPCTL_EXIT_USAGE, "argument for %s is not valid UTF-8", key);
}

static void
dpctl_parse_run(int argc, char **argv, struct dpctl_req *r)
{
	static const char usage[] = "dpctl run [-d] [--name NAME] [--network bridge|host|none|"
		"container:NAME|NET] [-p [IP:]HOSTPORT:CPORT[/tcp|udp]]... [-P] "
		"[--expose CPORT[/proto]]... [--ip IP] [--mac MAC] [--attach veth|tap|vtap] "
		"[-- CMD [ARG...]]";
	static const char *const opts[][2] = {
		{ "--name", "name" }, { "--network", "network" }, { "--net", "network" },
		{ "--ip", "ip" }, { "--mac", "mac" }, { "--mac-address", "mac" },
		{ "--attach", "attach" },
	};
	bool detach = false;
	int i;

	r->cmd = "container.run";
	r->print = dpctl_print_name;
	r->after = dpctl_run_after;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		unsigned int k;

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0')
			break; /* the command starts here */
		for (k = 0; k < sizeof(opts) / sizeof(opts[0]) && v == NULL; k++)
			v = dpctl_opt(argc, argv, &i, opts[k][0], usage);
		if (v != NULL) {
			dpctl_set(r->args, opts[k - 1][1], v);
		} else if ((v = dpctl_opt(argc, argv, &i, "-p", usage)) != NULL ||
			   (v = dpctl_opt(argc, argv, &i, "--publish", usage)) != NULL) {
			dpctl_append(r->args, "publish", v);
		} else if ((v = dpctl_opt(argc, argv, &i, "--expose", usage)) != NULL) {
			dpctl_append(r->args, "expose", v);
		} else if (strcmp(a, "--detach") == 0) {
			detach = true;
		} else if (strcmp(a, "--publish-all") == 0) {
			json_object_set_new(r->args, "publish_all", json_true());
		} else if (a[1] != '-' && strspn(a + 1, "dP") == strlen(a + 1)) {
			/* -d, -P and clusters of them (-dP), as docker. */
			if (strchr(a, 'd') != NULL)
				detach = true;
			if (strchr(a, 'P') != NULL)
				json_object_set_new(r->args, "publish_all", json_true());
		} else {
			dpctl_usage_error(usage, "unknown option \"%s\" for run", a);
		}
	}
	if (i < argc) {
		dpctl_run.argv = argv + i; /* NULL-terminated by main's words[] */
		for (int k = i; k < argc; k++)
			dpctl_append(r->args, "cmd", argv[k]);
	}
	dpctl_run.foreground = !detach;
	if (detach)
		json_object_set_new(r->args, "detach", json_true());
	if (dpctl_run.argv != NULL && !detach) {
		/* dpctl becomes the process: the daemon records this pid. */
		if (!dpctl_runnable(dpctl_run.argv[0]))
			dpctl_die(127, "exec: \"%s\": executable file not found in $PATH",
				  dpctl_run.argv[0]);
		json_object_set_new(r->args, "pid", json_integer(getpid()));
		r->print = NULL; /* the command's own output only, as docker run */
	}
}

static void
dpctl_parse_connect(int argc, char **argv, struct dpctl_req *r, bool connect)
{
	static const char cusage[] = "dpctl connect [--ip IP] [--attach veth|tap|vtap] NETWORK NAME "
		"[--netns PATH]";
	static const char dusage[] = "dpctl disconnect NETWORK NAME";
	static const char *const keys[] = { "network", "name" };
	const char *usage = connect ? cusage : dusage;
	int n = 0;

	r->cmd = connect ? "container.connect" : "container.disconnect";
	for (int i = 0; i < argc; i++) {
		const char *v = NULL;

		if (connect && ((v = dpctl_opt(argc, argv, &i, "--ip", usage)) != NULL)) {
			dpctl_set(r->args, "ip", v);
		} else if (connect && (v = dpctl_opt(argc, argv, &i, "--netns", usage)) != NULL) {
			/* The daemon wants an absolute path: resolve a relative one here,
			 * where it means something. */
			char abs[PATH_MAX];

			if (v[0] != '/' && realpath(v, abs) != NULL)
				v = abs;
			dpctl_set(r->args, "netns", v);
		} else if (connect && (v = dpctl_opt(argc, argv, &i, "--attach", usage)) != NULL) {
			dpctl_set(r->args, "attach", v);
		} else if (!connect && (strcmp(argv[i], "-f") == 0 ||
					strcmp(argv[i], "--force") == 0)) {
			json_object_set_new(r->args, "force", json_true());
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			dpctl_usage_error(usage, "unknown option \"%s\"", argv[i]);
		} else if (n == 2) {
			dpctl_usage_error(usage, "unexpected argument \"%s\"", argv[i]);
		} else {
			dpctl_set(r->args, keys[n++], argv[i]);
		}
	}
	if (n < 2)
		dpctl_usage_error(usage, "missing %s", keys[n]);
}

static void
dpctl_parse_rm(int argc, char **argv, struct dpctl_req *r)
{
	static const char usage[] = "dpctl rm [-f] NAME";
	const char *name = NULL;

	r->cmd = "container.rm";
	r->print = dpctl_print_name;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--force") == 0)
			json_object_set_new(r->args, "force", json_true());
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			dpctl_usage_error(usage, "unknown option \"%s\" for rm", argv[i]);
		else if (name != NULL)
			dpctl_usage_error(usage, "unexpected argument \"%s\" (one container at a "
					  "time)", argv[i]);
		else
			name = argv[i];
	}
	if (name == NULL)
		dpctl_usage_error(usage, "rm needs a container NAME");
	dpctl_set(r->args, "name", name);
}

static void
dpctl_parse_conntrack(int argc, char **argv, struct dpctl_req *r)
{
	static const char usage[] = "dpctl conntrack ls [-p tcp|udp|icmp] [-s IP] [-d IP] | "
		"conntrack stats | conntrack flush";
	const char *sub = argc > 0 ? argv[0] : "";

	if (strcmp(sub, "stats") == 0 || strcmp(sub, "flush") == 0) {
		r->cmd = sub[0] == 's' ? "conntrack.stats" : "conntrack.flush";
		r->print = sub[0] == 's' ? dpctl_print_conntrack_stats :
			   dpctl_print_conntrack_flush;
		dpctl_positional(argc - 1, argv + 1, r, usage, NULL, 0, 0);
		return;
	}
	if (strcmp(sub, "ls") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "-L") != 0)
		dpctl_usage_error(usage, sub[0] ? "unknown conntrack command \"%s\"" :
				  "conntrack needs a subcommand%s", sub);
	r->cmd = "conntrack.ls";
	r->print = dpctl_print_conntrack;
	for (int i = 1; i < argc; i++) {
		const char *v;

		if ((v = dpctl_opt(argc, argv, &i, "-p", usage)) != NULL ||
		    (v = dpctl_opt(argc, argv, &i, "--proto", usage)) != NULL)
			dpctl_set(r->args, "proto", v);
		else if ((v = dpctl_opt(argc, argv, &i, "-s", usage)) != NULL ||
			 (v = dpctl_opt(argc, argv, &i, "--src", usage)) != NULL)
			dpctl_set(r->args, "src", v);
		else if ((v = dpctl_opt(argc, argv, &i, "-d", usage)) != NULL ||
			 (v = dpctl_opt(argc, argv, &i, "--dst", usage)) != NULL)
			dpctl_set(r->args, "dst", v);
		else
			dpctl_usage_error(usage, "unexpected argument \"%s\"", argv[i]);
	}
}

static void
dpctl_parse(int argc, char **argv, struct dpctl_req *r)
{
	static const char *const name_key[] = { "name" };
	static const char *const net_key[] = { "network" };
	const char *cmd = argv[0];

	if (strcmp(cmd, "add-port") == 0) {
		dpctl_parse_add_port(argc - 1, argv + 1, r);
	} else if (strcmp(cmd, "del-port") == 0) {
		r->cmd = "port.del";
		dpctl_positional(argc - 1, argv + 1, r, "dpctl del-port NAME", name_key, 1, 1);
	} else if (strcmp(cmd, "port") == 0) {
		const char *sub = argc > 1 ? argv[1] : "";

		if (strcmp(sub, "ls") == 0) {
			r->cmd = "port.ls";
			r->print = dpctl_print_ports;
			dpctl_positional(argc - 2, argv + 2, r, "dpctl port ls", NULL, 0, 0);
		} else if (strcmp(sub, "stats") == 0) {
			r->cmd = "port.stats";
			r->print = dpctl_print_port_stats;
			dpctl_positional(argc - 2, argv + 2, r, "dpctl port stats NAME", name_key,
					 1, 1);
		} else if (sub[0] != '\0' && sub[0] != '-') {
			/* port NAME: a container's published ports, as docker port. */
			r->cmd = "container.port";
			r->print = dpctl_print_ctr_port;
			dpctl_positional(argc - 1, argv + 1, r, "dpctl port NAME", name_key, 1, 1);
		} else {
			dpctl_usage_error("dpctl port ls | dpctl port stats NAME | dpctl port NAME",
					  sub[0] ? "unknown port command \"%s\"" :
					  "port needs a subcommand%s", sub);
		}
	} else if (strcmp(cmd, "network") == 0) {
		const char *sub = argc > 1 ? argv[1] : "";

		if (strcmp(sub, "ls") == 0) {
			r->cmd = "network.ls";
			r->print = dpctl_print_networks;
			dpctl_positional(argc - 2, argv + 2, r, "dpctl network ls", NULL, 0, 0);
		} else if (strcmp(sub, "create") == 0) {
			dpctl_parse_network_create(argc - 2, argv + 2, r);
		} else if (strcmp(sub, "inspect") == 0) {
			r->cmd = "network.inspect";
			r->print = dpctl_print_inspect;
			dpctl_positional(argc - 2, argv + 2, r, "dpctl network inspect NAME",
					 name_key, 1, 1);
		} else if (strcmp(sub, "rm") == 0) {
			r->cmd = "network.rm";
			r->print = dpctl_print_name;
			dpctl_positional(argc - 2, argv + 2, r, "dpctl network rm NAME", name_key,
					 1, 1);
		} else {
			dpctl_usage_error("dpctl network create|ls|inspect|rm ...", sub[0] ?
					  "unknown network command \"%s\"" :
					  "network needs a subcommand%s", sub);
		}
	} else if (strcmp(cmd, "mac") == 0) {
		const char *sub = argc > 1 ? argv[1] : "";

		static const char *const add_keys[] = { "network", "mac", "port" };

		if (strcmp(sub, "ls") == 0) {
			r->cmd = "mac.ls";
			r->print = dpctl_print_macs;
			dpctl_positional(argc - 2, argv + 2, r, "dpctl mac ls [NETWORK]", net_key,
					 0, 1);
		} else if (strcmp(sub, "add") == 0) {
			r->cmd = "mac.add";
			dpctl_positional(argc - 2, argv + 2, r, "dpctl mac add NETWORK MAC PORT",
					 add_keys, 3, 3);
		} else if (strcmp(sub, "rm") == 0) {
			r->cmd = "mac.rm";
			dpctl_positional(argc - 2, argv + 2, r, "dpctl mac rm NETWORK MAC",
					 add_keys, 2, 2);
		} else {
			dpctl_usage_error("dpctl mac ls [NETWORK] | mac add NETWORK MAC PORT | "
					  "mac rm NETWORK MAC", sub[0] ?
					  "unknown mac command \"%s\"" :
					  "mac needs a subcommand%s", sub);
		}
	} else if (strcmp(cmd, "run") == 0) {
		dpctl_parse_run(argc - 1, argv + 1, r);
	} else if (strcmp(cmd, "connect") == 0 || strcmp(cmd, "disconnect") == 0) {
		dpctl_parse_connect(argc - 1, argv + 1, r, cmd[0] == 'c');
	} else if (strcmp(cmd, "ps") == 0) {
		static const char *const ps_flags[] = { "-a", "--all", NULL };

		r->cmd = "container.ps";
		r->print = dpctl_print_ps;
		/* -a is accepted (docker habit): every container is listed anyway. */
		for (int k = 1; k < argc; k++)
			if (strcmp(argv[k], ps_flags[0]) != 0 && strcmp(argv[k], ps_flags[1]) != 0)
				dpctl_usage_error("dpctl ps", "unexpected argument \"%s\"",
						  argv[k]);
	} else if (strcmp(cmd, "rm") == 0) {
		dpctl_parse_rm(argc - 1, argv + 1, r);
	} else if (strcmp(cmd, "nat") == 0) {
		const char *sub = argc > 1 ? argv[1] : "";

		if (strcmp(sub, "ls") != 0)
			dpctl_usage_error("dpctl nat ls [-x]", sub[0] ? "unknown nat command "
					  "\"%s\"" : "nat needs a subcommand%s", sub);
		r->cmd = "nat.ls";
		r->print = dpctl_print_nat;
		for (int k = 2; k < argc; k++) {
			if (strcmp(argv[k], "-x") == 0 || strcmp(argv[k], "--exact") == 0)
				dpctl_exact = true;
			else
				dpctl_usage_error("dpctl nat ls [-x]", "unexpected argument \"%s\"",
						  argv[k]);
		}
	} else if (strcmp(cmd, "conntrack") == 0) {
		dpctl_parse_conntrack(argc - 1, argv + 1, r);
	} else if (strcmp(cmd, "route") == 0) {
		dpctl_parse_route(argc - 1, argv + 1, r);
	} else if (strcmp(cmd, "neigh") == 0) {
		dpctl_parse_neigh(argc - 1, argv + 1, r);
	} else if (strcmp(cmd, "vxlan") == 0) {
		dpctl_parse_vxlan(argc - 1, argv + 1, r);
	} else if (strcmp(cmd, "cluster") == 0) {
		const char *sub = argc > 1 ? argv[1] : "";

		if (strcmp(sub, "status") == 0) {
			r->cmd = "cluster.status";
			r->print = dpctl_print_cluster_status;
		} else if (strcmp(sub, "ls") == 0) {
			r->cmd = "cluster.ls";
			r->print = dpctl_print_cluster_ls;
		} else {
			dpctl_usage_error("dpctl cluster status | dpctl cluster ls", sub[0] ?
					  "unknown cluster command \"%s\"" :
					  "cluster needs a subcommand%s", sub);
		}
		dpctl_positional(argc - 2, argv + 2, r, sub[0] == 's' ? "dpctl cluster status" :
				 "dpctl cluster ls", NULL, 0, 0);
	} else if (strcmp(cmd, "stats") == 0) {
		r->cmd = "stats";
		r->print = dpctl_print_stats;
		if (argc > 1 && strcmp(argv[1], "--perf") == 0) {
			json_object_set_new(r->args, "perf", json_true());
			r->print = dpctl_print_perf;
			argc--;
			argv++;
		}
		dpctl_positional(argc - 1, argv + 1, r, "dpctl stats [--perf]", NULL, 0, 0);
	} else if (strcmp(cmd, "status") == 0) {
		r->cmd = "status";
		r->print = dpctl_print_status;
		dpctl_positional(argc - 1, argv + 1, r, "dpctl status", NULL, 0, 0);
	} else {
		dpctl_die(DPCTL_EXIT_USAGE, "unknown command \"%s\": see 'dpctl --help'", cmd);
	}
}

int
main(int argc, char **argv)
{
	struct dpctl_req req = { .cmd = NULL };
	const char *env = getenv(PROTO_SOCKET_ENV);
	char **words;
	int nwords = 0, i;
	struct dpctl_conn conn = { .fd = -1 };
	json_t *hello, *res, *empty;

	dpctl_socket = env != NULL && env[0] != '\0' ? env : PROTO_DEFAULT_SOCKET;
	words = calloc((size_t)argc + 1, sizeof(*words));
	req.args = json_object();
	if (words == NULL || req.args == NULL)
		dpctl_die(DPCTL_EXIT_FAIL, "out of memory");
	/* Global options anywhere before "--"; the rest are the command's words. */
	for (i = 1; i < argc; i++) {
		const char *v;

		if (strcmp(argv[i], "--") == 0) {
			/* After a command word, "--" is the command's (run -- CMD). */
			if (nwords > 0)
				words[nwords++] = argv[i];
			for (i++; i < argc; i++)
				words[nwords++] = argv[i];
			break;
		}
		if (strcmp(argv[i], "--json") == 0) {
			dpctl_json = true;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(dpctl_usage_text, stdout);
			return 0;
		} else if ((v = dpctl_opt(argc, argv, &i, "--socket",
					  "dpctl [--socket PATH] [--json] COMMAND ...")) != NULL) {
			dpctl_socket = v;
		} else {
			words[nwords++] = argv[i];
		}
	}
	if (nwords == 0)
		dpctl_die(DPCTL_EXIT_USAGE, "no command given; usage: dpctl [--socket PATH] "
			  "[--json] COMMAND ... (see 'dpctl --help')");
	if (words[0][0] == '-')
		dpctl_die(DPCTL_EXIT_USAGE, "unknown option \"%s\": see 'dpctl --help'", words[0]);
	dpctl_parse(nwords, words, &req);

	conn.fd = dpctl_connect(dpctl_socket);
	empty = json_object();
	hello = dpctl_call(&conn, "hello", empty);
	json_decref(empty);
	if (json_integer_value(json_object_get(hello, "version")) != PROTO_VERSION)
		dpctl_die(DPCTL_EXIT_FAIL, "dpnetd on %s speaks protocol version %"
			  JSON_INTEGER_FORMAT ", this dpctl speaks %d: use the dpctl that came "
			  "with it", dpctl_socket,
			  json_integer_value(json_object_get(hello, "version")), PROTO_VERSION);
	json_decref(hello);
	res = dpctl_call(&conn, req.cmd, req.args);
	close(conn.fd);
	if (dpctl_json) {
		size_t flags = JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_REAL_PRECISION(12);

		if (json_dumpf(res, stdout, flags) < 0)
			dpctl_die(DPCTL_EXIT_FAIL, "cannot write the output");
		putchar('\n');
	} else if (req.print != NULL) {
		req.print(res);
	}
	if (req.after != NULL)
		req.after(res);
	json_decref(res);
	json_decref(req.args);
	free(conn.buf);
	free(words);
	if (fflush(stdout) != 0 || ferror(stdout))
		dpctl_die(DPCTL_EXIT_FAIL, "cannot write the output: %s", strerror(errno));
	return 0;
}
