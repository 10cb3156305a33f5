/*
 * fuzz_vxlan.c - libFuzzer target for overlays (dataplane/vxlan.h): the decap
 * path with arbitrary VXLAN payloads and whole frames, and the encap path
 * with the frames local ports send into an overlay.
 *
 * The data plane is fuzz_dp.c's, plus: network B (domain 1, port 2) is an
 * overlay with VNI 42 whose peers are the uplink's client 192.168.1.50 (an
 * on-link neighbour), 10.99.0.5 (a route via an unresolved next hop) and
 * 203.0.113.9 (routed by the default route); the uplink's domain is the VTEP's
 * (192.168.1.10, port 4789); a few remote MACs behind those peers; and one
 * ARP-suppression entry. Tables persist between inputs: learned remote MACs
 * too.
 *
 * Input: records [ctl][len hi][len lo][bytes] as fuzz_dp.h says, up to
 * FZ_MAX_RECORDS, run through one worker iteration. ctl & 0x80: bytes are a
 * whole frame for port ctl & 7 (as fuzz_bridge). Otherwise bytes are the UDP
 * payload of a VXLAN packet that the target wraps in Ethernet/IPv4/UDP (right
 * lengths and checksum) to our VTEP and injects on the uplink: from a peer,
 * or from a stranger when ctl & 0x08; to port 4789, or 8472 when ctl & 0x04;
 * ctl & 0x40 keeps the payload's first 8 bytes as they are, else they become
 * a valid VXLAN header for VNI 42 (so the inner frame is what is fuzzed);
 * ctl & 0x20 breaks the outer checksum; ctl & FZ_C_SPLIT splits the frame.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "dataplane/fdb.h"
#include "dataplane/l3.h"
#include "dataplane/vxlan.h"
#include "fuzz_dp.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define FZ_VNI 42
#define FZ_OUTER 42     /* Ethernet + IPv4 + UDP in front of the payload */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t fz_peers[] = {IP4(192, 168, 1, 50), IP4(10, 99, 0, 5),
				    IP4(203, 0, 113, 9)};
static const uint32_t fz_vtep = IP4(192, 168, 1, 10);

static void
fz_die(const char *what)
{
	fprintf(stderr, "fuzz_vxlan: %s\n", what);
	abort();
}

static uint16_t
fz_cksum(const uint8_t *p, size_t len)
{
	uint32_t s = rte_raw_cksum(p, len);

	s = (s & 0xFFFF) + (s >> 16);
	return (uint16_t)~s;
}

/* Wrap payload (len bytes) in the outer headers to our VTEP; returns the length. */
static size_t
fz_wrap(uint8_t ctl, uint8_t *f, const uint8_t *payload, size_t len)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint32_t src = ctl & 0x08 ? IP4(192, 168, 1, 77) : fz_peers[ctl & 1];

	memset(f, 0, FZ_OUTER);
	eth->dst_addr = fz_gw_mac[FZ_DOM_U];
	eth->src_addr = (struct rte_ether_addr){{0x02, 0, 0, 0, 0x99, 0x50}};
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + 8 + len));
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(fz_vtep);
	ip->hdr_checksum = fz_cksum((const uint8_t *)ip, sizeof(*ip));
	if (ctl & 0x20)
		ip->hdr_checksum ^= RTE_BE16(0x0101);
	udp->src_port = RTE_BE16(49152);
	udp->dst_port = ctl & 0x04 ? RTE_BE16(8472) : RTE_BE16(VXLAN_PORT_DEFAULT);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + len));
	memcpy(f + FZ_OUTER, payload, len);
	if (!(ctl & 0x40) && len >= 8) {
		static const uint8_t hdr[8] = {0x08, 0, 0, 0, 0, 0, FZ_VNI, 0};

		memcpy(f + FZ_OUTER, hdr, sizeof(hdr));
	}
	return FZ_OUTER + len;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct rte_ether_addr remote[] = {
		{{0x02, 0x42, 0xac, 0x12, 0, 0x51}}, {{0x02, 0x42, 0xac, 0x12, 0, 0x52}},
		{{0x02, 0x42, 0xac, 0x12, 0, 0x53}},
	};
	const uint32_t arp_ip = IP4(172, 18, 0, 51);
	const struct vxlan_net_spec spec = {.domain = FZ_DOM_B, .vni = FZ_VNI,
		.n_peers = RTE_DIM(fz_peers), .peers = fz_peers, .n_arp = 1, .arp_ip = &arp_ip,
		.arp_mac = &remote[0]};
	const struct vxlan_params prm = {.udp_port = VXLAN_PORT_DEFAULT, .ttl = 64, .df = true};
	struct dp_view *v;
	uint64_t now;

	(void)argc;
	(void)argv;
	fz_dp_init("fuzz_vxlan", 0);
	v = dp_view_clone(fz_dp);
	if (v == NULL)
		fz_die("dp_view_clone");
	v->nets[FZ_DOM_B].flags |= DP_NET_F_OVERLAY;
	v->nets[FZ_DOM_B].mtu = 1450;
	v->nets[FZ_DOM_U].flags |= DP_NET_F_VTEP;
	dp_view_publish(fz_dp, v);
	if (vxlan_configure(fz_dp, &prm) != 0 || vxlan_set(fz_dp, &spec, 1) != 0)
		fz_die("vxlan_set");
	now = rte_rdtsc();
	for (unsigned int i = 0; i < RTE_DIM(remote); i++)
		if (fdb_add_remote(fz_dp->fdb, FZ_DOM_B, &remote[i], fz_peers[i], true, now) != 0)
			fz_die("fdb_add_remote");
	fz_run();
	/* The set-up must reach decapsulation: one valid frame, one decap. */
	{
		static const uint8_t payload[8 + 60] = {0x08, 0, 0, 0, 0, 0, FZ_VNI, 0,
			0x02, 0x42, 0xac, 0x12, 0, 0x02, 0x02, 0x42, 0xac, 0x12, 0, 0x52,
			0x88, 0xb5};
		static uint8_t f[FZ_OUTER + sizeof(payload)];
		uint64_t rx0 = fz_ctx->cnt.ports[DP_PORT_VXLAN].rx_pkts;
		size_t len = fz_wrap(0, f, payload, sizeof(payload));

		fz_inject(4, fz_mbuf(f, len, 0));
		fz_run();
		if (fz_ctx->cnt.ports[DP_PORT_VXLAN].rx_pkts != rx0 + 1)
			fz_die("the set-up does not decapsulate a valid frame");
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[FZ_MAX_FRAME + FZ_OUTER];
	unsigned int records = 0;

	while (size >= 3 && records < FZ_MAX_RECORDS) {
		uint8_t ctl = data[0];
		size_t len = (size_t)data[1] << 8 | data[2], split = 0, flen;
		unsigned int port;
		struct rte_mbuf *m;

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		if (len > FZ_MAX_FRAME - FZ_OUTER)
			len = FZ_MAX_FRAME - FZ_OUTER;
		records++;
		if (ctl & 0x80) {
			memcpy(frame, data, len);
			flen = len;
			port = (ctl & 7u) % FZ_NPORTS;
		} else {
			flen = fz_wrap(ctl, frame, data, len);
			port = 4;
		}
		data += len;
		size -= len;
		if ((ctl & FZ_C_SPLIT) && flen > 1)
			split = 1 + (size_t)frame[flen - 1] % (flen - 1);
		m = fz_mbuf(frame, flen, split);
		if (m != NULL)
			fz_inject(port, m);
	}
	fz_run();
	return 0;
}
