/*
 * vtap.h - a TAP port with virtio-net headers: container interfaces that
 * carry 64 KB TCP segments and partial checksums through the switch
 * (dataplane/offload.h), one read() or write() per segment.
 *
 * Why not net_tap: DPDK 22.11's net_tap opens its TAP without IFF_VNET_HDR,
 * so the kernel must segment and checksum every frame before handing it over
 * (one syscall per 1500 bytes, and a SIGIO per burst); vhost-net (virtio_user's
 * kernel backend) is the other way and needs /dev/vhost-net, which a host may
 * not have. A vtap is what QEMU's TAP backend does without vhost.
 *
 * Shape: the port is a real ethdev - net_ring, made with rte_eth_from_rings()
 * from one RX ring and one TX ring per queue - so the registry, the view,
 * counters, `dpctl port ls|stats` and the pipeline treat it like any port. The
 * kernel side is a TAP opened with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR |
 * IFF_MULTI_QUEUE (one fd per queue, O_NONBLOCK), TUNSETVNETHDRSZ =
 * sizeof(struct virtio_net_hdr) (10), TUNSETOFFLOAD = TUN_F_CSUM | TUN_F_TSO4
 * (so the kernel sends TCP/IPv4 segments and partial checksums, nothing else:
 * no TSO6, UFO or USO), and the interface's gso_max_size lowered so that a
 * segment and its Ethernet header fit one mbuf of the vtap pool (below). The
 * worker that polls a queue services it (dataplane/worker.c, pipeline.c):
 *  - vtap_rx_fill() before rte_eth_rx_burst on that queue: reads up to a burst
 *    of frames from the fd (stops at EAGAIN), each into one mbuf; turns the
 *    virtio-net header into the offload convention (offload.h: ol_flags,
 *    l2_len, l3_len, l4_len, tso_segsz) and enqueues them on the RX ring;
 *  - vtap_tx_drain() after the worker's TX buffers are flushed to the port
 *    (pl_flush): dequeues the TX ring of that worker's queue and writes each
 *    frame with writev(virtio-net header built from ol_flags, the segments).
 * Frames the kernel refuses on write (EAGAIN: its queue is full; other errors)
 * are freed and counted in the port's TX drop counter (vtap_stats), not retried.
 *
 * Buffers: small frames are read into the data plane's pool; frames larger
 * than a pool mbuf (GSO segments) go to a pool of 64 KB mbufs shared by all
 * vtap ports (vtap_init; a count from config, `vtap: {big_mbufs}`), read with
 * readv() into a pool mbuf followed by a big one and, when longer than the
 * first, moved into the big one (one copy of at most 2 KB per 64 KB segment).
 *
 * What the driver refuses from the kernel (freed, counted as rx_bad_vnet in
 * vtap_stats and the port's driver drops): a virtio-net header with a
 * gso_type other than NONE/TCPV4 (ECN bit included), csum_start/csum_offset
 * outside the frame or not at a TCP/UDP checksum field, gso_size 0 on a GSO
 * frame, a frame shorter than an Ethernet header.
 *
 * Thread safety: vtap_create/vtap_destroy on the control thread (the port is
 * unpublished and an RCU grace period has passed before destroy); vtap_rx_fill
 * and vtap_tx_drain for queue q by the one worker that owns q; vtap_stats from
 * control (reads of the workers' counters, a burst stale at worst).
 */
#ifndef DPNET_VTAP_H
#define DPNET_VTAP_H

#include <net/if.h>
#include <stdint.h>
#include <rte_mempool.h>

struct vtap;

/*
 * Can this kernel carry a vtap? Creates and removes a TAP (named dpvprobe<n>)
 * with the flags and offloads a vtap uses and checks that its gso_max_size can
 * be lowered (Linux 5.19 and later). 0, or a negative errno with why.
 */
int vtap_probe(char *why, size_t len);

/* Create the shared big-mbuf pool (once, at start): n mbufs of 64 KB. */
int vtap_init(unsigned int n_big, int socket_id);
void vtap_fini(void);

/*
 * Create the TAP ifname (<= IFNAMSIZ - 1) with n_q queues and its net_ring
 * ethdev named dev_name; *port_id receives the ethdev's id. The interface is
 * left down in the current namespace (the caller moves it and brings it up).
 * On failure returns a negative errno with a user-facing message in err and
 * leaves nothing behind.
 */
int vtap_create(const char *ifname, const char *dev_name, uint16_t n_q,
		struct rte_mempool *pool, struct vtap **out, uint16_t *port_id, char *err,
		size_t errlen);
/* Close the fds, free the ethdev (rte_eth_dev_release via the ring PMD's
 * close/remove) and whatever frames its rings hold. */
void vtap_destroy(struct vtap *vt);

/* Worker side (see above). Return the number of frames moved. */
unsigned int vtap_rx_fill(struct vtap *vt, uint16_t q);
unsigned int vtap_tx_drain(struct vtap *vt, uint16_t q);

/* Queue q's TAP descriptor, for an idle worker to block on (readable when the
 * kernel has frames for the switch; dataplane/dp.h, dp_rxq.wake_fd). Owned by
 * the vtap: never close it. */
int vtap_queue_fd(const struct vtap *vt, uint16_t q);

struct vtap_stats {
	uint64_t rx_gso;        /* segments larger than the MTU received */
	uint64_t rx_csum;       /* frames with a partial checksum received */
	uint64_t rx_bad_vnet;   /* frames refused for their virtio-net header */
	uint64_t rx_no_mbuf;    /* reads skipped: no mbuf (pool or big pool) */
	uint64_t tx_gso;        /* segments written whole to the kernel */
	uint64_t tx_errors;     /* writes the kernel refused (frame dropped) */
};
void vtap_stats(const struct vtap *vt, struct vtap_stats *out);

#endif /* DPNET_VTAP_H */
