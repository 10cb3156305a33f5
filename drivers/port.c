/*
 * port.c - turning a port spec into a started DPDK ethdev (hot-plugged with
 * rte_dev_probe), and the registry of named ports. See port.h.
 *
 * Each type maps to a DPDK driver and devargs; the device name embeds the port's
 * name (net_tap_<name>, ...) so that logs and `dpdk-proc-info` are readable. One
 * RX queue and one TX queue per worker; a device that cannot give each worker a
 * TX queue of its own is refused rather than shared behind a lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_common.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "port.h"
#include "vtap.h"
#include "dataplane/vxlan.h"

RTE_LOG_REGISTER(port_logtype, dpnet.port, NOTICE);
#define PORT_LOG(level, ...) \
	rte_log(RTE_LOG_##level, port_logtype, "dpnetd: " #level ": port: " __VA_ARGS__)

#define PORT_TAP_NAME_MAX 14  /* "mp_net_tap_" + name fits RTE_MEMPOOL_NAMESIZE */
#define PORT_NB_RXD 1024
#define PORT_NB_TXD 1024
/*
 * net_tap fills its RX queue with nb_rx_desc mbufs at setup and keeps them for
 * good, yet reads each frame into the first one alone (the rest serve only
 * RTE_ETH_RX_OFFLOAD_SCATTER, which dpnet does not ask for). With 1024 a TAP
 * port pinned 1023 idle mbufs: `mbufs: 1024` could not hold a TAP container
 * next to the TAP uplink (ENOMEM), and the default 16384 ran dry at about 16
 * TAP ports. 64 still spans a 64 KiB frame should scatter ever be enabled.
 */
#define PORT_TAP_NB_RXD 64

static const char *const port_type_names[PORT_TYPE_MAX] = {
	[PORT_TAP] = "tap",
	[PORT_AFPACKET] = "afpacket",
	[PORT_VHOST] = "vhost",
	[PORT_PCAP] = "pcap",
	[PORT_NULL] = "null",
	[PORT_RING] = "ring",
	[PORT_DPDK] = "dpdk",
	[PORT_VTAP] = "vtap",
};

static const char *const port_role_names[PORT_ROLE_MAX] = {
	[PORT_ROLE_ACCESS] = "access",
	[PORT_ROLE_UPLINK] = "uplink",
	[PORT_ROLE_HOST] = "host",
};

/* Creation order; NULL slots are free. */
static struct port *registry[RTE_MAX_ETHPORTS];

/* Ask drivers for RX interrupts (port_set_rx_intr). */
static bool rx_intr_wanted;

void
port_set_rx_intr(bool on)
{
	rx_intr_wanted = on;
}

const char *
port_type_name(enum port_type t)
{
	return (unsigned int)t < PORT_TYPE_MAX ? port_type_names[t] : "?";
}

int
port_type_parse(const char *s, enum port_type *t)
{
	for (unsigned int i = 0; i < PORT_TYPE_MAX; i++)
		if (strcmp(s, port_type_names[i]) == 0) {
			*t = (enum port_type)i;
			return 0;
		}
	return -EINVAL;
}

const char *
port_role_name(enum port_role r)
{
	return (unsigned int)r < PORT_ROLE_MAX ? port_role_names[r] : "?";
}

int
port_role_parse(const char *s, enum port_role *r)
{
	for (unsigned int i = 0; i < PORT_ROLE_MAX; i++)
		if (strcmp(s, port_role_names[i]) == 0) {
			*r = (enum port_role)i;
			return 0;
		}
	return -EINVAL;
}

struct port *
port_find(const char *name)
{
	for (unsigned int i = 0; i < RTE_MAX_ETHPORTS; i++)
		if (registry[i] != NULL && strcmp(registry[i]->spec.name, name) == 0)
			return registry[i];
	return NULL;
}

struct port *
port_by_id(uint16_t port_id)
{
	for (unsigned int i = 0; i < RTE_MAX_ETHPORTS; i++)
		if (registry[i] != NULL && registry[i]->port_id == port_id)
			return registry[i];
	return NULL;
}

unsigned int
port_list(struct port **out, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < RTE_MAX_ETHPORTS && n < max; i++)
		if (registry[i] != NULL)
			out[n++] = registry[i];
	return n;
}

int
port_link(const struct port *p, struct rte_eth_link *link)
{
	const char *ifn = p->spec.iface[0] ? p->spec.iface : p->spec.name;
	int rc = rte_eth_link_get_nowait(p->port_id, link);

	/*
	 * net_tap asks the kernel for the interface's flags by name in our own
	 * namespace, so once the interface has moved into a container's namespace
	 * it reports down. The switch's side of a TAP has carrier as long as we hold
	 * its file descriptor, i.e. while the port exists: report that.
	 */
	if (rc == 0 && p->spec.type == PORT_TAP && link->link_status == RTE_ETH_LINK_DOWN &&
	    if_nametoindex(ifn) == 0) {
		link->link_status = RTE_ETH_LINK_UP;
		link->link_speed = RTE_ETH_SPEED_NUM_10G;
		link->link_duplex = RTE_ETH_LINK_FULL_DUPLEX;
	}
	return rc;
}

/* Port names end up in device names and devargs: keep them plain. */
static bool
port_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= PORT_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

/* Build the device name and the full devargs for a spec; 0 or -EINVAL with err. */
static int
port_devargs(const struct port_spec *s, uint16_t n_txq, char *dev, size_t devlen,
	     char *args, size_t argslen, char *err, size_t errlen)
{
	const char *extra = s->devargs;
	const char *sep = extra[0] ? "," : "";
	int n = 0;

	switch (s->type) {
	case PORT_TAP: {
		const char *ifn = s->iface[0] ? s->iface : s->name;

		if (strlen(ifn) >= IFNAMSIZ) {
			snprintf(err, errlen, "interface name \"%s\" is longer than %d characters",
				 ifn, IFNAMSIZ - 1);
			return -EINVAL;
		}
		if (if_nametoindex(ifn) != 0) {
			snprintf(err, errlen, "interface \"%s\" already exists: a tap port creates "
				 "its own interface, pick another --iface or use --type afpacket "
				 "to attach to an existing one", ifn);
			return -EEXIST;
		}
		/*
		 * net_tap names a mempool "mp_<device>" (at most 25 characters): a
		 * longer device name makes the port's queue setup fail. Long port
		 * names keep their first 8 characters and get a hash of the rest.
		 */
		if (strlen(s->name) <= PORT_TAP_NAME_MAX) {
			snprintf(dev, devlen, "net_tap_%s", s->name);
		} else {
			uint32_t h = 2166136261u;

			for (const char *c = s->name; *c != '\0'; c++)
				h = (h ^ (uint8_t)*c) * 16777619u;
			snprintf(dev, devlen, "net_tap_%.8s~%05x", s->name, h & 0xFFFFF);
		}
		n = snprintf(args, argslen, "%s,iface=%s%s%s", dev, ifn, sep, extra);
		break;
	}
	case PORT_AFPACKET:
		if (s->iface[0] == '\0') {
			snprintf(err, errlen, "a port of type afpacket needs --iface IF: the "
				 "interface to attach to (e.g. the host end of a veth)");
			return -EINVAL;
		}
		if (if_nametoindex(s->iface) == 0) {
			snprintf(err, errlen, "interface \"%s\" not found: create it first or "
				 "check the name", s->iface);
			return -ENODEV;
		}
		snprintf(dev, devlen, "net_af_packet_%s", s->name);
		n = snprintf(args, argslen, "%s,iface=%s,qpairs=%u%s%s", dev, s->iface, n_txq,
			     sep, extra);
		break;
	case PORT_VHOST:
		if (s->iface[0] != '/') {
			snprintf(err, errlen, "a port of type vhost needs --iface PATH: the "
				 "absolute path of the vhost-user socket to create");
			return -EINVAL;
		}
		snprintf(dev, devlen, "net_vhost_%s", s->name);
		n = snprintf(args, argslen, "%s,iface=%s,queues=%u%s%s", dev, s->iface, n_txq,
			     sep, extra);
		break;
	case PORT_PCAP:
		if (extra[0] == '\0') {
			snprintf(err, errlen, "a port of type pcap needs --devargs, e.g. "
				 "rx_pcap=in.pcap,tx_pcap=out.pcap (see DPDK's net_pcap)");
			return -EINVAL;
		}
		snprintf(dev, devlen, "net_pcap_%s", s->name);
		n = snprintf(args, argslen, "%s,%s", dev, extra);
		break;
	case PORT_NULL:
		snprintf(dev, devlen, "net_null_%s", s->name);
		n = snprintf(args, argslen, "%s%s%s", dev, sep, extra);
		break;
	case PORT_RING:
		snprintf(dev, devlen, "net_ring_%s", s->name);
		n = snprintf(args, argslen, "%s%s%s", dev, sep, extra);
		break;
	case PORT_DPDK:
		if (extra[0] == '\0') {
			snprintf(err, errlen, "a port of type dpdk needs --devargs naming the "
				 "device: a PCI address (0000:01:00.0) or a vdev (net_xxx,...)");
			return -EINVAL;
		}
		snprintf(dev, devlen, "%.*s", (int)strcspn(extra, ","), extra);
		n = snprintf(args, argslen, "%s", extra);
		break;
	case PORT_VTAP: {
		const char *ifn = s->iface[0] ? s->iface : s->name;
		uint32_t h = 2166136261u;

		if (strlen(ifn) >= IFNAMSIZ) {
			snprintf(err, errlen, "interface name \"%s\" is longer than %d characters",
				 ifn, IFNAMSIZ - 1);
			return -EINVAL;
		}
		/* rte_eth_from_rings names the ethdev "net_ring_" + this, and the
		 * whole must fit a ring name (RTE_RING_NAMESIZE): long port names
		 * keep their first 8 characters and get a hash of the rest. */
		if (strlen(s->name) <= 12) {
			snprintf(dev, devlen, "vtap_%s", s->name);
		} else {
			for (const char *c = s->name; *c != '\0'; c++)
				h = (h ^ (uint8_t)*c) * 16777619u;
			snprintf(dev, devlen, "vtap_%.6s~%05x", s->name, h & 0xFFFFF);
		}
		n = snprintf(args, argslen, "iface=%s", ifn);
		break;
	}
	default:
		snprintf(err, errlen, "unknown port type: use one of tap, afpacket, vhost, pcap, "
			 "null, ring, dpdk, vtap");
		return -EINVAL;
	}
	if (n < 0 || (size_t)n >= argslen) {
		snprintf(err, errlen, "device arguments are too long (at most %zu characters)",
			 argslen - 1);
		return -E2BIG;
	}
	return 0;
}

/* Find the ethdev a probe created, by its devargs (works for PCI and vdevs). */
static int
port_find_ethdev(const char *dev, const char *args, uint16_t *port_id)
{
	struct rte_dev_iterator it;
	uint16_t pid;

	if (rte_eth_dev_get_port_by_name(dev, port_id) == 0)
		return 0;
	RTE_ETH_FOREACH_MATCHING_DEV(pid, args, &it) {
		*port_id = pid;
		rte_eth_iterator_cleanup(&it);
		return 0;
	}
	return -ENODEV;
}

/*
 * How many RX queues a port gets with n_txq workers. Every queue a device
 * spreads frames over must be polled, or what lands there is lost: net_tap
 * (a multi-queue TUN: the kernel picks the queue by flow) insists on as many
 * RX as TX queues, net_af_packet opens one socket per queue pair in one fanout
 * group, net_vhost has a queue pair per worker, and a PCI NIC spreads by RSS.
 * So those get one RX queue per worker (as far as the device has them), each
 * polled by its own worker; a flow keeps one queue, so its order is kept. The
 * other vdevs (pcap, null, ring) deliver on the queues they are given: one.
 */
static uint16_t
port_rx_queues(enum port_type type, const struct rte_eth_dev_info *info, uint16_t n_txq)
{
	uint16_t n = n_txq;

	if (type != PORT_TAP && type != PORT_AFPACKET && type != PORT_VHOST &&
	    type != PORT_DPDK && type != PORT_VTAP)
		return 1;
	if (n > info->max_rx_queues)
		n = info->max_rx_queues;
	return n > 0 ? n : 1;
}

/*
 * Which drivers get RX interrupts asked for (DPDK 22.11, read in its source):
 *  - net_tap: with intr_conf.rxq its queues' interrupt fds are the TAP queue
 *    fds themselves (tap_intr.c), readable while a frame waits; it has no
 *    rx_queue_intr_enable (nothing to arm: -ENOTSUP) and must never be read by
 *    us (that would take a frame);
 *  - PCI devices (type dpdk): the PMD decides; with vfio MSI-X each queue gets
 *    an eventfd, armed by rte_eth_dev_rx_intr_enable and read after a wake.
 * Not the others: net_af_packet has no interrupt support at all (no vector, no
 * rx_queue_intr_enable; its sockets are private to the PMD); net_vhost gives
 * each queue a "proxy" epoll fd holding the vring's kickfd, but nobody reads
 * that kickfd (efd_counter_size 0, and neither the PMD nor librte_vhost does),
 * so after the guest's first kick it stays readable and a worker would never
 * block; net_pcap, net_null and net_ring have none.
 */
static bool
port_wants_rx_intr(enum port_type type)
{
	return rx_intr_wanted && (type == PORT_TAP || type == PORT_DPDK);
}

/* An eventfd's counter must be read after it fired; a TAP's fd must not. */
static bool
port_fd_is_eventfd(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[eventfd]") == 0;
}

/*
 * net_tap (22.11) reads a queue only after its RX trigger changed: a static
 * counter that the handler of a real-time signal bumps, the signal the kernel
 * sends (F_SETSIG, O_ASYNC) for every frame the TAP gets. That signal goes to
 * the main thread, the control thread, which may not run for a while on a
 * busy machine: a worker woken by the TAP's fd would find nothing to read and
 * spin through epoll_wait until it does (measured: ~45 wake-ups and 0.2-5 ms a
 * frame). So the worker calls that handler itself after a wake (one more
 * bump: at worst each TAP queue reads once more and finds nothing). The
 * handler is found from the fd: F_GETSIG gives the signal, sigaction its
 * handler; a plain handler only (not SA_SIGINFO, not SIG_DFL/SIG_IGN).
 */
static void
port_tap_kick(int fd, void (**kick)(int), int *sig)
{
	struct sigaction sa;
	int s = fcntl(fd, F_GETSIG);

	*kick = NULL;
	*sig = 0;
	if (s <= 0 || sigaction(s, NULL, &sa) != 0 || (sa.sa_flags & SA_SIGINFO) != 0 ||
	    sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN)
		return;
	*kick = sa.sa_handler;
	*sig = s;
}

/*
 * The wake fd of each RX queue of a started port set up with RX interrupts:
 * the queue's interrupt fd, if the driver gave it one and rx_intr_disable
 * either works (the queue can be armed) or is not supported (net_tap: always
 * "armed", the fd is the queue). -1 for the rest.
 */
static void
port_wake_fds(struct port *p, bool intr)
{
	for (unsigned int q = 0; q < PORT_MAX_RXQ; q++) {
		p->wake_fd[q] = -1;
		p->wake_eventfd[q] = false;
		p->wake_kick[q] = NULL;
		p->wake_sig[q] = 0;
	}
	if (!intr)
		return;
	for (uint16_t q = 0; q < p->n_rxq && q < PORT_MAX_RXQ; q++) {
		int fd = rte_eth_dev_rx_intr_ctl_q_get_fd(p->port_id, q);
		int rc;

		if (fd < 0)
			continue;
		rc = rte_eth_dev_rx_intr_disable(p->port_id, q);
		if (rc != 0 && rc != -ENOTSUP) {
			PORT_LOG(INFO, "port %s: RX queue %u has an interrupt fd but cannot be "
				 "armed (%s): polled on a timer\n", p->spec.name, q,
				 rte_strerror(-rc));
			continue;
		}
		p->wake_fd[q] = fd;
		p->wake_eventfd[q] = port_fd_is_eventfd(fd);
		if (p->spec.type == PORT_TAP)
			port_tap_kick(fd, &p->wake_kick[q], &p->wake_sig[q]);
	}
}

static int
port_setup(uint16_t pid, enum port_type type, struct rte_mempool *pool, uint16_t n_txq,
	   bool intr, uint16_t *n_rxq_out, char *err, size_t errlen)
{
	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;
	uint16_t n_rxq;
	uint16_t nb_rxd = type == PORT_TAP ? PORT_TAP_NB_RXD : PORT_NB_RXD;
	uint16_t nb_txd = PORT_NB_TXD;
	int socket = rte_eth_dev_socket_id(pid);
	int rc;

	if (socket < 0)
		socket = SOCKET_ID_ANY;
	rc = rte_eth_dev_info_get(pid, &info);
	if (rc != 0) {
		snprintf(err, errlen, "cannot read device info: %s", rte_strerror(-rc));
		return rc;
	}
	if (info.max_tx_queues < n_txq) {
		snprintf(err, errlen, "the device has %u TX queue(s) but dpnet runs %u workers, "
			 "each needing its own: lower 'workers' in the config", info.max_tx_queues,
			 n_txq);
		return -ENOTSUP;
	}
	n_rxq = port_rx_queues(type, &info, n_txq);
	if (type == PORT_TAP && n_rxq != n_txq) {
		snprintf(err, errlen, "the TAP device has %u RX queue(s) but needs one per worker "
			 "(%u): lower 'workers' in the config", info.max_rx_queues, n_txq);
		return -ENOTSUP;
	}
	/* A NIC spreads flows over the queues by RSS on what it can hash of
	 * IPv4/IPv6 and TCP/UDP (a vdev that has no RSS offers nothing here). */
	if (n_rxq > 1 && info.flow_type_rss_offloads != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads &
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
	}
	/* Frames the data plane cuts from a large segment (dataplane/offload.h)
	 * are chains (headers + the payload they share); a NIC driver not asked
	 * for MULTI_SEGS may pick a TX path that sends only the first mbuf. Every
	 * vdev dpnet uses sends chains whole anyway. */
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	conf.intr_conf.rxq = intr ? 1 : 0;
	rc = rte_eth_dev_configure(pid, n_rxq, n_txq, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rxd, &nb_txd);
	for (uint16_t q = 0; rc == 0 && q < n_rxq; q++)
		rc = rte_eth_rx_queue_setup(pid, q, nb_rxd, (unsigned int)socket, NULL, pool);
	for (uint16_t q = 0; rc == 0 && q < n_txq; q++)
		rc = rte_eth_tx_queue_setup(pid, q, nb_txd, (unsigned int)socket, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "cannot set up its queues: %s", rte_strerror(-rc));
		return rc;
	}
	/* A switch port must see every frame; some vdevs have no such notion. */
	rc = rte_eth_promiscuous_enable(pid);
	if (rc != 0 && rc != -ENOTSUP)
		PORT_LOG(WARNING, "port %u: cannot enable promiscuous mode: %s\n", pid,
			 rte_strerror(-rc));
	rc = rte_eth_dev_start(pid);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the device: %s", rte_strerror(-rc));
		return rc;
	}
	*n_rxq_out = n_rxq;
	return 0;
}

/* Stop, close and unplug an ethdev; safe on a half-set-up device. */
static void
port_unplug(uint16_t pid)
{
	struct rte_eth_dev_info info;
	struct rte_device *dev = NULL;

	if (rte_eth_dev_info_get(pid, &info) == 0)
		dev = info.device;
	rte_eth_dev_stop(pid);
	rte_eth_dev_close(pid);
	if (dev != NULL && rte_dev_remove(dev) != 0)
		PORT_LOG(WARNING, "port %u: device not removed cleanly\n", pid);
}

/* A vtap's ethdev goes with its TAP (vtap_destroy); any other is unplugged. */
static void
port_unplug_vt(uint16_t pid, struct vtap *vt)
{
	if (vt != NULL)
		vtap_destroy(vt);
	else
		port_unplug(pid);
}

int
port_create(const struct port_spec *spec, struct rte_mempool *pool, uint16_t n_txq,
	    struct port **out, char *err, size_t errlen)
{
	char dev[RTE_DEV_NAME_MAX_LEN], args[PORT_DEVARGS_MAX + 128], why[256] = "";
	unsigned int slot = RTE_MAX_ETHPORTS;
	struct timeval tv;
	struct vtap *vt = NULL;
	struct port *p;
	uint16_t pid, n_rxq = 1;
	bool intr;
	int rc;

	if (!port_name_ok(spec->name)) {
		snprintf(err, errlen, "invalid port name \"%s\": use 1-%d letters, digits, '-', "
			 "'_' or '.'", spec->name, PORT_NAME_MAX - 1);
		return -EINVAL;
	}
	if (port_find(spec->name) != NULL) {
		snprintf(err, errlen, "port \"%s\" already exists: pick another name or remove "
			 "it first with 'dpctl del-port %s'", spec->name, spec->name);
		return -EEXIST;
	}
	for (unsigned int i = 0; i < RTE_MAX_ETHPORTS; i++)
		if (registry[i] == NULL) {
			slot = i;
			break;
		}
	if (slot == RTE_MAX_ETHPORTS) {
		snprintf(err, errlen, "too many ports: dpnet supports %d; remove one first",
			 RTE_MAX_ETHPORTS);
		return -ENOSPC;
	}
	rc = port_devargs(spec, n_txq, dev, sizeof(dev), args, sizeof(args), err, errlen);
	if (rc != 0)
		return rc;
	if (spec->type == PORT_VTAP) {
		rc = vtap_create(spec->iface[0] ? spec->iface : spec->name, dev, n_txq, pool,
				 &vt, &pid, why, sizeof(why));
		if (rc != 0) {
			snprintf(err, errlen, "cannot create port \"%s\": %s", spec->name, why);
			return rc;
		}
		rte_eth_dev_get_name_by_port(pid, dev);  /* "net_ring_" + dev */
		goto setup;
	}
	rc = rte_dev_probe(args);
	if (rc != 0) {
		snprintf(err, errlen, "cannot create port \"%s\": the %s driver refused \"%s\" "
			 "(%s); check the daemon log for the driver's reason", spec->name,
			 port_type_name(spec->type), args, rte_strerror(-rc));
		return rc;
	}
	rc = port_find_ethdev(dev, args, &pid);
	if (rc != 0) {
		snprintf(err, errlen, "cannot create port \"%s\": device \"%s\" probed but has no "
			 "ethernet port", spec->name, dev);
		rte_eal_hotplug_remove("vdev", dev);
		return rc;
	}
setup:
	/* That id is the overlays' pseudo-port (dataplane/vxlan.h): counters only. */
	if (pid == DP_PORT_VXLAN) {
		snprintf(err, errlen, "cannot create port \"%s\": it got ethdev id %u, which dpnet "
			 "reserves for VXLAN (at most %u ports)", spec->name, pid, DP_PORT_VXLAN);
		port_unplug_vt(pid, vt);
		return -ENOSPC;
	}
	intr = port_wants_rx_intr(spec->type);
	rc = port_setup(pid, spec->type, pool, n_txq, intr, &n_rxq, why, sizeof(why));
	if (rc != 0 && intr) {
		/* Some PMDs refuse to start when they cannot get the interrupt vectors
		 * (no vfio, too few MSI-X vectors): the port then polls on a timer. */
		PORT_LOG(INFO, "port %s: not set up with RX interrupts (%s): trying without\n",
			 spec->name, why);
		rte_eth_dev_stop(pid);
		intr = false;
		why[0] = '\0';
		rc = port_setup(pid, spec->type, pool, n_txq, intr, &n_rxq, why, sizeof(why));
	}
	if (rc != 0) {
		snprintf(err, errlen, "cannot create port \"%s\": %s", spec->name, why);
		port_unplug_vt(pid, vt);
		return rc;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		port_unplug_vt(pid, vt);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->spec = *spec;
	p->port_id = pid;
	p->vtap = vt;
	p->n_rxq = n_rxq;
	port_wake_fds(p, intr);
	/* A vtap queue wakes an idle worker by its TAP descriptor: readable while
	 * the kernel holds frames for it, read by vtap_rx_fill (level-triggered).
	 * Given also without interrupts (busy mode, interrupts: off): a worker
	 * with many vtap queues asks epoll which to read (worker.c), and only
	 * poll.interrupts makes one block on them. */
	for (uint16_t q = 0; vt != NULL && q < n_rxq && q < PORT_MAX_RXQ; q++)
		p->wake_fd[q] = vtap_queue_fd(vt, q);
	snprintf(p->dev_name, sizeof(p->dev_name), "%s", dev);
	/* net_ring has no MAC of its own (all zero); a vtap gets a random
	 * locally administered one, as net_tap does (an uplink's is the gateway's). */
	if (vt != NULL)
		rte_eth_random_addr(p->mac.addr_bytes);
	else
		rte_eth_macaddr_get(pid, &p->mac);
	p->domain = 0xFFFF;
	gettimeofday(&tv, NULL);
	p->created_ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
	registry[slot] = p;
	PORT_LOG(INFO, "port %s: %s created as ethdev %u (%s)\n", spec->name,
		 port_type_name(spec->type), pid, args);
	*out = p;
	return 0;
}

void
port_destroy(struct port *p)
{
	for (unsigned int i = 0; i < RTE_MAX_ETHPORTS; i++)
		if (registry[i] == p)
			registry[i] = NULL;
	PORT_LOG(INFO, "port %s: removing ethdev %u\n", p->spec.name, p->port_id);
	port_unplug_vt(p->port_id, p->vtap);
	free(p);
}
