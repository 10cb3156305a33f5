/*
 * test_config.c - unit tests of control/config.c (and the network table built
 * from a config, control/network.c). Pure: no EAL, no devices.
 *
 * Each error case writes a small YAML file to a temporary directory, loads it
 * and checks the whole "FILE:LINE: KEY: message" text, because that text is
 * what a user reads to fix the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "control/config.h"
#include "control/network.h"
#include "control/server.h"

static char tmpdir[256];
static struct cfg cfg;  /* large: keep it off the stack */

/* Write text to a file named name in tmpdir; returns its path (static buffer). */
static const char *
write_file(const char *name, const char *text)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Load text as a file; returns rc and leaves the message in err. */
static int
load(const char *text, char *err, size_t errlen)
{
	const char *path = write_file("t.yaml", text);

	err[0] = '\0';
	return cfg_load(path, &cfg, err, errlen);
}

static void
test_defaults(void)
{
	char err[512];

	CU_ASSERT_EQUAL(load("", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.memory_mb, 512);
	CU_ASSERT_STRING_EQUAL(cfg.file_prefix, "dpnet");
	CU_ASSERT_EQUAL(cfg.hugepages, CFG_HUGEPAGES_AUTO);
	CU_ASSERT_EQUAL(cfg.n_eal_args, 0);
	CU_ASSERT_EQUAL(cfg.mbufs, 16384);
	CU_ASSERT_EQUAL(cfg.workers, 1);
	CU_ASSERT_FALSE(cfg.poll.busy);
	CU_ASSERT_EQUAL(cfg.poll.spin_polls, 64);
	CU_ASSERT_EQUAL(cfg.poll.sleep_min_us, 1);
	CU_ASSERT_EQUAL(cfg.poll.sleep_max_us, 1000);
	CU_ASSERT_TRUE(cfg.poll.intr);
	CU_ASSERT_EQUAL(cfg.poll.intr_timeout_ms, 100);
	CU_ASSERT_EQUAL(cfg.fdb_size, 65536);
	CU_ASSERT_EQUAL(cfg.fdb_aging_s, 300);
	CU_ASSERT_EQUAL(cfg.n_ports, 0);
	CU_ASSERT_EQUAL(cfg.n_networks, 0);
	CU_ASSERT_STRING_EQUAL(cfg.path, write_file("t.yaml", ""));

	/* Comments only, and keys present without a value, are defaults too. */
	CU_ASSERT_EQUAL(load("# nothing\nports:\nnetworks: []\neal:\npoll: {}\n", err,
			     sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.n_ports, 0);
	CU_ASSERT_EQUAL(cfg.poll.spin_polls, 64);

	/* Partial sections keep the other defaults. */
	CU_ASSERT_EQUAL(load("poll:\n  mode: busy\nfdb:\n  aging_s: 10\n", err, sizeof(err)),
			0);
	CU_ASSERT_TRUE(cfg.poll.busy);
	CU_ASSERT_EQUAL(cfg.poll.sleep_max_us, 1000);
	CU_ASSERT_EQUAL(cfg.fdb_aging_s, 10);
	CU_ASSERT_EQUAL(cfg.fdb_size, 65536);
	CU_ASSERT_STRING_EQUAL(cfg.control_group, "");

	/* Interrupt wake can be turned off; its timeout set. */
	CU_ASSERT_EQUAL(load("poll:\n  interrupts: off\n  interrupt_timeout_ms: 250\n", err,
			     sizeof(err)), 0);
	CU_ASSERT_FALSE(cfg.poll.intr);
	CU_ASSERT_EQUAL(cfg.poll.intr_timeout_ms, 250);
	CU_ASSERT_EQUAL(load("poll:\n  interrupts: auto\n", err, sizeof(err)), 0);
	CU_ASSERT_TRUE(cfg.poll.intr);
}

/* control.group: who may use the control socket besides root. */
static void
test_control(void)
{
	char err[1024] = "";

	CU_ASSERT_EQUAL(load("workers: 1\ncontrol:\n  group: dpnet\n", err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(cfg.control_group, "dpnet");
	CU_ASSERT_EQUAL(cfg.control_group_line, 3);
	CU_ASSERT_EQUAL(load("control:\n  group: docker_users.1-x\n", err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(cfg.control_group, "docker_users.1-x");
	CU_ASSERT_EQUAL(load("control:\n  group: \"1000\"\n", err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(cfg.control_group, "1000");
	CU_ASSERT_EQUAL(load("control:\n", err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(cfg.control_group, "");
	CU_ASSERT_EQUAL(load("control: {}\n", err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(cfg.control_group, "");
	CU_ASSERT_TRUE(cfg_group_valid("abcdefghijabcdefghijabcdefghijab"));
	CU_ASSERT_FALSE(cfg_group_valid("abcdefghijabcdefghijabcdefghijabc"));
	CU_ASSERT_FALSE(cfg_group_valid(""));
	CU_ASSERT_FALSE(cfg_group_valid("a/b"));
	CU_ASSERT_FALSE(cfg_group_valid(".x"));
}

static void
test_builtin(void)
{
	cfg_builtin(&cfg);
	CU_ASSERT_EQUAL(cfg.n_ports, 1);
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].name, "dpnet0");
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].type, "vtap");
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].iface, "dpnet0");
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].role, "uplink");
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].network, "bridge");
	CU_ASSERT_EQUAL(cfg.path[0], '\0');
	CU_ASSERT_EQUAL(cfg.workers, 1);
	/* TAP mode's transfer network to the host: 169.254.17.2/30 via .1. */
	CU_ASSERT_EQUAL(cfg.ports[0].address, 0xA9FE1102u);
	CU_ASSERT_EQUAL(cfg.ports[0].address_len, 30);
	CU_ASSERT_EQUAL(cfg.ports[0].gateway, 0xA9FE1101u);
	/* NAT defaults: Docker's (Linux's) ephemeral range, unprivileged SNAT ports,
	 * conntrack sized from the 512 MB of EAL memory, Linux's timeouts. */
	CU_ASSERT(cfg.nat.ephemeral_lo == 32768 && cfg.nat.ephemeral_hi == 60999);
	CU_ASSERT(cfg.nat.snat_lo == 61000 && cfg.nat.snat_hi == 65535);
	CU_ASSERT_EQUAL(cfg.ct.max, 0);
	CU_ASSERT_EQUAL(cfg_ct_max(&cfg), 131072);
	CU_ASSERT_FALSE(cfg.ct.tcp_loose);
	for (unsigned int i = 0; i < CFG_CT_MAX; i++)
		CU_ASSERT_EQUAL(cfg.ct.timeout_s[i], 0);
	cfg.memory_mb = 64;
	CU_ASSERT_EQUAL(cfg_ct_max(&cfg), 16384);
	cfg.memory_mb = 1024 * 1024;
	CU_ASSERT_EQUAL(cfg_ct_max(&cfg), 1048576);
}

static const char full_yaml[] =
	"# every key\n"
	"eal:\n"
	"  args: [\"--vdev\", \"net_null9\", '-a', 0000:03:00.0]\n"
	"  memory_mb: 1024\n"
	"  file_prefix: dpnet-test\n"
	"  hugepages: no\n"
	"mbufs: 32768\n"
	"workers: 2\n"
	"poll:\n"
	"  mode: busy\n"
	"  spin_polls: 0\n"
	"  sleep_min_us: 5\n"
	"  sleep_max_us: 500\n"
	"fdb:\n"
	"  size: 4096\n"
	"  aging_s: 60\n"
	"networks:\n"
	"  - name: front\n"
	"    driver: bridge\n"
	"    subnet: 10.10.0.0/24\n"
	"    gateway: 10.10.0.254\n"
	"  - name: back\n"
	"ports:\n"
	"  - name: up0\n"
	"    type: dpdk\n"
	"    devargs: 0000:03:00.0\n"
	"    role: uplink\n"
	"    address: 192.0.2.10/24\n"
	"    gateway: 192.0.2.1\n"
	"    mtu: 9000\n"
	"  - {name: t0, type: tap, iface: tap-t0, network: front}\n"
	"  - name: v0\n"
	"    type: vhost\n"
	"    iface: /run/dpnet/v0.sock\n"
	"    network: back\n"
	"    role: access\n"
	"  - name: h0\n"
	"    type: tap\n"
	"    role: host\n"
	"    netns: hostsim\n"
	"    default_route: false\n"
	"  - name: p0\n"
	"    type: pcap\n"
	"    devargs: rx_pcap=/tmp/in.pcap,tx_pcap=/tmp/out.pcap\n"
	"  - name: n0\n"
	"    type: null\n"
	"  - name: r0\n"
	"    type: ring\n"
	"routes:\n"
	"  - to: 198.51.100.0/24\n"
	"    via: 192.0.2.254\n"
	"  - {to: 203.0.113.7, blackhole: yes}\n"
	"  - {to: default, via: 10.10.0.9}\n"
	"nat:\n"
	"  ephemeral_range: \"40000-40999\"\n"
	"  snat_ports: 2000-3000\n"
	"conntrack:\n"
	"  max: 4096\n"
	"  tcp_loose: true\n"
	"  timeouts:\n"
	"    tcp_syn_sent: 1\n"
	"    tcp_syn_recv: 2\n"
	"    tcp_established: 3\n"
	"    tcp_fin_wait: 4\n"
	"    tcp_close_wait: 5\n"
	"    tcp_last_ack: 6\n"
	"    tcp_time_wait: 7\n"
	"    tcp_close: 8\n"
	"    udp: 9\n"
	"    udp_stream: 10\n"
	"    icmp: 11\n";

static void
test_full(void)
{
	char err[512], ip[16];

	CU_ASSERT_EQUAL_FATAL(load(full_yaml, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.n_eal_args, 4);
	CU_ASSERT_STRING_EQUAL(cfg.eal_args[0], "--vdev");
	CU_ASSERT_STRING_EQUAL(cfg.eal_args[1], "net_null9");
	CU_ASSERT_STRING_EQUAL(cfg.eal_args[2], "-a");
	CU_ASSERT_STRING_EQUAL(cfg.eal_args[3], "0000:03:00.0");
	CU_ASSERT_EQUAL(cfg.memory_mb, 1024);
	CU_ASSERT_STRING_EQUAL(cfg.file_prefix, "dpnet-test");
	CU_ASSERT_EQUAL(cfg.hugepages, CFG_HUGEPAGES_NO);
	CU_ASSERT_EQUAL(cfg.mbufs, 32768);
	CU_ASSERT_EQUAL(cfg.workers, 2);
	CU_ASSERT_TRUE(cfg.poll.busy);
	CU_ASSERT_EQUAL(cfg.poll.spin_polls, 0);
	CU_ASSERT_EQUAL(cfg.poll.sleep_min_us, 5);
	CU_ASSERT_EQUAL(cfg.poll.sleep_max_us, 500);
	CU_ASSERT_EQUAL(cfg.fdb_size, 4096);
	CU_ASSERT_EQUAL(cfg.fdb_aging_s, 60);

	CU_ASSERT_EQUAL_FATAL(cfg.n_networks, 2);
	CU_ASSERT_STRING_EQUAL(cfg.networks[0].name, "front");
	CU_ASSERT_STRING_EQUAL(cfg.networks[0].driver, "bridge");
	CU_ASSERT_STRING_EQUAL(cfg_format_ip(cfg.networks[0].subnet, ip, sizeof(ip)),
			       "10.10.0.0");
	CU_ASSERT_EQUAL(cfg.networks[0].prefix_len, 24);
	CU_ASSERT_STRING_EQUAL(cfg_format_ip(cfg.networks[0].gateway, ip, sizeof(ip)),
			       "10.10.0.254");
	CU_ASSERT_FALSE(cfg.networks[0].subnet_auto);
	CU_ASSERT_EQUAL(cfg.networks[0].line, 18);
	/* No subnet: the first free 172.N.0.0/16 after docker0's, gateway .1. */
	CU_ASSERT_TRUE(cfg.networks[1].subnet_auto);
	CU_ASSERT_STRING_EQUAL(cfg_format_ip(cfg.networks[1].subnet, ip, sizeof(ip)),
			       "172.18.0.0");
	CU_ASSERT_EQUAL(cfg.networks[1].prefix_len, 16);
	CU_ASSERT_STRING_EQUAL(cfg_format_ip(cfg.networks[1].gateway, ip, sizeof(ip)),
			       "172.18.0.1");

	CU_ASSERT_EQUAL_FATAL(cfg.n_ports, 7);
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].name, "up0");
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].type, "dpdk");
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].devargs, "0000:03:00.0");
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].role, "uplink");
	CU_ASSERT_STRING_EQUAL(cfg.ports[0].network, "bridge"); /* the default */
	CU_ASSERT_EQUAL(cfg.ports[0].line, 24);
	CU_ASSERT_STRING_EQUAL(cfg.ports[1].name, "t0");
	CU_ASSERT_STRING_EQUAL(cfg.ports[1].iface, "tap-t0");
	CU_ASSERT_STRING_EQUAL(cfg.ports[1].network, "front");
	CU_ASSERT_STRING_EQUAL(cfg.ports[1].role, "access"); /* the default */
	CU_ASSERT_STRING_EQUAL(cfg.ports[2].iface, "/run/dpnet/v0.sock");
	CU_ASSERT_STRING_EQUAL(cfg.ports[2].network, "back");
	CU_ASSERT_STRING_EQUAL(cfg.ports[3].role, "host");
	CU_ASSERT_STRING_EQUAL(cfg.ports[4].devargs,
			       "rx_pcap=/tmp/in.pcap,tx_pcap=/tmp/out.pcap");
	CU_ASSERT_STRING_EQUAL(cfg.ports[5].type, "null");
	CU_ASSERT_STRING_EQUAL(cfg.ports[6].type, "ring");
	/* The uplink's address and gateway; none on the others. */
	CU_ASSERT_STRING_EQUAL(cfg_format_ip(cfg.ports[0].address, ip, sizeof(ip)), "192.0.2.10");
	CU_ASSERT_EQUAL(cfg.ports[0].address_len, 24);
	CU_ASSERT_STRING_EQUAL(cfg_format_ip(cfg.ports[0].gateway, ip, sizeof(ip)), "192.0.2.1");
	for (unsigned int i = 1; i < cfg.n_ports; i++)
		CU_ASSERT(cfg.ports[i].address == 0 && cfg.ports[i].gateway == 0);
	/* The uplink's MTU; the host port: its TAP's default name, namespace, no route. */
	CU_ASSERT_EQUAL(cfg.ports[0].mtu, 9000);
	CU_ASSERT_EQUAL(cfg.ports[1].mtu, 0);
	CU_ASSERT_STRING_EQUAL(cfg.ports[3].iface, "dpnet-host");
	CU_ASSERT_STRING_EQUAL(cfg.ports[3].netns, "hostsim");
	CU_ASSERT_TRUE(cfg.ports[3].no_default_route);
	CU_ASSERT_FALSE(cfg.ports[0].no_default_route);
	/* routes: to/via, a bare address as /32 blackhole, default. */
	CU_ASSERT_EQUAL_FATAL(cfg.n_routes, 3);
	CU_ASSERT_STRING_EQUAL(cfg_format_ip(cfg.routes[0].prefix, ip, sizeof(ip)), "198.51.100.0");
	CU_ASSERT_EQUAL(cfg.routes[0].len, 24);
	CU_ASSERT_STRING_EQUAL(cfg_format_ip(cfg.routes[0].via, ip, sizeof(ip)), "192.0.2.254");
	CU_ASSERT_FALSE(cfg.routes[0].blackhole);
	CU_ASSERT(cfg.routes[1].len == 32 && cfg.routes[1].blackhole && cfg.routes[1].via == 0);
	CU_ASSERT(cfg.routes[2].prefix == 0 && cfg.routes[2].len == 0);
	CU_ASSERT(cfg.routes[0].line > 0 && cfg.routes[1].line == cfg.routes[0].line + 2);
	/* nat and conntrack. */
	CU_ASSERT(cfg.nat.ephemeral_lo == 40000 && cfg.nat.ephemeral_hi == 40999);
	CU_ASSERT(cfg.nat.snat_lo == 2000 && cfg.nat.snat_hi == 3000);
	CU_ASSERT_EQUAL(cfg.ct.max, 4096);
	CU_ASSERT_EQUAL(cfg_ct_max(&cfg), 4096);
	CU_ASSERT_TRUE(cfg.ct.tcp_loose);
	for (unsigned int i = 0; i < CFG_CT_MAX; i++)
		CU_ASSERT_EQUAL(cfg.ct.timeout_s[i], i + 1);
	CU_ASSERT_STRING_EQUAL(cfg_ct_timeout_names[CFG_CT_TCP_ESTABLISHED], "tcp_established");
	CU_ASSERT_STRING_EQUAL(cfg_ct_timeout_names[CFG_CT_ICMP], "icmp");
}

/*
 * The sample configs shipped in conf/ must load. They are found from this
 * file's path as the compiler saw it (relative to the build directory, where
 * meson runs the test, or absolute).
 */
static void
test_samples(void)
{
	static const char *const files[] = {
		"dpnet.yaml", "tap-mode.yaml", "no-ports.yaml", "pcap-loop.yaml",
		"two-networks.yaml", "nat-short-timeouts.yaml", NULL,
	};
	const char *env = getenv("MESON_SOURCE_ROOT");
	char dir[512], path[600], err[1024];
	const char *slash;

	if (env != NULL) {
		snprintf(dir, sizeof(dir), "%s/conf", env);
	} else {
		slash = strrchr(__FILE__, '/');
		if (slash != NULL)
			snprintf(dir, sizeof(dir), "%.*s/../../conf", (int)(slash - __FILE__),
				 __FILE__);
		else
			snprintf(dir, sizeof(dir), "../../conf");
	}
	snprintf(path, sizeof(path), "%s/dpnet.yaml", dir);
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "\n  (conf/ not found from %s: sample configs not checked)\n",
			dir);
		return;
	}
	for (int i = 0; files[i] != NULL; i++) {
		int rc;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (access(path, R_OK) != 0)
			continue;
		rc = cfg_load(path, &cfg, err, sizeof(err));
		if (rc != 0)
			fprintf(stderr, "\n%s\n", err);
		CU_ASSERT_EQUAL(rc, 0);
	}
}

/* One error case: the file text and the exact message after "FILE:". */
struct err_case {
	const char *yaml;      /* file content */
	const char *expect;    /* message without the "path:" prefix */
};

static const struct err_case err_cases[] = {
	/* unknown keys, at every level */
	{ "workers: 1\nworkres: 2\n",
	  "2: workres: unknown key: use one of eal, mbufs, workers, poll, fdb, ports, networks, "
	  "nat, conntrack, routes, control, vxlan, cluster, vtap" },
	{ "vtap:\n  big: 3\n", "2: vtap.big: unknown key: use one of big_mbufs" },
	{ "vtap:\n  big_mbufs: 8\n", "2: vtap.big_mbufs: 8 is out of range: use 16 to 65536" },
	{ "eal:\n  memory_mb: 256\nvtap:\n  big_mbufs: 2048\n",
	  "4: vtap.big_mbufs: 2048 mbufs of 64 KB need 128 MB, more than a quarter of "
	  "eal.memory_mb (256 MB): lower vtap.big_mbufs to 1024 or raise eal.memory_mb to 512" },
	{ "poll:\n  mode: busy\n  spin: 3\n",
	  "3: poll.spin: unknown key: use one of mode, spin_polls, sleep_min_us, sleep_max_us, "
	  "interrupts, interrupt_timeout_ms" },
	{ "eal:\n  memory: 3\n",
	  "2: eal.memory: unknown key: use one of args, memory_mb, file_prefix, hugepages" },
	{ "fdb:\n  age: 3\n", "2: fdb.age: unknown key: use one of size, aging_s" },
	{ "ports:\n  - name: a\n    type: null\n    ifname: x\n",
	  "4: ports[0].ifname: unknown key: use one of name, type, iface, devargs, network, role, "
	  "address, gateway, mtu, netns, default_route" },
	{ "networks:\n  - name: a\n    cidr: 10.0.0.0/8\n",
	  "3: networks[0].cidr: unknown key: use one of name, driver, subnet, gateway" },
	/* duplicate keys */
	{ "workers: 1\nmbufs: 2048\nworkers: 2\n",
	  "3: workers: duplicate key (first on line 1)" },
	/* types and ranges */
	{ "workers: two\n", "1: workers: expected an integer from 1 to 16, got \"two\"" },
	{ "workers: 0\n", "1: workers: 0 is out of range: use 1 to 16" },
	{ "workers: 17\n", "1: workers: 17 is out of range: use 1 to 16" },
	{ "workers: -1\n", "1: workers: expected an integer from 1 to 16, got \"-1\"" },
	{ "workers: [1]\n", "1: workers: expected an integer from 1 to 16, got a list" },
	{ "mbufs: 99999999999\n",
	  "1: mbufs: expected an integer from 1024 to 16777216, got \"99999999999\"" },
	{ "mbufs:\n", "1: mbufs: expected an integer from 1024 to 16777216, got nothing" },
	{ "eal:\n  memory_mb: 8\n", "2: eal.memory_mb: 8 is out of range: use 64 to 1048576" },
	{ "eal:\n  hugepages: maybe\n",
	  "2: eal.hugepages: unknown value \"maybe\": use auto, yes or no" },
	{ "eal:\n  args: --no-pci\n",
	  "2: eal.args: expected a list of EAL arguments, got a value" },
	{ "eal:\n  file_prefix: a/b\n",
	  "2: eal.file_prefix: invalid file prefix \"a/b\": use letters, digits, '_', '.' or '-'" },
	{ "poll:\n  mode: lazy\n",
	  "2: poll.mode: unknown poll mode \"lazy\": use adaptive (sleep when idle) or busy "
	  "(dedicated cores)" },
	{ "poll:\n  sleep_min_us: 2000\n  sleep_max_us: 100\n",
	  "2: poll.sleep_min_us: 2000 is more than sleep_max_us (100): the first sleep cannot "
	  "be longer than the longest" },
	{ "poll: busy\n", "1: poll: expected a mapping of keys, got a value" },
	{ "poll:\n  interrupts: yes\n",
	  "2: poll.interrupts: unknown value \"yes\": use auto (block on RX interrupts when "
	  "every queue of a worker has them) or off (always sleep on a timer)" },
	{ "poll:\n  interrupt_timeout_ms: 0\n",
	  "2: poll.interrupt_timeout_ms: 0 is out of range: use 1 to 60000" },
	{ "fdb:\n  size: 10\n", "2: fdb.size: 10 is out of range: use 1024 to 16777216" },
	/* structure */
	{ "- a\n- b\n", "1: expected a mapping of keys (eal, mbufs, workers, poll, fdb, ports, "
	  "networks, nat, conntrack, routes, control, vxlan, cluster, vtap), got a list" },
	{ "ports: 3\n", "1: ports: expected a list (entries starting with '- '), got a value" },
	{ "ports:\n  - tap\n",
	  "2: ports[0]: expected a mapping (name:, type:, ...), got a value" },
	{ "ports:\n  - type: null\n", "2: ports[0]: missing key name: every port needs one" },
	{ "ports:\n  - name: a\n",
	  "2: ports[0]: missing key type: use one of tap, afpacket, vhost, pcap, null, ring, "
	  "dpdk, vtap" },
	{ "ports:\n  - name: a\n    type: [x]\n",
	  "3: ports[0].type: expected a value, got a list" },
	/* ports */
	{ "ports:\n  - name: a\n    type: null\n  - name: b\n    type: foo\n",
	  "4: ports[1].type: unknown port type \"foo\": use one of tap, afpacket, vhost, pcap, "
	  "null, ring, dpdk, vtap" },
	{ "ports:\n  - name: a b\n    type: null\n",
	  "2: ports[0].name: invalid port name \"a b\": use 1 to 31 letters, digits, '_', '.' "
	  "or '-', starting with a letter or digit" },
	{ "ports:\n  - name: a\n    type: null\n  - name: a\n    type: ring\n",
	  "4: ports[1].name: duplicate port name \"a\" (also on line 2)" },
	{ "ports:\n  - name: a\n    type: afpacket\n",
	  "2: ports[0].iface: port type \"afpacket\" needs an interface: add iface: IF (an "
	  "existing interface, e.g. the host end of a veth pair)" },
	{ "ports:\n  - name: a\n    type: tap\n    iface: much-too-long-name\n",
	  "2: ports[0].iface: invalid interface name \"much-too-long-name\": use at most 15 "
	  "characters, no '/', ',' or spaces" },
	{ "ports:\n  - name: a-very-long-port-name\n    type: tap\n",
	  "2: ports[0].iface: invalid interface name \"a-very-long-port-name\": use at most 15 "
	  "characters, no '/', ',' or spaces (or add iface: IF)" },
	{ "ports:\n  - name: a\n    type: tap\n  - name: b\n    type: tap\n    iface: a\n",
	  "4: ports[1].iface: interface \"a\" is already created by port \"a\" (line 2): pick "
	  "another name" },
	{ "ports:\n  - name: v\n    type: vhost\n    iface: v.sock\n",
	  "2: ports[0].iface: port type \"vhost\" needs the absolute path of the vhost-user "
	  "socket to create: add iface: /PATH/TO/SOCKET" },
	{ "ports:\n  - name: p\n    type: pcap\n",
	  "2: ports[0].devargs: port type \"pcap\" needs its files: add devargs: "
	  "rx_pcap=IN.pcap,tx_pcap=OUT.pcap (see DPDK's net_pcap)" },
	{ "ports:\n  - name: d\n    type: dpdk\n",
	  "2: ports[0].devargs: port type \"dpdk\" needs the device: add devargs: PCI-ADDRESS "
	  "(e.g. 0000:03:00.0) or a vdev string" },
	{ "ports:\n  - name: a\n    type: null\n    role: boss\n",
	  "2: ports[0].role: unknown role \"boss\": use one of access, uplink, host" },
	{ "ports:\n  - name: a\n    type: null\n    role: uplink\n"
	  "  - name: b\n    type: null\n    role: uplink\n",
	  "5: ports[1].role: \"b\" would be a second uplink (\"a\" is one): keep one port with "
	  "role uplink" },
	{ "ports:\n  - name: a\n    type: null\n    network: nowhere\n",
	  "2: ports[0].network: network \"nowhere\" not found: define it under networks: or "
	  "use bridge" },
	{ "ports:\n  - name: a\n    type: null\n    network: host\n",
	  "2: ports[0].network: network \"host\" is not a bridge network: a port can only join "
	  "a bridge network" },
	/* networks */
	{ "networks:\n  - name: bridge\n",
	  "2: networks[0].name: \"bridge\" is a built-in network: pick another name" },
	{ "networks:\n  - name: a\n  - name: a\n",
	  "3: networks[1].name: duplicate network name \"a\" (also on line 2)" },
	{ "networks:\n  - subnet: 10.0.0.0/8\n",
	  "2: networks[0]: missing key name: every network needs one" },
	{ "networks:\n  - name: a\n    driver: overlay\n",
	  "3: networks[0].driver: unknown network driver \"overlay\": use bridge" },
	{ "networks:\n  - name: a\n    subnet: 10.0.0.0\n",
	  "3: networks[0].subnet: invalid subnet \"10.0.0.0\": write it as CIDR, e.g. "
	  "172.18.0.0/16" },
	{ "networks:\n  - name: a\n    subnet: 10.0.0.1/8\n",
	  "3: networks[0].subnet: \"10.0.0.1/8\" has host bits set: did you mean 10.0.0.0/8?" },
	{ "networks:\n  - name: a\n    subnet: 10.0.0.0/31\n",
	  "3: networks[0].subnet: prefix /31 is out of range: use /8 to /30" },
	{ "networks:\n  - name: a\n    subnet: 172.17.3.0/24\n",
	  "2: networks[0].subnet: 172.17.3.0/24 overlaps network \"bridge\" (172.17.0.0/16): "
	  "pick a free range" },
	{ "networks:\n  - name: a\n    subnet: 10.0.0.0/8\n  - name: b\n    subnet: 10.1.0.0/16\n",
	  "4: networks[1].subnet: 10.1.0.0/16 overlaps network \"a\" (10.0.0.0/8): pick a free "
	  "range" },
	{ "networks:\n  - name: a\n    subnet: 10.0.0.0/24\n    gateway: 10.0.1.1\n",
	  "2: networks[0].gateway: 10.0.1.1 is not inside subnet 10.0.0.0/24" },
	{ "networks:\n  - name: a\n    subnet: 10.0.0.0/24\n    gateway: 10.0.0.255\n",
	  "2: networks[0].gateway: 10.0.0.255 is the network or broadcast address of "
	  "10.0.0.0/24: use a host address" },
	{ "networks:\n  - name: a\n    gateway: 10.0.0.1\n",
	  "2: networks[0]: a gateway needs a subnet: add subnet: CIDR" },
	{ "networks:\n  - name: a\n    subnet: 10.0.0.0/24\n    gateway: ten\n",
	  "4: networks[0].gateway: invalid gateway \"ten\": write an IPv4 address, e.g. "
	  "172.18.0.1" },
	/* the uplink's address and gateway */
#define UP "ports:\n  - name: u\n    type: null\n    role: uplink\n"
	{ UP "    address: 10.0.0.5\n",
	  "5: ports[0].address: invalid address \"10.0.0.5\": write it as A.B.C.D/N, e.g. "
	  "192.0.2.10/24" },
	{ UP "    address: 10.0.0.300/24\n",
	  "5: ports[0].address: invalid address \"10.0.0.300/24\": write it as A.B.C.D/N, e.g. "
	  "192.0.2.10/24" },
	{ UP "    address: 10.0.0.5/31\n",
	  "5: ports[0].address: prefix /31 of \"10.0.0.5/31\" is out of range: use /8 to /30" },
	{ UP "    address: 10.0.0.0/24\n",
	  "5: ports[0].address: \"10.0.0.0/24\" is the network or broadcast address of "
	  "10.0.0.0/24: give a host address" },
	{ UP "    address: 10.0.0.255/24\n",
	  "5: ports[0].address: \"10.0.0.255/24\" is the network or broadcast address of "
	  "10.0.0.0/24: give a host address" },
	{ UP "    address: 127.0.0.2/8\n",
	  "5: ports[0].address: \"127.0.0.2/8\" is not a unicast host address (0/8, 127/8, "
	  "multicast or reserved)" },
	{ UP "    address: 224.0.0.5/24\n",
	  "5: ports[0].address: \"224.0.0.5/24\" is not a unicast host address (0/8, 127/8, "
	  "multicast or reserved)" },
	{ UP "    address: [10.0.0.5/24]\n",
	  "5: ports[0].address: expected a value, got a list" },
	{ UP "    gateway: 10.0.0.1\n",
	  "2: ports[0].gateway: a gateway needs the uplink's own address: add address: "
	  "A.B.C.D/N (dpnet's address on the uplink network, with the gateway inside it)" },
	{ UP "    address: 10.0.0.5/24\n    gateway: 10.0.1.1\n",
	  "2: ports[0].gateway: gateway 10.0.1.1 is not inside the uplink's subnet 10.0.0.0/24 "
	  "(of address 10.0.0.5/24): the next hop must be on the uplink network" },
	{ UP "    address: 10.0.0.5/24\n    gateway: 10.0.0.5\n",
	  "2: ports[0].gateway: gateway 10.0.0.5 is dpnet's own address: give the next hop's "
	  "address" },
	{ UP "    address: 10.0.0.5/24\n    gateway: 10.0.0.255\n",
	  "2: ports[0].gateway: gateway 10.0.0.255 is the network or broadcast address of "
	  "10.0.0.0/24: give a host address" },
	{ UP "    address: 10.0.0.5/24\n    gateway: 0.0.0.0\n",
	  "6: ports[0].gateway: 0.0.0.0 cannot be a gateway" },
	{ UP "    address: 10.0.0.5/24\n    gateway: gw\n",
	  "6: ports[0].gateway: invalid gateway \"gw\": write an IPv4 address, e.g. 192.0.2.1" },
	{ "ports:\n  - name: a\n    type: null\n    address: 10.0.0.5/24\n",
	  "2: ports[0].address: only the uplink has an address (role: uplink): dpnet's address "
	  "in a bridge network is that network's gateway; drop address: or make the port "
	  "role: uplink" },
	{ "ports:\n  - name: t\n    type: tap\n    role: uplink\n    address: 169.254.9.2/30\n",
	  "2: ports[0].gateway: a tap uplink with an address needs gateway: IP: the host side's "
	  "address on t, in 169.254.9.0/30 (e.g. 169.254.9.1)" },
	{ "ports:\n  - name: t\n    type: vtap\n    role: uplink\n    address: 169.254.9.2/30\n",
	  "2: ports[0].gateway: a vtap uplink with an address needs gateway: IP: the host side's "
	  "address on t, in 169.254.9.0/30 (e.g. 169.254.9.1)" },
	{ "ports:\n  - {name: a, type: tap, iface: x}\n  - {name: b, type: vtap, iface: x}\n",
	  "3: ports[1].iface: interface \"x\" is already created by port \"a\" (line 2): pick "
	  "another name" },
	{ UP "    address: 172.17.200.1/24\n",
	  "2: ports[0].address: 172.17.200.1/24 overlaps network \"bridge\" (172.17.0.0/16): "
	  "the uplink network must be another one" },
	{ "networks:\n  - name: n\n    subnet: 10.1.0.0/16\n" UP "    address: 10.0.0.1/8\n",
	  "5: ports[0].address: 10.0.0.1/8 overlaps network \"n\" (10.1.0.0/16): the uplink "
	  "network must be another one" },
	/* the uplink's MTU */
	{ UP "    mtu: 20\n", "5: ports[0].mtu: 20 is out of range: use 68 to 9000" },
	{ "ports:\n  - {name: a, type: null, mtu: 1400}\n",
	  "2: ports[0].mtu: only the uplink has an MTU (mtu:): a bridge network's is the "
	  "network's (network create --mtu)" },
#define NIC UP "    address: 192.0.2.2/24\n    gateway: 192.0.2.1\n"
	/* the host port */
	{ NIC "  - {name: h, type: afpacket, iface: x, role: host}\n",
	  "7: ports[1].type: the host port is a tap (its host side carries the host's "
	  "address): use type: tap" },
	{ NIC "  - {name: h, type: tap, role: host}\n  - {name: h2, type: tap, iface: h2, role: "
	  "host}\n",
	  "8: ports[2].role: \"h2\" would be a second host port (\"h\" is one): keep one port "
	  "with role host" },
	{ "ports:\n  - {name: h, type: tap, role: host}\n",
	  "2: ports[0].role: the host port carries the uplink's address to the host: it needs "
	  "a port with role: uplink and address: (a NIC uplink)" },
	{ "ports:\n  - {name: t, type: tap, role: uplink, address: 169.254.9.2/30, gateway: "
	  "169.254.9.1}\n  - {name: h, type: tap, role: host}\n",
	  "3: ports[1].role: the host port is for a NIC uplink: with a tap uplink (\"t\") the "
	  "host reaches dpnet through that tap already" },
	{ "ports:\n  - {name: t, type: vtap, role: uplink, address: 169.254.9.2/30, gateway: "
	  "169.254.9.1}\n  - {name: h, type: tap, role: host}\n",
	  "3: ports[1].role: the host port is for a NIC uplink: with a vtap uplink (\"t\") the "
	  "host reaches dpnet through that vtap already" },
	{ NIC "  - {name: h, type: tap, role: host, netns: a/b}\n",
	  "7: ports[1].netns: invalid namespace name \"a/b\": give the name of one in "
	  "/run/netns (ip netns add NAME)" },
	{ NIC "  - {name: h, type: tap, netns: x}\n",
	  "7: ports[1].netns: only the host port (role: host) goes to a namespace: drop netns:" },
	{ NIC "  - {name: h, type: tap, role: host, default_route: maybe}\n",
	  "7: ports[1].default_route: unknown value \"maybe\": use true or false" },
	{ NIC "  - {name: h, type: tap, default_route: no}\n",
	  "7: ports[1].default_route: only the host port (role: host) has a default route to "
	  "turn off" },
#undef NIC
#undef UP
	/* routes */
	{ "routes:\n  - {to: 10.0.0.1/8, via: 192.0.2.1}\n",
	  "2: routes[0].to: \"10.0.0.1/8\" has host bits set: did you mean 10.0.0.0/8?" },
	{ "routes:\n  - {to: 10.0.0.0/33, via: 192.0.2.1}\n",
	  "2: routes[0].to: invalid destination \"10.0.0.0/33\": write it as A.B.C.D/N, e.g. "
	  "198.51.100.0/24 (or default)" },
	{ "routes:\n  - {to: 10.0.0.0/8, via: gw}\n",
	  "2: routes[0].via: invalid gateway \"gw\": write an IPv4 address, e.g. 192.0.2.1" },
	{ "routes:\n  - {to: 10.0.0.0/8}\n",
	  "2: routes[0]: a route to nowhere: add via: GATEWAY (a next hop on the uplink "
	  "network or a bridge network) or blackhole: true" },
	{ "routes:\n  - via: 192.0.2.1\n",
	  "2: routes[0]: missing key to: the destination, e.g. to: 198.51.100.0/24" },
	{ "routes:\n  - {to: 10.0.0.0/8, via: 192.0.2.1, blackhole: true}\n",
	  "2: routes[0]: a route has either via: or blackhole: true, not both" },
	{ "routes:\n  - {to: 10.0.0.0/8, via: 192.0.2.1}\n  - {to: 10.0.0.0/8, blackhole: "
	  "true}\n", "3: routes[1]: duplicate route to 10.0.0.0/8 (also on line 2)" },
	{ "routes:\n  - {to: 10.0.0.0/8, dev: eth0}\n",
	  "2: routes[0].dev: unknown key: use one of to, via, blackhole" },
	{ "routes: 10.0.0.0/8\n",
	  "1: routes: expected a list (entries starting with '- '), got a value" },
	/* nat */
	{ "nat:\n  ephemeral_range: 70000-80000\n",
	  "2: nat.ephemeral_range: invalid port range \"70000-80000\": write LO-HI with 1 <= LO "
	  "<= HI <= 65535, e.g. \"32768-60999\"" },
	{ "nat:\n  ephemeral_range: 9000\n",
	  "2: nat.ephemeral_range: invalid port range \"9000\": write LO-HI with 1 <= LO <= HI "
	  "<= 65535, e.g. \"32768-60999\"" },
	{ "nat:\n  snat_ports: 2000-1000\n",
	  "2: nat.snat_ports: invalid port range \"2000-1000\": write LO-HI with 1 <= LO <= HI "
	  "<= 65535, e.g. \"1024-65535\"" },
	{ "nat:\n  snat_ports: 0-100\n",
	  "2: nat.snat_ports: invalid port range \"0-100\": write LO-HI with 1 <= LO <= HI <= "
	  "65535, e.g. \"1024-65535\"" },
	{ "nat:\n  ports: 1-2\n",
	  "2: nat.ports: unknown key: use one of ephemeral_range, snat_ports" },
	/* conntrack */
	{ "conntrack:\n  max: 10\n", "2: conntrack.max: 10 is out of range: use 1024 to 67108864" },
	{ "conntrack:\n  max: lots\n",
	  "2: conntrack.max: expected an integer from 1024 to 67108864, got \"lots\"" },
	{ "conntrack:\n  max: 4000000\n",
	  "2: conntrack.max: 4000000 connections need about 1221 MB, more than half of "
	  "eal.memory_mb (512 MB): raise eal.memory_mb to 2442 or lower conntrack.max to "
	  "838860" },
	{ "conntrack:\n  tcp_loose: maybe\n",
	  "2: conntrack.tcp_loose: unknown value \"maybe\": use true or false" },
	{ "conntrack:\n  timeouts:\n    tcp_established: 0\n",
	  "3: conntrack.timeouts.tcp_established: 0 is out of range: use 1 to 315360000" },
	{ "conntrack:\n  timeouts:\n    udp: -1\n",
	  "3: conntrack.timeouts.udp: expected an integer from 1 to 315360000, got \"-1\"" },
	{ "conntrack:\n  timeouts:\n    tcp_idle: 5\n",
	  "3: conntrack.timeouts.tcp_idle: unknown key: use one of tcp_syn_sent, tcp_syn_recv, "
	  "tcp_established, tcp_fin_wait, tcp_close_wait, tcp_last_ack, tcp_time_wait, "
	  "tcp_close, udp, udp_stream, icmp" },
	{ "conntrack:\n  timeouts: 30\n",
	  "2: conntrack.timeouts: expected a mapping of keys, got a value" },
	{ "conntrack:\n  timeouts:\n    icmp: 5\n    icmp: 6\n",
	  "4: conntrack.timeouts.icmp: duplicate key (first on line 3)" },
	/* control: the group of the control socket */
	{ "control:\n  owner: x\n", "2: control.owner: unknown key: use one of group" },
	{ "control: docker\n", "1: control: expected a mapping of keys, got a value" },
	{ "control:\n  group:\n", "2: control.group: the value is missing" },
	{ "control:\n  group: [a]\n", "2: control.group: expected a value, got a list" },
	{ "workers: 1\ncontrol:\n  group: \"bad name\"\n",
	  "3: control.group: invalid group name \"bad name\": letters, digits, '_', '.', '-', "
	  "at most 32 characters" },
	{ "control:\n  group: -x\n",
	  "2: control.group: invalid group name \"-x\": letters, digits, '_', '.', '-', "
	  "at most 32 characters" },
	{ "control:\n  group: abcdefghijabcdefghijabcdefghijabc\n",
	  "2: control.group: invalid group name \"abcdefghijabcdefghijabcdefghijabc\": letters, "
	  "digits, '_', '.', '-', at most 32 characters" },
	{ "control:\n  group: a\n  group: b\n",
	  "3: control.group: duplicate key (first on line 2)" },
};

static void
test_errors(void)
{
	char err[1024], want[1024];
	const char *path;

	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *c = &err_cases[i];

		path = write_file("bad.yaml", c->yaml);
		err[0] = '\0';
		CU_ASSERT_TRUE(cfg_load(path, &cfg, err, sizeof(err)) < 0);
		snprintf(want, sizeof(want), "%s:%s", path, c->expect);
		if (strcmp(err, want) != 0)
			fprintf(stderr, "\ncase %zu:\n  got  %s\n  want %s\n", i, err, want);
		CU_ASSERT_STRING_EQUAL(err, want);
	}
}

static void
test_syntax_errors(void)
{
	char err[1024], want[512];
	const char *path;

	path = write_file("syntax.yaml", "workers: 1\nports: [\n  {name: a\n");
	CU_ASSERT_TRUE(cfg_load(path, &cfg, err, sizeof(err)) < 0);
	snprintf(want, sizeof(want), "%s:", path);
	CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "YAML syntax error"));

	path = write_file("tab.yaml", "poll:\n\tmode: busy\n");
	CU_ASSERT_TRUE(cfg_load(path, &cfg, err, sizeof(err)) < 0);
	snprintf(want, sizeof(want), "%s:2: YAML syntax error", path);
	CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);

	snprintf(want, sizeof(want), "%s/does-not-exist.yaml", tmpdir);
	CU_ASSERT_TRUE(cfg_load(want, &cfg, err, sizeof(err)) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "does-not-exist.yaml: cannot open: No such file"));
}

static void
test_auto_subnets(void)
{
	char err[512], ip[16];

	CU_ASSERT_EQUAL_FATAL(load("networks:\n  - name: a\n  - name: b\n    subnet: "
				   "172.18.0.0/16\n  - name: c\n", err, sizeof(err)), 0);
	/* a avoids b's explicit range, c avoids both. */
	CU_ASSERT_STRING_EQUAL(cfg_format_ip(cfg.networks[0].subnet, ip, sizeof(ip)),
			       "172.19.0.0");
	CU_ASSERT_STRING_EQUAL(cfg_format_ip(cfg.networks[1].gateway, ip, sizeof(ip)),
			       "172.18.0.1");
	CU_ASSERT_STRING_EQUAL(cfg_format_ip(cfg.networks[2].subnet, ip, sizeof(ip)),
			       "172.20.0.0");
}

static void
test_helpers(void)
{
	struct cfg_port p;
	enum cfg_port_field f;
	uint32_t a;
	uint8_t len;
	char err[256];

	CU_ASSERT_EQUAL(cfg_parse_cidr("192.168.1.0/24", &a, &len), 0);
	CU_ASSERT_EQUAL(a, 0xC0A80100u);
	CU_ASSERT_EQUAL(len, 24);
	CU_ASSERT_EQUAL(cfg_parse_cidr("192.168.1.0/33", &a, &len), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_cidr("192.168.1.0/", &a, &len), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_cidr("192.168.1/24", &a, &len), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_cidr("/24", &a, &len), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_ip("1.2.3.4", &a), 0);
	CU_ASSERT_EQUAL(a, 0x01020304u);
	CU_ASSERT_EQUAL(cfg_prefix_mask(0), 0);
	CU_ASSERT_EQUAL(cfg_prefix_mask(16), 0xFFFF0000u);
	CU_ASSERT_EQUAL(cfg_prefix_mask(32), 0xFFFFFFFFu);

	CU_ASSERT_TRUE(cfg_name_valid("n0", 32));
	CU_ASSERT_TRUE(cfg_name_valid("a.b_c-d", 32));
	CU_ASSERT_FALSE(cfg_name_valid("", 32));
	CU_ASSERT_FALSE(cfg_name_valid("-x", 32));
	CU_ASSERT_FALSE(cfg_name_valid("bad/name", 32));
	CU_ASSERT_FALSE(cfg_name_valid("0123456789012345678901234567890123", 32));

	CU_ASSERT_EQUAL(cfg_port_type_index("tap"), 0);
	CU_ASSERT_EQUAL(cfg_port_type_index("dpdk"), 6);
	CU_ASSERT_EQUAL(cfg_port_type_index("TAP"), -1);
	CU_ASSERT_EQUAL(cfg_port_role_index("host"), 2);
	CU_ASSERT_TRUE(cfg_type_is_tap("tap"));
	CU_ASSERT_TRUE(cfg_type_is_tap("vtap"));
	CU_ASSERT_FALSE(cfg_type_is_tap("afpacket"));
	CU_ASSERT_FALSE(cfg_type_is_tap(""));

	/* The command-line phrasing of the same checks. */
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "x");
	snprintf(p.type, sizeof(p.type), "afpacket");
	CU_ASSERT_EQUAL(cfg_port_check(&p, true, &f, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(f, CFG_PF_IFACE);
	CU_ASSERT_STRING_EQUAL(err, "port type \"afpacket\" needs an interface: give --iface IF "
			       "(an existing interface, e.g. the host end of a veth pair)");
	snprintf(p.type, sizeof(p.type), "tap");
	CU_ASSERT_EQUAL(cfg_port_check(&p, true, &f, err, sizeof(err)), 0);
	snprintf(p.type, sizeof(p.type), "bogus");
	CU_ASSERT_EQUAL(cfg_port_check(&p, true, &f, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(f, CFG_PF_TYPE);
	CU_ASSERT_STRING_EQUAL(err, "unknown port type \"bogus\": use one of tap, afpacket, "
			       "vhost, pcap, null, ring, dpdk, vtap");
}

static void
test_networks(void)
{
	static struct net_table t;
	struct net *list[NET_MAX], *a, *b;
	char err[512], id[NET_ID_LEN + 1];
	unsigned int n;

	CU_ASSERT_EQUAL_FATAL(load("networks:\n  - name: zeta\n  - name: alpha\n    subnet: "
				   "10.1.0.0/16\n", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(net_table_init(&t, &cfg, err, sizeof(err)), 0);
	n = net_list(&t, list, NET_MAX);
	CU_ASSERT_EQUAL_FATAL(n, 5);
	/* Sorted by name; the defaults keep the ids INTERFACE.md shows. */
	CU_ASSERT_STRING_EQUAL(list[0]->name, "alpha");
	CU_ASSERT_STRING_EQUAL(list[1]->name, "bridge");
	CU_ASSERT_NSTRING_EQUAL(list[1]->id, "9e3c441ad16e", NET_ID_LEN);
	CU_ASSERT_STRING_EQUAL(net_driver_name(list[1]->driver), "bridge");
	CU_ASSERT_EQUAL(list[1]->domain, 0);
	CU_ASSERT_STRING_EQUAL(list[2]->name, "host");
	CU_ASSERT_NSTRING_EQUAL(list[2]->id, "fdfd4abed1a0", NET_ID_LEN);
	CU_ASSERT_STRING_EQUAL(net_driver_name(list[2]->driver), "host");
	CU_ASSERT_EQUAL(list[2]->domain, NET_DOMAIN_NONE);
	CU_ASSERT_STRING_EQUAL(list[3]->name, "none");
	CU_ASSERT_NSTRING_EQUAL(list[3]->id, "8a93bc235b8d", NET_ID_LEN);
	CU_ASSERT_STRING_EQUAL(net_driver_name(list[3]->driver), "null");
	CU_ASSERT_STRING_EQUAL(list[4]->name, "zeta");
	CU_ASSERT_STRING_EQUAL(net_scope(list[4]), "local");
	/* Config networks: their own domains, 64-hex ids stable across restarts. */
	a = net_find(&t, "alpha");
	b = net_find(&t, "zeta");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_NOT_EQUAL(a->domain, b->domain);
	CU_ASSERT_NOT_EQUAL(a->domain, 0);
	CU_ASSERT_EQUAL(strlen(a->id), NET_FULL_ID_LEN);
	CU_ASSERT_EQUAL(strspn(a->id, "0123456789abcdef"), NET_FULL_ID_LEN);
	snprintf(id, sizeof(id), "%s", a->id);
	CU_ASSERT_EQUAL(net_table_init(&t, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_NSTRING_EQUAL(net_find(&t, "alpha")->id, id, NET_ID_LEN);
	/* Lookup by id and by unique id prefix, as docker. */
	CU_ASSERT_PTR_EQUAL(net_find(&t, "9e3c441ad16e"), net_find(&t, "bridge"));
	CU_ASSERT_PTR_EQUAL(net_find(&t, "9e3c"), net_find(&t, "bridge"));
	CU_ASSERT_PTR_NULL(net_find(&t, "nosuch"));
	CU_ASSERT_PTR_EQUAL(net_by_domain(&t, 0), net_find(&t, "bridge"));
	/* Built-ins cannot go; networks with ports cannot go; others can. */
	CU_ASSERT_EQUAL(net_del(&t, net_find(&t, "host"), err, sizeof(err)), -EPERM);
	b = net_find(&t, "zeta");
	b->n_ports = 1;
	CU_ASSERT_EQUAL(net_del(&t, b, err, sizeof(err)), -EBUSY);
	b->n_ports = 0;
	CU_ASSERT_EQUAL(net_del(&t, b, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NULL(net_find(&t, "zeta"));
	CU_ASSERT_PTR_NULL(net_add(&t, "alpha", 0x0A020000u, 16, 0x0A020001u, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(net_add(&t, "zeta2", 0x0A020000u, 16, 0x0A020001u, err,
				       sizeof(err)));
}

static void
test_json_depth(void)
{
	CU_ASSERT_EQUAL(srv_json_depth("{}", 2, 16), 1);
	CU_ASSERT_EQUAL(srv_json_depth("{\"a\":[1,{\"b\":[]}]}", 18, 16), 4);
	/* Brackets inside strings, escaped quotes included, do not count. */
	CU_ASSERT_EQUAL(srv_json_depth("{\"a\":\"[[[\\\"[[\"}", 15, 16), 1);
	CU_ASSERT_EQUAL(srv_json_depth("[[[[[[[[[[[[[[[[[[[[", 20, 16), 17);
}

int
main(void)
{
	CU_pSuite s;
	unsigned int failures;
	char cmd[300];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dpnet-test-config.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("config", NULL, NULL);
	if (s == NULL ||
	    CU_add_test(s, "defaults", test_defaults) == NULL ||
	    CU_add_test(s, "control.group", test_control) == NULL ||
	    CU_add_test(s, "built-in (TAP mode)", test_builtin) == NULL ||
	    CU_add_test(s, "every key round-trip", test_full) == NULL ||
	    CU_add_test(s, "conf/*.yaml load", test_samples) == NULL ||
	    CU_add_test(s, "errors: file:line: key: message", test_errors) == NULL ||
	    CU_add_test(s, "YAML syntax and I/O errors", test_syntax_errors) == NULL ||
	    CU_add_test(s, "automatic subnets", test_auto_subnets) == NULL ||
	    CU_add_test(s, "helpers", test_helpers) == NULL ||
	    CU_add_test(s, "network table", test_networks) == NULL ||
	    CU_add_test(s, "request nesting depth", test_json_depth) == NULL) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return failures != 0 ? 1 : 0;
}
