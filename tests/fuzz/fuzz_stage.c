/*
 * fuzz_stage.c - libFuzzer targets for the stages that read headers, built once
 * per stage with FZ_MODE (tests/fuzz/meson.build):
 *
 *   FZ_BRIDGE  frames as they come, on any port: parse + bridge (learning,
 *              flooding, VLAN/QinQ, multicast), and whatever reaches a gateway
 *   FZ_ARP     the EtherType made ARP and the destination the gateway's MAC or
 *              broadcast: the ARP stage (answers, proxy ARP, punts to control)
 *   FZ_L3      no NAT rules; the destination made the gateway's MAC, the
 *              EtherType IPv4, the IPv4 header and ICMP checksums made right:
 *              routing, TTL, ICMP errors and echo replies, fragments, isolation
 *   FZ_NAT     the same fix-ups with published ports and MASQUERADE: conntrack
 *              (TCP/UDP/ICMP state, a 64-entry table), DNAT, SNAT, hairpin, NAT
 *              of quoted packets in ICMP errors
 *   FZ_OFFLOAD as FZ_NAT, each frame with an offload description
 *              (dataplane/offload.h) from 8 bytes before it; ports 1 and 4 take
 *              partial checksums and large segments, the others nothing: the
 *              parser's validation, finishing (rte_gso, checksums) on TX and
 *              flood, NAT of partial sums, L3's MTU rule by segment
 *
 * An input is up to FZ_MAX_RECORDS frames (fuzz_dp.h), all put on their ports'
 * RX rings and run through one worker iteration (so a burst may hold a whole
 * exchange); the tables persist between inputs. A set ctl bit switches a fix-up
 * off: 0x80 the destination MAC, 0x40 the EtherType, 0x20 the checksums.
 *
 * FZ_OFFLOAD's description, after the record's length: [flags][l2_len]
 * [l3_len hi][l3_len lo][l4_len][tso_segsz hi][tso_segsz lo][fix]. flags: bits
 * 0-1 the L4 checksum kind (RTE_MBUF_F_TX_L4_MASK's values), bit 2 TX_IPV4,
 * bit 3 TX_IPV6, bit 4 TX_TCP_SEG. fix bit 0: take l2_len, l3_len and l4_len
 * from the frame's headers instead (untagged IPv4), so the deep paths are
 * reached; fix bit 1: the destination MAC left as it is (bridged frames).
 */
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dataplane/offload.h"
#include "fuzz_dp.h"

#define FZ_BRIDGE 1
#define FZ_ARP 2
#define FZ_L3 3
#define FZ_NAT 4
#define FZ_OFFLOAD 5
#define FZ_DESC_LEN 8

#ifndef FZ_MODE
#error "FZ_MODE must be set"
#endif

#define FZ_STR2(x) #x
#define FZ_STR(x) FZ_STR2(x)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (FZ_MODE == FZ_OFFLOAD) {
		fz_port_offloads[1] = DP_PORT_OFF_CSUM | DP_PORT_OFF_TSO4;
		fz_port_offloads[4] = DP_PORT_OFF_CSUM | DP_PORT_OFF_TSO4;
	}
	fz_dp_init("fuzz_stage" FZ_STR(FZ_MODE), FZ_MODE == FZ_NAT || FZ_MODE == FZ_OFFLOAD);
	return 0;
}

static uint16_t
fz_cksum_fold(uint32_t sum)
{
	sum = (sum & 0xFFFF) + (sum >> 16);
	sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Offset of the L3 header behind up to two VLAN tags, and its EtherType. */
static size_t
fz_l3_off(const uint8_t *f, size_t len, uint16_t *type)
{
	size_t off = 12;

	*type = 0;
	for (int tags = 0; off + 2 <= len; tags++) {
		uint16_t t = (uint16_t)(f[off] << 8 | f[off + 1]);

		if ((t == RTE_ETHER_TYPE_VLAN || t == RTE_ETHER_TYPE_QINQ) && tags < 2) {
			off += 4;
			continue;
		}
		*type = t;
		return off + 2;
	}
	return len;
}

/* Right IPv4 header and ICMP checksums (the stages that terminate packets check them). */
static void
fz_fix_cksums(uint8_t *f, size_t len)
{
	uint16_t type, c;
	size_t l3 = fz_l3_off(f, len, &type), ihl, tot;
	struct rte_ipv4_hdr *ip;

	if (type != RTE_ETHER_TYPE_IPV4 || l3 + sizeof(*ip) > len)
		return;
	ip = (struct rte_ipv4_hdr *)(f + l3);
	ihl = (size_t)(ip->version_ihl & 0x0f) * 4;
	if (ihl < sizeof(*ip) || l3 + ihl > len)
		return;
	ip->hdr_checksum = 0;
	c = fz_cksum_fold(rte_raw_cksum(ip, ihl));
	ip->hdr_checksum = c;
	tot = rte_be_to_cpu_16(ip->total_length);
	if (tot > len - l3)
		tot = len - l3;
	if (ip->next_proto_id == IPPROTO_ICMP && tot >= ihl + 4 &&
	    (rte_be_to_cpu_16(ip->fragment_offset) & 0x3FFF) == 0) {
		uint8_t *icmp = f + l3 + ihl;

		icmp[2] = icmp[3] = 0;
		c = fz_cksum_fold(rte_raw_cksum(icmp, tot - ihl));
		memcpy(icmp + 2, &c, 2);
	}
}

static void
fz_fixup(uint8_t ctl, unsigned int port, uint8_t *f, size_t len)
{
	uint16_t dom = fz_dom_of[port];

	if (FZ_MODE == FZ_BRIDGE || len < RTE_ETHER_HDR_LEN)
		return;
	if (!(ctl & 0x80)) {
		if (FZ_MODE == FZ_ARP && (ctl & 0x08))
			memset(f, 0xff, RTE_ETHER_ADDR_LEN);
		else
			memcpy(f, &fz_gw_mac[dom], RTE_ETHER_ADDR_LEN);
	}
	if (!(ctl & 0x40)) {
		uint16_t t = FZ_MODE == FZ_ARP ? RTE_ETHER_TYPE_ARP : RTE_ETHER_TYPE_IPV4;

		f[12] = (uint8_t)(t >> 8);
		f[13] = (uint8_t)t;
	}
	if (FZ_MODE != FZ_ARP && !(ctl & 0x20))
		fz_fix_cksums(f, len);
}

/* FZ_OFFLOAD: the description d (above) on m, whose frame is f. */
static void
fz_offload(struct rte_mbuf *m, const uint8_t *d, const uint8_t *f, size_t len)
{
	m->ol_flags |= (uint64_t)(d[0] & 3) << 52 |
		(d[0] & 4 ? RTE_MBUF_F_TX_IPV4 : 0) | (d[0] & 8 ? RTE_MBUF_F_TX_IPV6 : 0) |
		(d[0] & 16 ? RTE_MBUF_F_TX_TCP_SEG : 0);
	m->l2_len = d[1];
	m->l3_len = (uint16_t)(d[2] << 8 | d[3]);
	m->l4_len = d[4];
	m->tso_segsz = (uint16_t)(d[5] << 8 | d[6]);
	if ((d[7] & 1) && len >= 14 + 20 + 20) {
		m->l2_len = 14;
		m->l3_len = (uint64_t)(f[14] & 0x0f) * 4;
		if (14 + m->l3_len + 13 < len)
			m->l4_len = (uint64_t)(f[14 + m->l3_len + 12] >> 4) * 4;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_Static_assert(RTE_MBUF_F_TX_L4_MASK == 3ULL << 52, "the L4 kinds are bits 52-53");
	static uint8_t frame[FZ_MAX_FRAME];
	unsigned int records = 0;

	while (size >= 3 && records < FZ_MAX_RECORDS) {
		uint8_t ctl = data[0];
		size_t len = (size_t)data[1] << 8 | data[2], split = 0;
		unsigned int port = (ctl & 7u) % FZ_NPORTS;
		uint8_t desc[FZ_DESC_LEN] = {0};
		struct rte_mbuf *m;

		data += 3;
		size -= 3;
		if (FZ_MODE == FZ_OFFLOAD) {
			size_t dl = RTE_MIN(size, (size_t)FZ_DESC_LEN);

			memcpy(desc, data, dl);
			data += dl;
			size -= dl;
			/* Bridged frames keep their destination MAC. */
			if (desc[7] & 2)
				ctl |= 0x80;
		}
		if (len > size)
			len = size;
		if (len > FZ_MAX_FRAME)
			len = FZ_MAX_FRAME;
		memcpy(frame, data, len);
		data += len;
		size -= len;
		records++;
		fz_fixup(ctl, port, frame, len);
		if ((ctl & FZ_C_SPLIT) && len > 1)
			split = 1 + (size_t)frame[len - 1] % (len - 1);
		m = fz_mbuf(frame, len, split);
		if (m != NULL && FZ_MODE == FZ_OFFLOAD)
			fz_offload(m, desc, frame, len);
		if (m != NULL)
			fz_inject(port, m);
	}
	fz_run();
	return 0;
}
