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
 *
 * An input is up to FZ_MAX_RECORDS frames (fuzz_dp.h), all put on their ports'
 * RX rings and run through one worker iteration (so a burst may hold a whole
 * exchange); the tables persist between inputs. A set ctl bit switches a fix-up
 * off: 0x80 the destination MAC, 0x40 the EtherType, 0x20 the checksums.
 */
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "fuzz_dp.h"

#define FZ_BRIDGE 1
#define FZ_ARP 2
#define FZ_L3 3
#define FZ_NAT 4

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
	fz_dp_init("fuzz_stage" FZ_STR(FZ_MODE), FZ_MODE == FZ_NAT);
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[FZ_MAX_FRAME];
	unsigned int records = 0;

	while (size >= 3 && records < FZ_MAX_RECORDS) {
		uint8_t ctl = data[0];
		size_t len = (size_t)data[1] << 8 | data[2], split = 0;
		unsigned int port = (ctl & 7u) % FZ_NPORTS;
		struct rte_mbuf *m;

		data += 3;
		size -= 3;
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
		if (m != NULL)
			fz_inject(port, m);
	}
	fz_run();
	return 0;
}
