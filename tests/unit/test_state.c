/*
 * test_state.c - state.c (atomic save, restore, corrupt files) and the
 * "networks" section of network.c, without DPDK.
 *
 * A failed write is made real, not simulated by a hook: RLIMIT_FSIZE below the
 * document's size makes write() fail with EFBIG half-way (SIGXFSZ ignored), and
 * the test checks that state.json still holds the previous document and that
 * no temporary file is left.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <jansson.h>

#include "control/config.h"
#include "control/network.h"
#include "control/state.h"

static char tmpdir[64];
static int n_errs;           /* ERR lines logged */
static char last_err[1024];  /* the last one */

static void
log_cb(enum state_log_level level, const char *msg)
{
	if (level == STATE_LOG_ERR) {
		n_errs++;
		snprintf(last_err, sizeof(last_err), "%s", msg);
	}
}

/* A directory of its own per test. */
static void
fresh_dir(char *dir, size_t len, const char *name)
{
	char cmd[256];

	snprintf(dir, len, "%s/%s", tmpdir, name);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void
spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

/* Files in dir whose name starts with prefix. */
static int
count_files(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/* ---- a toy section: a counter and a string ---- */

struct toy {
	int value;             /* dumped as "value" */
	char text[64];         /* dumped as "text" */
	int restored;          /* restore calls */
};

static json_t *
toy_dump(void *arg)
{
	struct toy *t = arg;

	return json_pack("{s:i, s:s}", "value", t->value, "text", t->text);
}

static int
toy_restore(void *arg, json_t *val, char *err, size_t errlen)
{
	struct toy *t = arg;

	(void)err;
	(void)errlen;
	t->value = (int)json_integer_value(json_object_get(val, "value"));
	snprintf(t->text, sizeof(t->text), "%s",
		 json_is_string(json_object_get(val, "text")) ?
		 json_string_value(json_object_get(val, "text")) : "");
	t->restored++;
	return 0;
}

/* Records the order in which sections are restored. */
static char order_seen[64];

static int
order_restore(void *arg, json_t *val, char *err, size_t errlen)
{
	(void)val;
	(void)err;
	(void)errlen;
	strncat(order_seen, arg, sizeof(order_seen) - strlen(order_seen) - 1);
	return 0;
}

static json_t *
order_dump(void *arg)
{
	(void)arg;
	return json_true();
}

static void
test_init_dir(void)
{
	char dir[128], err[512], path[192];
	struct stat st;

	fresh_dir(dir, sizeof(dir), "init/a/b");
	CU_ASSERT_EQUAL_FATAL(state_init(dir, log_cb, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(stat(dir, &st), 0);
	CU_ASSERT_TRUE(S_ISDIR(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	CU_ASSERT_STRING_EQUAL(state_path(), path);
	/* A leftover temporary file is removed at init, never used. */
	snprintf(path, sizeof(path), "%s/.state.json.tmp", dir);
	spit(path, "{\"version\":1}");
	CU_ASSERT_EQUAL(state_init(dir, log_cb, err, sizeof(err)), 0);
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
	/* A file where the directory should be. */
	snprintf(path, sizeof(path), "%s/file", dir);
	spit(path, "x");
	CU_ASSERT_EQUAL(state_init(path, log_cb, err, sizeof(err)), -ENOTDIR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--state-dir"));
	state_fini();
}

static void
test_round_trip(void)
{
	struct toy a = { .value = 42, .text = "hello \"quoted\" \xc3\xa9" }, b = { 0 };
	char dir[128], err[512];
	char *text;

	fresh_dir(dir, sizeof(dir), "roundtrip");
	CU_ASSERT_EQUAL_FATAL(state_init(dir, log_cb, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(state_register("toy", 5, toy_dump, toy_restore, &a), 0);
	CU_ASSERT_EQUAL(state_register("toy", 5, toy_dump, toy_restore, &a), -EEXIST);
	/* No file yet: a fresh start, nothing restored, not an error. */
	n_errs = 0;
	CU_ASSERT_EQUAL(state_restore(), 0);
	CU_ASSERT_EQUAL(a.restored, 0);
	CU_ASSERT_EQUAL(n_errs, 0);
	CU_ASSERT_EQUAL(state_save(), 0);
	text = slurp(state_path());
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"version\": 1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"value\": 42"));
	free(text);
	state_fini();

	/* A new daemon: the section comes back as it was. */
	CU_ASSERT_EQUAL_FATAL(state_init(dir, log_cb, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(state_register("toy", 5, toy_dump, toy_restore, &b), 0);
	CU_ASSERT_EQUAL(state_restore(), 1);
	CU_ASSERT_EQUAL(b.restored, 1);
	CU_ASSERT_EQUAL(b.value, 42);
	CU_ASSERT_STRING_EQUAL(b.text, a.text);
	CU_ASSERT_STRING_EQUAL(state_last_error(), "");
	state_fini();
}

static void
test_order(void)
{
	char dir[128], err[512];

	fresh_dir(dir, sizeof(dir), "order");
	CU_ASSERT_EQUAL_FATAL(state_init(dir, log_cb, err, sizeof(err)), 0);
	/* Registered out of order, restored networks, ports, containers. */
	state_register("containers", STATE_ORDER_CONTAINERS, order_dump, order_restore, "C");
	state_register("networks", STATE_ORDER_NETWORKS, order_dump, order_restore, "N");
	state_register("ports", STATE_ORDER_PORTS, order_dump, order_restore, "P");
	CU_ASSERT_EQUAL(state_save(), 0);
	order_seen[0] = '\0';
	CU_ASSERT_EQUAL(state_restore(), 1);
	CU_ASSERT_STRING_EQUAL(order_seen, "NPC");
	state_fini();
}

/* Restore with a file that is not a usable document: moved aside, fresh start. */
static void
corrupt_case(const char *name, const char *content)
{
	struct toy t = { .value = 7 };
	char dir[128], err[512], path[192], *text;

	fresh_dir(dir, sizeof(dir), name);
	CU_ASSERT_EQUAL_FATAL(state_init(dir, log_cb, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(state_register("toy", 5, toy_dump, toy_restore, &t), 0);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	spit(path, content);
	n_errs = 0;
	CU_ASSERT_EQUAL(state_restore(), 0);
	CU_ASSERT_EQUAL(t.restored, 0);
	CU_ASSERT_EQUAL(n_errs, 1);
	/* The ERR line names the file and where it went. */
	CU_ASSERT_PTR_NOT_NULL(strstr(last_err, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(last_err, "state.json.corrupt-"));
	CU_ASSERT_EQUAL(count_files(dir, "state.json.corrupt-"), 1);
	/* The bad bytes are kept as they were, never overwritten. */
	snprintf(path, sizeof(path), "%s/%s", dir, strrchr(strstr(last_err, "moved to "), '/') + 1);
	*strchr(path, ',') = '\0';
	text = slurp(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, content);
	free(text);
	/* A fresh start: the next save writes a good file. */
	CU_ASSERT_EQUAL(state_save(), 0);
	text = slurp(state_path());
	CU_ASSERT_PTR_NOT_NULL(text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"value\": 7"));
	free(text);
	state_fini();
}

static void
test_corrupt(void)
{
	/* Truncated (as a torn write would leave it, were it not for the rename). */
	corrupt_case("truncated", "{\"version\": 1, \"toy\": {\"value\": 4");
	corrupt_case("empty", "");
	corrupt_case("garbage", "\x01\x02 not json at all");
	corrupt_case("array", "[1, 2, 3]");
	corrupt_case("noversion", "{\"toy\": {\"value\": 3}}");
	corrupt_case("newer", "{\"version\": 99, \"toy\": {\"value\": 3}}");
}

static void
test_failed_write(void)
{
	struct toy t = { .value = 1, .text = "good" };
	char dir[128], err[512], *before, *after;
	struct rlimit old, lim;

	fresh_dir(dir, sizeof(dir), "failwrite");
	CU_ASSERT_EQUAL_FATAL(state_init(dir, log_cb, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(state_register("toy", 5, toy_dump, toy_restore, &t), 0);
	CU_ASSERT_EQUAL_FATAL(state_save(), 0);
	before = slurp(state_path());
	CU_ASSERT_PTR_NOT_NULL_FATAL(before);

	/* The next document is larger than files may now grow: write() fails. */
	memset(t.text, 'x', sizeof(t.text) - 1);
	t.text[sizeof(t.text) - 1] = '\0';
	t.value = 2;
	signal(SIGXFSZ, SIG_IGN);
	CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = strlen(before) + 8;
	CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &lim), 0);
	n_errs = 0;
	CU_ASSERT_EQUAL(state_save(), -EFBIG);
	CU_ASSERT_EQUAL(setrlimit(RLIMIT_FSIZE, &old), 0);
	CU_ASSERT_EQUAL(n_errs, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(state_last_error(), "cannot write"));

	/* The good file is untouched and no temporary file is left. */
	after = slurp(state_path());
	CU_ASSERT_PTR_NOT_NULL_FATAL(after);
	CU_ASSERT_STRING_EQUAL(after, before);
	CU_ASSERT_EQUAL(count_files(dir, ".state.json.tmp"), 0);
	free(after);

	/* And the next save that can succeed does, clearing the error. */
	CU_ASSERT_EQUAL(state_save(), 0);
	CU_ASSERT_STRING_EQUAL(state_last_error(), "");
	after = slurp(state_path());
	CU_ASSERT_PTR_NOT_NULL(strstr(after, "\"value\": 2"));
	free(after);
	free(before);
	state_fini();
}

/* A section whose dump fails refuses the save: the old file stays. */
static json_t *
failing_dump(void *arg)
{
	(void)arg;
	return NULL;
}

static void
test_failed_dump(void)
{
	char dir[128], err[512];
	struct toy t = { .value = 5 };

	fresh_dir(dir, sizeof(dir), "faildump");
	CU_ASSERT_EQUAL_FATAL(state_init(dir, log_cb, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(state_register("toy", 5, toy_dump, toy_restore, &t), 0);
	CU_ASSERT_EQUAL(state_save(), 0);
	CU_ASSERT_EQUAL(state_register("bad", 6, failing_dump, toy_restore, &t), 0);
	CU_ASSERT_EQUAL(state_save(), -ENOMEM);
	CU_ASSERT_PTR_NOT_NULL(strstr(state_last_error(), "bad"));
	CU_ASSERT_EQUAL(access(state_path(), R_OK), 0);
	state_fini();
}

/* Ports: remembered specs round-trip through the create callback. */
static char ports_created[256];

static int
port_create_cb(void *arg, const struct cfg_port *cp, char *err, size_t errlen)
{
	(void)arg;
	if (strcmp(cp->name, "broken") == 0) {
		snprintf(err, errlen, "interface gone");
		return -ENODEV;
	}
	snprintf(ports_created + strlen(ports_created),
		 sizeof(ports_created) - strlen(ports_created), "%s:%s:%s:%s;", cp->name,
		 cp->type, cp->iface, cp->network);
	return 0;
}

static void
test_ports(void)
{
	struct cfg_port a = { .name = "p1", .type = "null", .devargs = "no-rx=1" };
	struct cfg_port b = { .name = "p2", .type = "afpacket", .iface = "veth9",
			      .network = "front" };
	struct cfg_port c = { .name = "broken", .type = "afpacket", .iface = "nope" };
	char dir[128], err[512], *text;

	fresh_dir(dir, sizeof(dir), "ports");
	CU_ASSERT_EQUAL_FATAL(state_init(dir, log_cb, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(state_ports_register(port_create_cb, NULL), 0);
	CU_ASSERT_EQUAL(state_port_remember(&a), 0);
	CU_ASSERT_EQUAL(state_port_remember(&b), 0);
	CU_ASSERT_EQUAL(state_port_remember(&c), 0);
	CU_ASSERT_EQUAL(state_port_remember(&a), 0); /* again: still once */
	state_port_forget("nosuch");
	CU_ASSERT_EQUAL(state_save(), 0);
	state_fini();

	CU_ASSERT_EQUAL_FATAL(state_init(dir, log_cb, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(state_ports_register(port_create_cb, NULL), 0);
	ports_created[0] = '\0';
	CU_ASSERT_EQUAL(state_restore(), 1);
	CU_ASSERT_STRING_EQUAL(ports_created, "p2:afpacket:veth9:front;p1:null::;");
	/* The port that could not be recreated is gone from the new file. */
	text = slurp(state_path());
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NULL(strstr(text, "broken"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "no-rx=1"));
	free(text);
	state_port_forget("p2");
	CU_ASSERT_EQUAL(state_save(), 0);
	text = slurp(state_path());
	CU_ASSERT_PTR_NULL(strstr(text, "veth9"));
	free(text);
	state_fini();
}

/* ---- networks: the table's section ---- */

static int attached, detached;

static int
hook_attach(void *arg, struct net *n, char *err, size_t errlen)
{
	(void)arg;
	if (strcmp(n->name, "refused") == 0) {
		snprintf(err, errlen, "no room in the data plane");
		return -ENOSPC;
	}
	attached++;
	return 0;
}

static void
hook_detach(void *arg, struct net *n)
{
	(void)arg;
	(void)n;
	detached++;
}

static void
test_networks(void)
{
	static struct net_table t;
	static struct cfg cfg;
	struct net_params p = { .domain = NET_DOMAIN_NONE };
	char dir[128], err[512], id_a[NET_FULL_ID_LEN + 1], id_b[NET_FULL_ID_LEN + 1];
	struct net *a, *b, *c;
	uint16_t dom_a, dom_b;
	uint64_t created_a;

	cfg_defaults(&cfg);
	fresh_dir(dir, sizeof(dir), "networks");
	CU_ASSERT_EQUAL_FATAL(net_table_init(&t, &cfg, err, sizeof(err)), 0);
	t.route_file = "/dev/null"; /* the host's routes do not steer this test */
	t.hooks.attach = hook_attach;
	t.hooks.detach = hook_detach;
	CU_ASSERT_EQUAL_FATAL(state_init(dir, log_cb, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(net_state_register(&t), 0);
	CU_ASSERT_EQUAL(net_attach_all(&t, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(attached, 1); /* bridge */

	p.name = "front";
	p.subnet = 0x0A1E0000u; /* 10.30.0.0/24 */
	p.prefix_len = 24;
	p.ip_range = 0x0A1E0080u;
	p.ip_range_len = 25;
	p.mtu = 1400;
	p.internal = true;
	a = net_create(&t, &p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	p = (struct net_params){ .name = "back", .domain = NET_DOMAIN_NONE };
	b = net_create(&t, &p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(b->subnet, 0xAC120000u); /* 172.18.0.0/16: Docker's next pool */
	CU_ASSERT_EQUAL(b->gateway, 0xAC120001u);
	p = (struct net_params){ .name = "refused", .domain = NET_DOMAIN_NONE };
	CU_ASSERT_PTR_NULL(net_create(&t, &p, err, sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "no room in the data plane");
	CU_ASSERT_PTR_NULL(net_find(&t, "refused"));
	snprintf(id_a, sizeof(id_a), "%s", a->id);
	snprintf(id_b, sizeof(id_b), "%s", b->id);
	dom_a = a->domain;
	dom_b = b->domain;
	created_a = a->created_ns;
	CU_ASSERT_EQUAL(strlen(id_a), NET_FULL_ID_LEN);
	CU_ASSERT_STRING_NOT_EQUAL(id_a, id_b);
	CU_ASSERT_EQUAL(state_save(), 0);
	state_fini();
	net_table_fini(&t);

	/* Restart: the defaults, then the saved networks with their ids and domains. */
	attached = 0;
	CU_ASSERT_EQUAL_FATAL(net_table_init(&t, &cfg, err, sizeof(err)), 0);
	t.route_file = "/dev/null";
	t.hooks.attach = hook_attach;
	t.hooks.detach = hook_detach;
	CU_ASSERT_EQUAL(net_attach_all(&t, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(state_init(dir, log_cb, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(net_state_register(&t), 0);
	CU_ASSERT_EQUAL(state_restore(), 1);
	CU_ASSERT_EQUAL(attached, 3);
	a = net_find(&t, "front");
	b = net_find(&t, "back");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_STRING_EQUAL(a->id, id_a);
	CU_ASSERT_STRING_EQUAL(b->id, id_b);
	CU_ASSERT_EQUAL(a->domain, dom_a);
	CU_ASSERT_EQUAL(b->domain, dom_b);
	CU_ASSERT_EQUAL(a->subnet, 0x0A1E0000u);
	CU_ASSERT_EQUAL(a->prefix_len, 24);
	CU_ASSERT_EQUAL(a->gateway, 0x0A1E0001u);
	CU_ASSERT_EQUAL(a->ip_range, 0x0A1E0080u);
	CU_ASSERT_EQUAL(a->ip_range_len, 25);
	CU_ASSERT_EQUAL(a->mtu, 1400);
	CU_ASSERT_TRUE(a->internal);
	CU_ASSERT_TRUE(a->attached);
	CU_ASSERT_EQUAL(a->created_ns, created_a);
	CU_ASSERT_PTR_EQUAL(net_find(&t, id_a), a);
	CU_ASSERT_PTR_EQUAL(net_find(&t, "bridge"), net_by_domain(&t, 0));

	/* Endpoints block rm; rm detaches; the file no longer has the network. */
	CU_ASSERT_EQUAL(net_endpoint_add(&t, b, "c1", "one", 0xAC120002u,
					 (const uint8_t *)"\x02\x42\xac\x12\x00\x02", err,
					 sizeof(err)), 0);
	CU_ASSERT_EQUAL(net_del(&t, b, err, sizeof(err)), -EBUSY);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "error while removing network: network back id "));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "has active endpoints"));
	CU_ASSERT_EQUAL(net_endpoint_del(&t, b, "c1"), 0);
	CU_ASSERT_EQUAL(net_del(&t, b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(detached, 1);
	CU_ASSERT_EQUAL(state_save(), 0);
	state_fini();
	net_table_fini(&t);
	CU_ASSERT_EQUAL_FATAL(net_table_init(&t, &cfg, err, sizeof(err)), 0);
	t.route_file = "/dev/null";
	CU_ASSERT_EQUAL_FATAL(state_init(dir, log_cb, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(net_state_register(&t), 0);
	CU_ASSERT_EQUAL(state_restore(), 1);
	CU_ASSERT_PTR_NOT_NULL(net_find(&t, "front"));
	CU_ASSERT_PTR_NULL(net_find(&t, "back"));
	/* A saved network that clashes with one now in the table is skipped. */
	c = net_find(&t, "front");
	CU_ASSERT_EQUAL(net_del(&t, c, err, sizeof(err)), 0);
	p = (struct net_params){ .name = "clash", .subnet = 0x0A1E0000u, .prefix_len = 16,
				 .domain = NET_DOMAIN_NONE };
	CU_ASSERT_PTR_NOT_NULL(net_create(&t, &p, err, sizeof(err)));
	state_fini();
	CU_ASSERT_EQUAL_FATAL(state_init(dir, log_cb, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(net_state_register(&t), 0);
	CU_ASSERT_EQUAL(state_restore(), 1);
	CU_ASSERT_PTR_NULL(net_find(&t, "front"));
	CU_ASSERT_PTR_NOT_NULL(net_find(&t, "clash"));
	state_fini();
	net_table_fini(&t);
}

/* Docker's default pools, in order, skipping networks and the host's routes. */
static void
test_pools(void)
{
	static struct net_table t;
	static struct cfg cfg;
	char err[512], routes[192], name[16];
	struct net_params p = { .domain = NET_DOMAIN_NONE };
	struct net *n;
	FILE *f;

	/* The host routes 172.19.0.0/16 through eth9 and 172.20.0.0/16 through our
	 * own uplink (which never blocks a pool); its default route blocks nothing. */
	snprintf(routes, sizeof(routes), "%s/route", tmpdir);
	f = fopen(routes, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\t"
		"MTU\tWindow\tIRTT\n"
		"eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
		"eth9\t000013AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
		"up0\t000014AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n");
	fclose(f);
	cfg_defaults(&cfg);
	CU_ASSERT_EQUAL_FATAL(net_table_init(&t, &cfg, err, sizeof(err)), 0);
	t.route_file = routes;
	snprintf(t.own_iface, sizeof(t.own_iface), "up0");
	p.name = "a";
	n = net_create(&t, &p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_EQUAL(n->subnet, 0xAC120000u); /* 172.18 */
	p.name = "b";
	n = net_create(&t, &p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_EQUAL(n->subnet, 0xAC140000u); /* 172.19 is the host's: 172.20 */
	CU_ASSERT_EQUAL(n->gateway, 0xAC140001u);
	CU_ASSERT_EQUAL(n->prefix_len, 16);
	for (unsigned int i = 21; i <= 31; i++) {
		snprintf(name, sizeof(name), "n%u", i);
		p.name = name;
		n = net_create(&t, &p, err, sizeof(err));
		CU_ASSERT_PTR_NOT_NULL_FATAL(n);
		CU_ASSERT_EQUAL(n->subnet, 0xAC000000u | (i << 16));
	}
	/* 172.17-31 used (or the host's): 192.168.0.0/20, then 192.168.16.0/20. */
	p.name = "c";
	n = net_create(&t, &p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_EQUAL(n->subnet, 0xC0A80000u);
	CU_ASSERT_EQUAL(n->prefix_len, 20);
	CU_ASSERT_EQUAL(n->gateway, 0xC0A80001u);
	p.name = "d";
	n = net_create(&t, &p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_EQUAL(n->subnet, 0xC0A81000u);
	/* Domains: 1, 2, ... in creation order; never 0 (bridge) nor the uplink's. */
	CU_ASSERT_EQUAL(net_find(&t, "a")->domain, 1);
	CU_ASSERT_EQUAL(net_find(&t, "b")->domain, 2);
	CU_ASSERT_TRUE(t.domain_used[NET_DOMAIN_UPLINK]);
	/* A freed domain is reused. */
	CU_ASSERT_EQUAL(net_del(&t, net_find(&t, "a"), err, sizeof(err)), 0);
	p.name = "e";
	n = net_create(&t, &p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_EQUAL(n->domain, 1);
	CU_ASSERT_EQUAL(n->subnet, 0xAC120000u); /* and 172.18 with it */
	net_table_fini(&t);
}

/* Endpoints: the neighbour hook runs for addressed ones on attached networks. */
static int ep_adds, ep_dels;

static int
hook_ep_add(void *arg, struct net *n, const struct net_endpoint *ep, char *err,
	    size_t errlen)
{
	(void)arg;
	(void)n;
	if (ep->ip == 0xAC110063u) {
		snprintf(err, errlen, "neighbour table full");
		return -ENOSPC;
	}
	ep_adds++;
	return 0;
}

static void
hook_ep_del(void *arg, struct net *n, const struct net_endpoint *ep)
{
	(void)arg;
	(void)n;
	(void)ep;
	ep_dels++;
}

static void
test_endpoints(void)
{
	static struct net_table t;
	static struct cfg cfg;
	const uint8_t mac[6] = { 0x02, 0x42, 0xac, 0x11, 0x00, 0x02 };
	char err[512];
	struct net *br, *host;
	json_t *o, *c;

	cfg_defaults(&cfg);
	CU_ASSERT_EQUAL_FATAL(net_table_init(&t, &cfg, err, sizeof(err)), 0);
	t.hooks.attach = hook_attach;
	t.hooks.ep_add = hook_ep_add;
	t.hooks.ep_del = hook_ep_del;
	CU_ASSERT_EQUAL(net_attach_all(&t, err, sizeof(err)), 0);
	br = net_find(&t, "bridge");
	host = net_find(&t, "host");
	CU_ASSERT_EQUAL(net_endpoint_add(&t, br, "id1", "one", 0xAC110002u, mac, err,
					 sizeof(err)), 0);
	CU_ASSERT_EQUAL(ep_adds, 1);
	CU_ASSERT_EQUAL(net_endpoint_add(&t, br, "id1", "one", 0xAC110005u, mac, err,
					 sizeof(err)), -EEXIST);
	CU_ASSERT_EQUAL(net_endpoint_add(&t, br, "id2", "two", 0xAC110002u, mac, err,
					 sizeof(err)), -EADDRINUSE);
	/* A failing hook leaves no endpoint behind. */
	CU_ASSERT_EQUAL(net_endpoint_add(&t, br, "id3", "three", 0xAC110063u, mac, err,
					 sizeof(err)), -ENOSPC);
	CU_ASSERT_PTR_NULL(net_endpoint_find(br, "id3"));
	/* host mode: no address, no neighbour. */
	CU_ASSERT_EQUAL(net_endpoint_add(&t, host, "id4", "four", 0, NULL, err, sizeof(err)),
			0);
	CU_ASSERT_EQUAL(ep_adds, 1);
	o = net_inspect_json(&t, br);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	c = json_object_get(json_object_get(o, "Containers"), "id1");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c, "Name")), "one");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c, "IPv4Address")),
			       "172.17.0.2/16");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c, "MacAddress")),
			       "02:42:ac:11:00:02");
	CU_ASSERT_EQUAL(strlen(json_string_value(json_object_get(c, "EndpointID"))), 64);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "Driver")), "bridge");
	c = json_array_get(json_object_get(json_object_get(o, "IPAM"), "Config"), 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c, "Gateway")), "172.17.0.1");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c, "Subnet")), "172.17.0.0/16");
	json_decref(o);
	CU_ASSERT_EQUAL(net_endpoint_del(&t, br, "id1"), 0);
	CU_ASSERT_EQUAL(ep_dels, 1);
	CU_ASSERT_EQUAL(net_endpoint_del(&t, br, "id1"), -ENOENT);
	CU_ASSERT_EQUAL(net_endpoint_del(&t, host, "id4"), 0);
	CU_ASSERT_EQUAL(ep_dels, 1);
	net_table_fini(&t);
}

int
main(void)
{
	CU_pSuite s;
	unsigned int failures;
	char cmd[128];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dpnet-test-state.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("state", NULL, NULL);
	CU_add_test(s, "state directory", test_init_dir);
	CU_add_test(s, "round trip", test_round_trip);
	CU_add_test(s, "restore order", test_order);
	CU_add_test(s, "corrupt and truncated files", test_corrupt);
	CU_add_test(s, "failed write keeps the old file", test_failed_write);
	CU_add_test(s, "failed dump", test_failed_dump);
	CU_add_test(s, "ports section", test_ports);
	CU_add_test(s, "networks section", test_networks);
	CU_add_test(s, "automatic subnets from Docker's pools", test_pools);
	CU_add_test(s, "endpoints and their neighbour hook", test_endpoints);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return failures == 0 ? 0 : 1;
}
