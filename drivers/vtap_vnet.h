/*
 * vtap_vnet.h - the virtio-net header of a vtap port (vtap.h) and dpnet's
 * offload convention (dataplane/offload.h), one into the other.
 *
 * Pure functions over one mbuf and one header: no EAL, no I/O, so the unit
 * suite (tests/unit/test_vtap.c) runs them on mbufs that live on its stack.
 * vtap_vnet_rx() checks a header the kernel wrote against the frame it came
 * with and refuses what offload.h cannot express (vtap.h lists it);
 * vtap_vnet_tx() builds the header for a frame dpnet writes to the kernel.
 * Header fields are little-endian (a TAP's default on little-endian hosts,
 * virtio 1.0's order).
 *
 * Thread safety: none needed; the caller owns the mbuf.
 */
#ifndef DPNET_VTAP_VNET_H
#define DPNET_VTAP_VNET_H

#include <linux/virtio_net.h>
#include <rte_mbuf.h>

/* What the kernel wrote before each frame (TUNSETVNETHDRSZ). */
#define VTAP_VNET_HDR_LEN ((int)sizeof(struct virtio_net_hdr))

/*
 * Set m's ol_flags, l2_len, l3_len, l4_len and tso_segsz from h for the
 * single-segment frame in m (offload.h). A header without
 * VIRTIO_NET_HDR_F_NEEDS_CSUM and without GSO leaves m without offload bits.
 * Returns 0, or -EINVAL when the header is refused: a gso_type other than
 * NONE or TCPV4 (the ECN bit included), GSO without a partial checksum or
 * with gso_size 0 or not over TCP/IPv4, a checksum start or offset outside
 * the frame or not at the checksum field of the TCP or UDP header that the
 * IPv4/IPv6 header before it announces, a frame shorter than an Ethernet
 * header. m is left untouched then.
 */
int vtap_vnet_rx(const struct virtio_net_hdr *h, struct rte_mbuf *m);

/* The header for m (offload.h's convention in, virtio's out); all zero for a
 * frame without offload bits. */
void vtap_vnet_tx(const struct rte_mbuf *m, struct virtio_net_hdr *h);

#endif /* DPNET_VTAP_VNET_H */
