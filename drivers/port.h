/*
 * port.h - ports: how each kind of port becomes a started DPDK ethdev, and the
 * registry of named ports.
 *
 * A port is created from a type and options (struct port_spec). port_create()
 * builds the devargs for the type, hot-plugs the device (rte_dev_probe), sets up
 * one RX queue and n_txq TX queues (one per worker), starts it and records it in
 * the registry under its name. port_destroy() undoes all of it
 * (stop, close, rte_dev_remove). Neither touches the data plane's view: the
 * caller publishes the port to the workers after creating it, and unpublishes
 * it and waits for an RCU grace period before destroying it.
 *
 * Frames longer than an mbuf. The pool's mbufs hold RTE_MBUF_DEFAULT_BUF_SIZE
 * less the headroom (2048 bytes of frame) and no port enables RX scatter:
 *  - net_tap (DPDK 22.11, pmd_rx_burst) reads a frame into one mbuf; the TUN
 *    driver cuts a longer one and sets TUN_PKT_STRIP, and the PMD drops it,
 *    counting the port's rte_eth_stats.ierrors (`dpctl stats` driver drop
 *    rx-errors, `dpctl port stats` "driver drops");
 *  - net_af_packet copies tp_snaplen bytes of a TPACKET_V2 ring slot (framesz,
 *    2048 by default); the kernel cuts a longer frame to the slot (less the
 *    tpacket2 header and alignment: 1982 bytes of an untagged frame) and the PMD
 *    counts nothing: the cut frame reaches dpnet (IPv4: shorter than its total
 *    length, malformed; other EtherTypes: forwarded as cut).
 * IPv4 fragments on net_af_packet. rte_pmd_init_internals (22.11) joins each
 * queue's socket to a PACKET_FANOUT group with PACKET_FANOUT_HASH |
 * PACKET_FANOUT_FLAG_DEFRAG | PACKET_FANOUT_FLAG_ROLLOVER (always on Linux: the
 * port fails if setsockopt does), so the kernel's packet_rcv_fanout reassembles
 * IPv4 fragments (ip_check_defrag) before the ring gets them: dpnet sees whole
 * datagrams there, never fragments; incomplete ones are dropped by the kernel
 * (ipfrag_time, IpReasmFails in that namespace), not counted by dpnet. Other
 * port types deliver fragments as they come (dataplane/nat.h, "Fragments").
 *
 * vtap ports (PORT_VTAP) are made by vtap_create() instead of a probe: a TAP
 * with virtio-net headers behind a net_ring ethdev, one queue per worker; the
 * port's vtap member is what the view hands to the workers (vtap.h).
 *
 * Thread safety: control thread only. The registry is not used by workers.
 */
#ifndef DPNET_PORT_H
#define DPNET_PORT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mempool.h>

#define PORT_NAME_MAX 32
#define PORT_DEVARGS_MAX 512
#define PORT_NET_MAX 64
#define PORT_MAX_RXQ 16   /* RX queues a port may have: one per worker at most */

enum port_type {
	PORT_TAP,        /* net_tap: a TAP interface named iface (created) */
	PORT_AFPACKET,   /* net_af_packet on an existing interface iface */
	PORT_VHOST,      /* net_vhost server on a socket path (devargs iface=PATH) */
	PORT_PCAP,       /* net_pcap, devargs rx_pcap=/tx_pcap=/infinite_rx= */
	PORT_NULL,       /* net_null (devargs e.g. no-rx=1) */
	PORT_RING,       /* net_ring */
	PORT_DPDK,       /* a PCI address, or any devargs naming a device */
	PORT_VTAP,       /* a TAP with virtio-net headers (vtap.h), net_ring ethdev */
	PORT_TYPE_MAX
};

enum port_role {
	PORT_ROLE_ACCESS,   /* a container or host-side port in a network */
	PORT_ROLE_UPLINK,   /* the way out of the host */
	PORT_ROLE_HOST,     /* the host's exception port */
	PORT_ROLE_MAX
};

struct vtap;

struct port_spec {
	char name[PORT_NAME_MAX];         /* user's name, unique */
	enum port_type type;              /* kind of port */
	char iface[IFNAMSIZ + 96];        /* interface name, or socket path for vhost */
	char devargs[PORT_DEVARGS_MAX];   /* extra devargs (or the device, for dpdk) */
	char network[PORT_NET_MAX];       /* network to join ("" = bridge) */
	enum port_role role;              /* access, uplink or host */
};

struct port {
	struct port_spec spec;            /* as requested (kept for state and listing) */
	uint16_t port_id;                 /* ethdev port id */
	char dev_name[RTE_DEV_NAME_MAX_LEN]; /* device name given to rte_dev_probe */
	struct rte_ether_addr mac;        /* the port's MAC address */
	uint16_t domain;                  /* bridge domain assigned by control */
	uint16_t n_rxq;                   /* RX queues, each polled by one worker (port.c) */
	int wake_fd[PORT_MAX_RXQ];        /* per RX queue: readable when frames wait (its RX
	                                   * interrupt, rte_eth_dev_rx_intr_ctl_q_get_fd);
	                                   * -1: the queue cannot interrupt */
	bool wake_eventfd[PORT_MAX_RXQ];  /* that fd is an eventfd (vfio): read it after a
	                                   * wake; net_tap's is the TAP itself: never read */
	void (*wake_kick[PORT_MAX_RXQ])(int); /* net_tap: its RX trigger's signal handler,
	                                   * to call after a wake (port.c); NULL if none */
	int wake_sig[PORT_MAX_RXQ];       /* the signal number to call it with */
	uint64_t created_ms;              /* wall clock of creation */
	struct vtap *vtap;                /* PORT_VTAP: the driver's side (vtap.h) */
};

/*
 * A port type whose interface dpnet creates on the host and whose host side it
 * manages when the port is the uplink: "TAP mode" (control/uplink.h) - net_tap
 * (one syscall per MTU frame) or vtap (64 KB segments and partial checksums,
 * vtap.h). Every other uplink type is "NIC mode".
 */
static inline bool
port_is_tap_mode(enum port_type t)
{
	return t == PORT_TAP || t == PORT_VTAP;
}

const char *port_type_name(enum port_type t);
/* Returns 0 and sets *t, or -EINVAL for an unknown name. */
int port_type_parse(const char *s, enum port_type *t);
const char *port_role_name(enum port_role r);
int port_role_parse(const char *s, enum port_role *r);

/*
 * Create and start a port. On failure returns a negative errno and writes a
 * user-facing message (what is wrong and how to fix it) into err; nothing is
 * left behind (no device, no registry entry).
 */
int port_create(const struct port_spec *spec, struct rte_mempool *pool, uint16_t n_txq,
		struct port **out, char *err, size_t errlen);
/* Stop, close and unplug; frees p. The caller has unpublished it first. */
void port_destroy(struct port *p);

struct port *port_find(const char *name);
struct port *port_by_id(uint16_t port_id);
/* Registry walk in creation order; returns the number of ports written. */
unsigned int port_list(struct port **out, unsigned int max);

/*
 * Whether ports created from now on ask their driver for RX interrupts
 * (rte_eth_conf.intr_conf.rxq) where DPDK 22.11 offers them: net_tap and PCI
 * devices (type dpdk). Off by default; dpnetd turns it on for poll mode
 * adaptive with interrupts (dataplane/worker.c). A device that refuses them is
 * set up again without: a port never fails for want of interrupts.
 */
void port_set_rx_intr(bool on);

/* "up"/"down" and speed, without waiting. */
int port_link(const struct port *p, struct rte_eth_link *link);

#endif /* DPNET_PORT_H */
