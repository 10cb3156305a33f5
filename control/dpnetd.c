/*
 * dpnetd.c - the daemon: options, EAL, configuration, ports, workers, serve.
 *
 * Start-up order: parse our options, load and validate the whole configuration,
 * check what can be checked without DPDK (interfaces, a daemon already on the
 * socket, hugepages), build the EAL arguments, initialise EAL, create the data
 * plane, create the configured ports, start the workers, bind the socket. Any
 * failure before serving undoes what was done and exits 1 with one
 * "dpnetd: error: ..." line.
 *
 * The main lcore is the control thread: one epoll loop over the signalfd
 * (SIGINT, SIGTERM) and the server's epoll set, with a 10 ms timeout so MAC
 * learn requests are drained promptly, conntrack expires in 10 ms slices
 * (nat.c) and aging runs every second, while an idle daemon wakes only 100
 * times a second.
 */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <grp.h>
#include <sched.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "dataplane/dp.h"
#include "dataplane/fdb.h"
#include "drivers/port.h"
#include "drivers/vtap.h"
#include "cluster.h"
#include "config.h"
#include "container.h"
#include "ctl.h"
#include "network.h"
#include "proto.h"
#include "server.h"
#include "state.h"
#include "util.h"
#include "neigh.h"
#include "uplink.h"
#include "vxlan.h"

RTE_LOG_REGISTER(ctl_logtype, dpnet.control, NOTICE);

_Static_assert(CFG_MAX_WORKERS == DP_MAX_WORKERS, "worker limits differ");
_Static_assert(CFG_MAX_PORTS <= RTE_MAX_ETHPORTS, "more config ports than ethdevs");

#define DPNETD_TICK_MS 10            /* epoll timeout: learn-queue drain period */
#define DPNETD_AGE_MS 1000           /* fdb aging period */
#define DPNETD_MAX_EAL_ARGS 128      /* argv entries handed to rte_eal_init */
#define DPNETD_DEFAULT_STATE "/var/lib/dpnet"

/* The daemon's own options. */
struct dpnetd_opts {
	const char *config;          /* --config FILE, NULL for the built-in one */
	const char *socket;          /* --socket PATH (or DPNET_SOCKET) */
	const char *state_dir;       /* --state-dir DIR */
	const char *group;           /* --group NAME, NULL: control.group of the config */
	int log_level;               /* --log-level as an RTE_LOG_* level, 0 = default */
	char **eal_argv;             /* arguments after "--" */
	int eal_argc;                /* their count, 0 = build our own */
};

/* EAL argument vector being built. */
struct dpnetd_eal {
	char *argv[DPNETD_MAX_EAL_ARGS + 1]; /* strdup'ed arguments, NULL-terminated */
	int argc;                           /* entries used */
};

static void __attribute__((format(printf, 1, 2), noreturn))
dpnetd_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dpnetd: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
dpnetd_usage(FILE *f)
{
	fprintf(f,
		"usage: dpnetd [--config FILE] [--socket PATH] [--state-dir DIR] "
		"[--group NAME] [--log-level LEVEL] [-- EAL-ARGS...]\n"
		"\n"
		"  --config FILE      YAML configuration (default: built-in TAP mode)\n"
		"  --socket PATH      control socket (default %s, or $%s)\n"
		"  --state-dir DIR    persistent state (default %s)\n"
		"  --group NAME       members of group NAME may use the control socket too\n"
		"                     (default: control.group of the config, else root's)\n"
		"  --log-level LEVEL  emerg, alert, crit, error, warning, notice, info, debug "
		"(or 1-8)\n"
		"  -- EAL-ARGS        DPDK EAL arguments, replacing the ones dpnetd builds\n"
		"  -h, --help         this text;  -V, --version  the version\n",
		PROTO_DEFAULT_SOCKET, PROTO_SOCKET_ENV, DPNETD_DEFAULT_STATE);
}

static int
dpnetd_parse_level(const char *s)
{
	static const char *const names[] = {
		"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
	};
	char *end;
	long v;

	for (int i = 0; i < 8; i++)
		if (strcasecmp(s, names[i]) == 0)
			return i + 1;
	if (strcasecmp(s, "err") == 0)
		return RTE_LOG_ERR;
	if (strcasecmp(s, "warn") == 0)
		return RTE_LOG_WARNING;
	if (strcasecmp(s, "emergency") == 0)
		return RTE_LOG_EMERG;
	if (strcasecmp(s, "critical") == 0)
		return RTE_LOG_CRIT;
	v = strtol(s, &end, 10);
	if (*s != '\0' && *end == '\0' && v >= 1 && v <= 8)
		return (int)v;
	return -1;
}

static void
dpnetd_parse_opts(int argc, char **argv, struct dpnetd_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "group", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env = getenv(PROTO_SOCKET_ENV);
	int ch;

	memset(o, 0, sizeof(*o));
	o->socket = env != NULL && env[0] != '\0' ? env : PROTO_DEFAULT_SOCKET;
	o->state_dir = DPNETD_DEFAULT_STATE;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:c:s:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 's':
			o->socket = optarg;
			break;
		case 'd':
			o->state_dir = optarg;
			break;
		case 'g':
			o->group = optarg;
			break;
		case 'l':
			o->log_level = dpnetd_parse_level(optarg);
			if (o->log_level < 0) {
				fprintf(stderr, "dpnetd: error: unknown log level \"%s\": use "
					"emerg, alert, crit, error, warning, notice, info, debug "
					"or 1-8\n", optarg);
				exit(2);
			}
			break;
		case 'h':
			dpnetd_usage(stdout);
			exit(0);
		case 'V':
			printf("dpnetd %s (protocol %d)\n", DPNET_VERSION, PROTO_VERSION);
			exit(0);
		case ':':
			fprintf(stderr, "dpnetd: error: option \"%s\" needs a value: see "
				"'dpnetd --help'\n", argv[optind - 1]);
			exit(2);
		default:
			fprintf(stderr, "dpnetd: error: unknown option \"%s\": see "
				"'dpnetd --help'\n", argv[optind - 1]);
			exit(2);
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0) {
		fprintf(stderr, "dpnetd: error: unexpected argument \"%s\": EAL arguments go "
			"after \"--\"; see 'dpnetd --help'\n", argv[optind]);
		exit(2);
	}
	o->eal_argv = argv + optind;
	o->eal_argc = argc - optind;
}

static void
dpnetd_eal_add(struct dpnetd_eal *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (e->argc == DPNETD_MAX_EAL_ARGS)
		dpnetd_die("too many EAL arguments (more than %d)", DPNETD_MAX_EAL_ARGS);
	/* Any length: a --vdev with long devargs must never be cut short silently. */
	va_start(ap, fmt);
	n = vasprintf(&e->argv[e->argc], fmt, ap);
	va_end(ap);
	if (n < 0)
		dpnetd_die("out of memory");
	e->argc++;
	e->argv[e->argc] = NULL;
}

/* MB of free hugepages of every size, and whether hugetlbfs is mounted. */
static uint64_t
dpnetd_free_huge_mb(bool *mounted)
{
	uint64_t total_kb = 0;
	glob_t g;
	FILE *f;
	char line[512];

	*mounted = false;
	f = fopen("/proc/mounts", "r");
	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			char dev[128], dir[256], type[64];

			if (sscanf(line, "%127s %255s %63s", dev, dir, type) == 3 &&
			    strcmp(type, "hugetlbfs") == 0)
				*mounted = true;
		}
		fclose(f);
	}
	if (glob("/sys/kernel/mm/hugepages/hugepages-*kB/free_hugepages", 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		unsigned long long pages = 0, kb = 0;
		const char *p = strstr(g.gl_pathv[i], "hugepages-");

		f = fopen(g.gl_pathv[i], "r");
		if (f == NULL)
			continue;
		if (fscanf(f, "%llu", &pages) == 1 && p != NULL &&
		    sscanf(p, "hugepages-%llukB", &kb) == 1)
			total_kb += pages * kb;
		fclose(f);
	}
	globfree(&g);
	return total_kb / 1024;
}

/* CPUs we may run on, ascending. */
static unsigned int
dpnetd_cpus(unsigned int *cpus, unsigned int max)
{
	cpu_set_t set;
	unsigned int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0) {
		cpus[0] = 0;
		return 1;
	}
	for (unsigned int c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	if (n == 0)
		cpus[n++] = 0;
	return n;
}

/* The EAL arguments: the user's after "--", or ours from the configuration. */
static void
dpnetd_build_eal(const struct dpnetd_opts *o, const struct cfg *c, struct dpnetd_eal *e,
		 bool *want_huge)
{
	unsigned int cpus[RTE_MAX_LCORE], ncpu, need = c->workers + 1u;
	char list[1024];
	size_t off = 0;
	bool mounted, pci = false;
	uint64_t free_mb;

	dpnetd_eal_add(e, "dpnetd");
	if (o->eal_argc > 0) {
		for (int i = 0; i < o->eal_argc; i++)
			dpnetd_eal_add(e, "%s", o->eal_argv[i]);
		if (o->log_level > 0)
			dpnetd_eal_add(e, "--log-level=%d", o->log_level);
		*want_huge = true; /* whatever EAL makes of them; checked after init */
		return;
	}
	free_mb = dpnetd_free_huge_mb(&mounted);
	switch (c->hugepages) {
	case CFG_HUGEPAGES_NO:
		*want_huge = false;
		break;
	case CFG_HUGEPAGES_YES:
		if (!mounted || free_mb < c->memory_mb)
			dpnetd_die("%s: eal.hugepages is yes, but %s: reserve them (e.g. echo %u > "
				   "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) and "
				   "mount hugetlbfs, or set eal.hugepages: auto",
				   c->path[0] ? c->path : "config",
				   !mounted ? "no hugetlbfs is mounted" :
				   "fewer free hugepages than eal.memory_mb",
				   c->memory_mb / 2);
		*want_huge = true;
		break;
	default:
		/* Enough free hugepages for all of -m, and a mount to map them from. */
		*want_huge = mounted && free_mb >= c->memory_mb;
		break;
	}
	dpnetd_eal_add(e, "--file-prefix");
	dpnetd_eal_add(e, "%s", c->file_prefix);
	dpnetd_eal_add(e, "-m");
	dpnetd_eal_add(e, "%u", c->memory_mb);
	if (!*want_huge)
		dpnetd_eal_add(e, "--no-huge");
	/* A PCI port needs the PCI bus; otherwise leave the host's devices alone. */
	for (unsigned int i = 0; i < c->n_ports; i++)
		if (strcmp(c->ports[i].type, "dpdk") == 0)
			pci = true;
	for (unsigned int i = 0; i < c->n_eal_args; i++)
		if (strcmp(c->eal_args[i], "-a") == 0 || strcmp(c->eal_args[i], "-b") == 0 ||
		    strncmp(c->eal_args[i], "--allow", 7) == 0 ||
		    strncmp(c->eal_args[i], "--block", 7) == 0)
			pci = true;
	if (!pci)
		dpnetd_eal_add(e, "--no-pci");
	ncpu = dpnetd_cpus(cpus, RTE_MAX_LCORE);
	if (ncpu >= need) {
		/* One CPU per lcore: lcore ids are the CPU ids; the first is main. */
		for (unsigned int i = 0; i < need; i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%u",
						i ? "," : "", cpus[i]);
		dpnetd_eal_add(e, "-l");
	} else {
		/* Fewer CPUs than lcores: workers share the CPUs after the first. */
		for (unsigned int i = 0; i < need; i++) {
			unsigned int cpu = i == 0 || ncpu == 1 ? cpus[0] :
				cpus[1 + (i - 1) % (ncpu - 1)];

			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%u@%u",
						i ? "," : "", i, cpu);
		}
		dpnetd_eal_add(e, "--lcores");
	}
	dpnetd_eal_add(e, "%s", list);
	if (o->log_level > 0)
		dpnetd_eal_add(e, "--log-level=%d", o->log_level);
	for (unsigned int i = 0; i < c->n_eal_args; i++)
		dpnetd_eal_add(e, "%s", c->eal_args[i]);
}

/* The --file-prefix among the user's EAL arguments, "rte" (EAL's default) if none. */
static const char *
dpnetd_user_prefix(const struct dpnetd_opts *o)
{
	for (int i = 0; i < o->eal_argc; i++) {
		if (strcmp(o->eal_argv[i], "--file-prefix") == 0 && i + 1 < o->eal_argc)
			return o->eal_argv[i + 1];
		if (strncmp(o->eal_argv[i], "--file-prefix=", 14) == 0)
			return o->eal_argv[i] + 14;
	}
	return "rte";
}

/* Interfaces the configured ports need must exist (afpacket) or not (tap). */
static void
dpnetd_check_ifaces(const struct cfg *c)
{
	const char *file = c->path[0] != '\0' ? c->path : "built-in config";

	for (unsigned int i = 0; i < c->n_ports; i++) {
		const struct cfg_port *p = &c->ports[i];
		const char *ifn = p->iface[0] != '\0' ? p->iface : p->name;

		if (strcmp(p->type, "afpacket") == 0 && if_nametoindex(p->iface) == 0)
			dpnetd_die("%s:%d: ports[%u].iface: interface \"%s\" not found: create it "
				   "first or check the name", file, p->line, i, p->iface);
		if (cfg_type_is_tap(p->type) && if_nametoindex(ifn) != 0) {
			if (c->path[0] == '\0')
				dpnetd_die("interface \"%s\" already exists: is another dpnetd "
					   "running? Stop it, or start this one with --config "
					   "naming other ports", ifn);
			dpnetd_die("%s:%d: ports[%u].iface: interface \"%s\" already exists: a %s "
				   "port creates its interface; pick another name or use type "
				   "afpacket", file, p->line, i, ifn, p->type);
		}
	}
}

static const struct srv_cmd dpnetd_cmds[] = {
	{ "status", ctl_status },
	{ "stats", ctl_stats },
	{ "port.add", ctl_port_add },
	{ "port.del", ctl_port_del },
	{ "port.ls", ctl_port_ls },
	{ "port.stats", ctl_port_stats },
	{ "mac.ls", ctl_mac_ls },
	{ "mac.add", ctl_mac_add },
	{ "mac.rm", ctl_mac_rm },
	{ "network.ls", ctl_network_ls },
	{ "network.create", ctl_network_create },
	{ "network.inspect", ctl_network_inspect },
	{ "network.rm", ctl_network_rm },
	{ "container.run", ctl_ctr_run },
	{ "container.connect", ctl_ctr_connect },
	{ "container.disconnect", ctl_ctr_disconnect },
	{ "container.ps", ctl_ctr_ps },
	{ "container.port", ctl_ctr_port },
	{ "container.rm", ctl_ctr_rm },
	{ "nat.ls", ctl_nat_ls },
	{ "conntrack.ls", ctl_conntrack_ls },
	{ "conntrack.stats", ctl_conntrack_stats },
	{ "conntrack.flush", ctl_conntrack_flush },
	{ "route.add", ctl_route_add },
	{ "route.rm", ctl_route_rm },
	{ "route.ls", ctl_route_ls },
	{ "neigh.ls", ctl_neigh_ls },
	{ "neigh.add", ctl_neigh_add },
	{ "neigh.rm", ctl_neigh_rm },
	{ "vxlan.peer.add", ctl_vxlan_peer_add },
	{ "vxlan.peer.rm", ctl_vxlan_peer_rm },
	{ "vxlan.peer.ls", ctl_vxlan_peer_ls },
	{ "vxlan.fdb.ls", ctl_vxlan_fdb_ls },
	{ "cluster.status", ctl_cluster_status },
	{ "cluster.ls", ctl_cluster_ls },
	{ NULL, NULL },
};

/* state.c's messages, in our log with their level word. */
static void
dpnetd_state_log(enum state_log_level level, const char *msg)
{
	switch (level) {
	case STATE_LOG_ERR:
		CTL_LOG(ERR, "%s", msg);
		break;
	case STATE_LOG_WARNING:
		CTL_LOG(WARNING, "%s", msg);
		break;
	case STATE_LOG_NOTICE:
		CTL_LOG(NOTICE, "%s", msg);
		break;
	default:
		CTL_LOG(INFO, "%s", msg);
		break;
	}
}

/* The "ports" section restores through the same path as `dpctl add-port`. */
static int
dpnetd_port_restore(void *arg, const struct cfg_port *cp, char *err, size_t errlen)
{
	return ctl_port_create(arg, cp, true, err, errlen);
}

/* Refused input is a WARNING (DESIGN.md §4): the user sees why in dpctl too. */
static void
dpnetd_refused(const char *cmd, int err, const char *msg)
{
	CTL_LOG(WARNING, "%s%srequest refused (%s): %s", cmd, cmd[0] != '\0' ? " " : "",
		strerror(err), msg);
}

/* Serve until SIGINT or SIGTERM. */
static void
dpnetd_serve(struct ctl *c, int sfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	uint64_t next_age = ctl_mono_ms() + DPNETD_AGE_MS;
	bool quit = false;
	int ep;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		dpnetd_die("epoll: %s", strerror(errno));
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = srv_fd(c->srv);
	epoll_ctl(ep, EPOLL_CTL_ADD, srv_fd(c->srv), &ev);
	while (!quit) {
		struct epoll_event evs[4];
		uint64_t now;
		int n;

		n = epoll_wait(ep, evs, 4, DPNETD_TICK_MS);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == sfd) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP) {
					CTL_LOG(NOTICE, "SIGHUP ignored: there is no reload; "
						"change ports with dpctl");
					continue;
				}
				CTL_LOG(NOTICE, "%s received, stopping",
					strsignal((int)si.ssi_signo));
				quit = true;
			} else {
				srv_run(c->srv);
			}
		}
		fdb_learn_drain(c->dp->fdb, rte_rdtsc());
		now = ctl_mono_ms();
		ctl_nat_tick(c, now);
		ctl_punt_drain(c, now);
		ctl_neigh_tick(c, now);
		ctl_cluster_tick(c, now);
		ctl_vxlan_tick(c);
		ctl_punt_wake(c);
		if (now >= next_age) {
			fdb_age(c->dp->fdb, rte_rdtsc());
			srv_tick(c->srv, now);
			ctr_tick();
			next_age = now + DPNETD_AGE_MS;
		}
	}
	close(ep);
}

/*
 * The group of the control socket (--group, else control.group): its gid in
 * *gid, 1; 0 when there is none. Dies on a group this system does not know.
 */
static int
dpnetd_control_group(const struct dpnetd_opts *o, const struct cfg *cfg, gid_t *gid)
{
	const char *name = o->group != NULL ? o->group : cfg->control_group;
	char where[CFG_PATH_MAX + 32];
	struct group *gr;
	char *end;
	unsigned long v;

	if (o->group != NULL)
		snprintf(where, sizeof(where), "--group");
	else
		snprintf(where, sizeof(where), "%s:%d: control.group", cfg->path,
			 cfg->control_group_line);
	if (name[0] == '\0')
		return 0;
	if (!cfg_group_valid(name))
		dpnetd_die("%s: invalid group name \"%.64s\": letters, digits, '_', '.', '-', "
			   "at most %d characters", where, name, CFG_GROUP_MAX - 1);
	errno = 0;
	gr = getgrnam(name);
	if (gr != NULL) {
		*gid = gr->gr_gid;
		return 1;
	}
	v = strtoul(name, &end, 10);
	if (*end == '\0' && v < (gid_t)-1) {
		*gid = (gid_t)v; /* a numeric gid, whether or not it has a name */
		return 1;
	}
	dpnetd_die("%s: no group \"%s\" on this system: create it (groupadd %s) or name "
		   "another", where, name, name);
}

int
main(int argc, char **argv)
{
	static struct cfg cfg;
	static struct net_table nets;
	static struct ctl ctl;
	struct dp_poll_params poll;
	struct dpnetd_opts o;
	struct dpnetd_eal eal = { .argc = 0 };
	char *eal_owned[DPNETD_MAX_EAL_ARGS + 1];
	char err[1024] = "";
	unsigned int lcore;
	sigset_t mask;
	bool want_huge = false;
	size_t off = 0;
	int sfd, rc, has_group;
	gid_t group = 0;

	dpnetd_parse_opts(argc, argv, &o);
	if (o.config != NULL) {
		if (cfg_load(o.config, &cfg, err, sizeof(err)) < 0)
			dpnetd_die("%s", err);
	} else {
		char why[256];

		cfg_builtin(&cfg);
		/* The built-in uplink is a vtap where the kernel can carry one
		 * (vtap.h: Linux 5.19 or later), else a plain tap. */
		if (strcmp(cfg.ports[0].type, "vtap") == 0 && vtap_probe(why, sizeof(why)) < 0) {
			snprintf(cfg.ports[0].type, sizeof(cfg.ports[0].type), "tap");
			fprintf(stderr, "dpnetd: WARNING: the uplink dpnet0 is a tap, not a vtap: %s\n",
				why);
		}
	}
	has_group = dpnetd_control_group(&o, &cfg, &group);
	dpnetd_check_ifaces(&cfg);
	if (net_table_init(&nets, &cfg, err, sizeof(err)) < 0)
		dpnetd_die("%s", err);
	rc = srv_probe(o.socket);
	if (rc == 1)
		dpnetd_die("another dpnetd is already serving %s: stop it first or pick another "
			   "--socket", o.socket);
	if (state_init(o.state_dir, dpnetd_state_log, err, sizeof(err)) < 0)
		dpnetd_die("%s", err);

	/* Signals arrive on the signalfd; EAL's threads inherit the mask. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		dpnetd_die("signalfd: %s", strerror(errno));

	dpnetd_build_eal(&o, &cfg, &eal, &want_huge);
	/* For status and error messages only: cut at the buffer's end if need be. */
	for (int i = 1; i < eal.argc && off < sizeof(ctl.eal_line); i++) {
		int n = snprintf(ctl.eal_line + off, sizeof(ctl.eal_line) - off, "%s%s",
				 i > 1 ? " " : "", eal.argv[i]);

		if (n < 0)
			break;
		off += (size_t)n;
	}
	/* rte_eal_init reorders and overwrites argv: keep our own list to free. */
	memcpy(eal_owned, eal.argv, sizeof(eal_owned));
	if (rte_eal_init(eal.argc, eal.argv) < 0)
		dpnetd_die("cannot initialise DPDK (EAL arguments: %s): %s", ctl.eal_line,
			   rte_strerror(rte_errno));
	if (o.log_level > 0)
		rte_log_set_level_pattern("dpnet.*", (uint32_t)o.log_level);

	ctl.cfg = &cfg;
	ctl.nets = &nets;
	ctl.start_ms = ctl_mono_ms();
	ctl.start_wall_s = (uint64_t)time(NULL);
	ctl.hugepages = rte_eal_has_hugepages() != 0;
	ctl.eal_from_cli = o.eal_argc > 0;
	snprintf(ctl.socket_path, sizeof(ctl.socket_path), "%s", o.socket);
	snprintf(ctl.state_dir, sizeof(ctl.state_dir), "%s", o.state_dir);
	snprintf(ctl.file_prefix, sizeof(ctl.file_prefix), "%s",
		 o.eal_argc > 0 ? dpnetd_user_prefix(&o) : cfg.file_prefix);
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (ctl.n_workers == cfg.workers)
			break;
		ctl.lcores[ctl.n_workers++] = lcore;
	}
	if (ctl.n_workers == 0) {
		rte_eal_cleanup();
		dpnetd_die("no worker lcore: give EAL at least two lcores (e.g. -l 0,1 or "
			   "--lcores 0@0,1@0)");
	}
	if (ctl.n_workers < cfg.workers)
		CTL_LOG(NOTICE, "%u worker%s configured, EAL gave %u: running %u",
			cfg.workers, cfg.workers == 1 ? "" : "s", ctl.n_workers, ctl.n_workers);
	ctl.base = calloc(RTE_MAX_ETHPORTS, sizeof(*ctl.base));
	if (ctl.base == NULL) {
		rte_eal_cleanup();
		dpnetd_die("out of memory");
	}

	poll.busy = cfg.poll.busy;
	poll.spin_polls = cfg.poll.spin_polls;
	poll.sleep_min_us = cfg.poll.sleep_min_us;
	poll.sleep_max_us = cfg.poll.sleep_max_us;
	poll.intr = !cfg.poll.busy && cfg.poll.intr;
	poll.intr_timeout_ms = cfg.poll.intr_timeout_ms;
	/* Ports ask for RX interrupts only when a worker may block on them. */
	port_set_rx_intr(poll.intr);
	ctl.dp = dp_create(cfg.mbufs, ctl.n_workers, cfg.fdb_size, cfg.fdb_aging_s, &poll);
	if (ctl.dp == NULL) {
		rc = errno;
		rte_eal_cleanup();
		dpnetd_die("cannot create the data plane (%u mbufs, %u MB of EAL memory): %s: "
			   "lower mbufs or raise eal.memory_mb", cfg.mbufs, cfg.memory_mb,
			   strerror(rc));
	}
	/* vtap ports' 64 KB buffers and the workers' calls into the driver (vtap.h). */
	if (vtap_init(cfg.vtap_big_mbufs, (int)rte_socket_id()) < 0) {
		dp_destroy(ctl.dp);
		rte_eal_cleanup();
		dpnetd_die("cannot create the vtap pool of %u 64 KB mbufs (%u MB of EAL "
			   "memory): lower vtap.big_mbufs or raise eal.memory_mb",
			   cfg.vtap_big_mbufs, cfg.memory_mb);
	}
	ctl.dp->vtap.rx_fill = vtap_rx_fill;
	ctl.dp->vtap.tx_drain = vtap_tx_drain;
	/* The conntrack table as configured, before any traffic (nat.c). */
	if (ctl_nat_configure(&ctl, err, sizeof(err)) < 0) {
		dp_destroy(ctl.dp);
		rte_eal_cleanup();
		dpnetd_die("%s%s%s", cfg.path[0] != '\0' ? cfg.path : "", cfg.path[0] != '\0' ?
			   ": " : "", err);
	}
	/* VXLAN's port, TTL and DF, before any overlay or traffic (vxlan.c). */
	if (ctl_vxlan_configure(&ctl, err, sizeof(err)) < 0) {
		dp_destroy(ctl.dp);
		rte_eal_cleanup();
		dpnetd_die("%s%s%s", cfg.path[0] != '\0' ? cfg.path : "", cfg.path[0] != '\0' ?
			   ": " : "", err);
	}
	/* Neighbour resolution before the ports (the uplink announces itself). */
	ctl_neigh_init(&ctl);
	ctl_punt_init(&ctl);
	/* Networks first (routes, gateways), so the uplink finds them; then ports. */
	uplink_init(&ctl);
	if (net_attach_all(&nets, err, sizeof(err)) < 0) {
		dp_destroy(ctl.dp);
		rte_eal_cleanup();
		dpnetd_die("%s", err);
	}
	net_state_register(&nets);
	state_ports_register(dpnetd_port_restore, &ctl);
	ctl_mac_state_register(&ctl);
	ctl_route_state_register(&ctl);
	ctl_neigh_state_register(&ctl);
	ctl_vxlan_state_register(&ctl);
	ctr_init(&ctl);
	/* The host port last: it needs the uplink, wherever the file lists it. */
	for (unsigned int k = 0; k < 2 * cfg.n_ports; k++) {
		unsigned int i = k % cfg.n_ports;

		if ((k < cfg.n_ports) == (strcmp(cfg.ports[i].role, "host") == 0))
			continue;
		err[0] = '\0';
		if (ctl_port_create(&ctl, &cfg.ports[i], false, err, sizeof(err)) < 0) {
			ctl_port_destroy_all(&ctl);
			dp_destroy(ctl.dp);
			rte_eal_cleanup();
			if (cfg.path[0] != '\0')
				dpnetd_die("%s:%d: ports[%u]: %s", cfg.path, cfg.ports[i].line, i,
					   err);
			dpnetd_die("built-in port %s: %s", cfg.ports[i].name, err);
		}
	}
	/* The file's static routes, once the uplink and the networks are there. */
	{
		unsigned int bad = 0;

		if (ctl_route_config(&ctl, &bad, err, sizeof(err)) < 0) {
			ctl_port_destroy_all(&ctl);
			dp_destroy(ctl.dp);
			rte_eal_cleanup();
			dpnetd_die("%s:%d: routes[%u]: %s", cfg.path, cfg.routes[bad].line, bad,
				   err);
		}
	}
	/* What `dpctl` made before a restart (or a kill -9): networks, ports, containers;
	 * then the containers' published ports become DNAT rules again. */
	state_restore();
	if (ctl_nat_sync(&ctl, err, sizeof(err)) < 0)
		CTL_LOG(ERR, "published ports not restored: %s", err);
	rc = dp_start(ctl.dp, ctl.lcores, ctl.n_workers);
	if (rc < 0) {
		ctl_port_destroy_all(&ctl);
		dp_destroy(ctl.dp);
		rte_eal_cleanup();
		dpnetd_die("cannot start the workers: %s", strerror(-rc));
	}
	ctl.srv = srv_create(o.socket, dpnetd_cmds, &ctl, dpnetd_refused, err, sizeof(err));
	if (ctl.srv != NULL && has_group &&
	    srv_set_group(ctl.srv, group, o.group != NULL ? o.group : cfg.control_group, err,
			  sizeof(err)) < 0) {
		srv_destroy(ctl.srv);
		ctl.srv = NULL;
	}
	if (ctl.srv == NULL) {
		dp_stop(ctl.dp);
		ctl_port_destroy_all(&ctl);
		dp_destroy(ctl.dp);
		rte_eal_cleanup();
		dpnetd_die("%s", err);
	}
	/* Cluster mode (etcd): after the state (the subnet we had) and the uplink. */
	if (ctl_cluster_start(&ctl, err, sizeof(err)) < 0) {
		srv_destroy(ctl.srv);
		dp_stop(ctl.dp);
		ctl_port_destroy_all(&ctl);
		dp_destroy(ctl.dp);
		rte_eal_cleanup();
		dpnetd_die("%s: cluster: %s", cfg.path, err);
	}
	CTL_LOG(NOTICE, "version %s ready on %s: %u worker%s, %s poll, %s, %u port%s",
		DPNET_VERSION, o.socket, ctl.n_workers, ctl.n_workers == 1 ? "" : "s",
		poll.busy ? "busy" : "adaptive",
		ctl.hugepages ? "hugepages" : "no hugepages", cfg.n_ports,
		cfg.n_ports == 1 ? "" : "s");

	dpnetd_serve(&ctl, sfd);
	ctl_cluster_stop(&ctl);

	srv_destroy(ctl.srv);
	dp_stop(ctl.dp);
	ctl_port_destroy_all(&ctl);
	ctr_fini();
	dp_destroy(ctl.dp);
	vtap_fini();
	free(ctl.base);
	close(sfd);
	net_table_fini(&nets);
	state_fini();
	CTL_LOG(INFO, "stopped");
	rte_eal_cleanup();
	for (int i = 0; i < eal.argc; i++)
		free(eal_owned[i]);
	return 0;
}
