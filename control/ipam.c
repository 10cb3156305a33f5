/*
 * ipam.c - per-network IPv4 pools: a bitmap over the subnet. See ipam.h.
 *
 * The network and broadcast addresses and the gateway are marked taken when
 * the pool is made, so allocation never has to special-case them; `used`
 * counts only what was handed out. Allocation scans 64-bit words from the
 * first word of the range that may still have a free bit (hint), so filling a
 * /16 is linear overall, not quadratic; an exhausted pool answers -ENOSPC
 * after one scan.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipam.h"

static uint32_t
ipam_mask(uint8_t len)
{
	return len == 0 ? 0 : ~(uint32_t)0 << (32 - len);
}

static char *
ipam_fmt(uint32_t ip, char *buf, size_t len)
{
	struct in_addr in = { .s_addr = htonl(ip) };

	if (inet_ntop(AF_INET, &in, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

static bool
ipam_bit(const struct ipam *p, uint32_t off)
{
	return (p->bits[off / 64] >> (off % 64)) & 1;
}

static void
ipam_set(struct ipam *p, uint32_t off, bool v)
{
	if (v)
		p->bits[off / 64] |= (uint64_t)1 << (off % 64);
	else
		p->bits[off / 64] &= ~((uint64_t)1 << (off % 64));
}

/* Network and broadcast exist from /30 down; /31 and /32 use every address. */
static bool
ipam_has_bcast(uint8_t prefix_len)
{
	return prefix_len <= 30;
}

int
ipam_init(struct ipam *p, uint32_t subnet, uint8_t prefix_len, uint32_t gateway,
	  uint32_t range, uint8_t range_len, char *err, size_t errlen)
{
	uint32_t mask = ipam_mask(prefix_len);
	char a[16], b[16];

	memset(p, 0, sizeof(*p));
	if (prefix_len < IPAM_MIN_PREFIX || prefix_len > 32) {
		snprintf(err, errlen, "subnet %s/%u: the prefix length must be %d to 32",
			 ipam_fmt(subnet, a, sizeof(a)), prefix_len, IPAM_MIN_PREFIX);
		return -EINVAL;
	}
	if ((subnet & ~mask) != 0) {
		snprintf(err, errlen, "subnet %s/%u has host bits set: use %s/%u",
			 ipam_fmt(subnet, a, sizeof(a)), prefix_len,
			 ipam_fmt(subnet & mask, b, sizeof(b)), prefix_len);
		return -EINVAL;
	}
	if (range_len != 0) {
		uint32_t rmask = ipam_mask(range_len);

		if (range_len < prefix_len || range_len > 32 || (range & mask) != subnet ||
		    (range & ~rmask) != 0) {
			snprintf(err, errlen, "ip-range %s/%u is not inside the subnet %s/%u",
				 ipam_fmt(range, a, sizeof(a)), range_len,
				 ipam_fmt(subnet, b, sizeof(b)), prefix_len);
			return -EINVAL;
		}
	} else {
		range = subnet;
		range_len = prefix_len;
	}
	p->subnet = subnet;
	p->prefix_len = prefix_len;
	p->gateway = gateway;
	p->size = (uint32_t)(((uint64_t)1 << (32 - prefix_len)));
	p->first = range;
	p->last = range | ~ipam_mask(range_len);
	p->bits = calloc((p->size + 63) / 64, sizeof(uint64_t));
	if (p->bits == NULL) {
		snprintf(err, errlen, "out of memory for the address pool of %s/%u",
			 ipam_fmt(subnet, a, sizeof(a)), prefix_len);
		return -ENOMEM;
	}
	if (ipam_has_bcast(prefix_len)) {
		ipam_set(p, 0, true);
		ipam_set(p, p->size - 1, true);
	}
	if (gateway != 0 && (gateway & mask) == subnet)
		ipam_set(p, gateway - subnet, true);
	return 0;
}

void
ipam_fini(struct ipam *p)
{
	free(p->bits);
	p->bits = NULL;
	p->used = 0;
}

int
ipam_alloc(struct ipam *p, uint32_t *ip, char *err, size_t errlen)
{
	uint32_t lo = p->first - p->subnet, hi = p->last - p->subnet; /* offsets, inclusive */
	char a[16];

	for (uint32_t w = lo / 64; w <= hi / 64; w++) {
		uint64_t free_bits = ~p->bits[w];

		if (free_bits == 0)
			continue;
		/* Mask out the bits of the word outside [lo, hi]. */
		if (w == lo / 64)
			free_bits &= ~(uint64_t)0 << (lo % 64);
		if (w == hi / 64 && hi % 64 != 63)
			free_bits &= ((uint64_t)1 << (hi % 64 + 1)) - 1;
		if (free_bits != 0) {
			uint32_t off = w * 64 + (uint32_t)__builtin_ctzll(free_bits);

			ipam_set(p, off, true);
			p->used++;
			*ip = p->subnet + off;
			return 0;
		}
	}
	snprintf(err, errlen, "no available IPv4 addresses on this network's address pools "
		 "(%s/%u): remove a container, or use a network with a larger subnet",
		 ipam_fmt(p->subnet, a, sizeof(a)), p->prefix_len);
	return -ENOSPC;
}

int
ipam_take(struct ipam *p, uint32_t ip, char *err, size_t errlen)
{
	uint32_t mask = ipam_mask(p->prefix_len);
	char a[16], b[16];

	if ((ip & mask) != p->subnet) {
		snprintf(err, errlen, "invalid address %s: it does not belong to the network's "
			 "subnet %s/%u; pick an --ip inside it", ipam_fmt(ip, a, sizeof(a)),
			 ipam_fmt(p->subnet, b, sizeof(b)), p->prefix_len);
		return -EINVAL;
	}
	if (ipam_has_bcast(p->prefix_len) && (ip == p->subnet || ip == (p->subnet | ~mask))) {
		snprintf(err, errlen, "invalid address %s: it is the %s address of %s/%u; pick "
			 "another --ip", ipam_fmt(ip, a, sizeof(a)),
			 ip == p->subnet ? "network" : "broadcast",
			 ipam_fmt(p->subnet, b, sizeof(b)), p->prefix_len);
		return -EINVAL;
	}
	if (ip == p->gateway) {
		snprintf(err, errlen, "Address already in use: %s is the network's gateway; "
			 "pick another --ip", ipam_fmt(ip, a, sizeof(a)));
		return -EADDRINUSE;
	}
	if (ipam_bit(p, ip - p->subnet)) {
		snprintf(err, errlen, "Address already in use: %s is taken by another "
			 "container; pick another --ip or leave it out",
			 ipam_fmt(ip, a, sizeof(a)));
		return -EADDRINUSE;
	}
	ipam_set(p, ip - p->subnet, true);
	p->used++;
	return 0;
}

int
ipam_free(struct ipam *p, uint32_t ip)
{
	uint32_t mask = ipam_mask(p->prefix_len);

	if (p->bits == NULL || (ip & mask) != p->subnet || ip == p->gateway)
		return -ENOENT;
	if (ipam_has_bcast(p->prefix_len) && (ip == p->subnet || ip == (p->subnet | ~mask)))
		return -ENOENT;
	if (!ipam_bit(p, ip - p->subnet))
		return -ENOENT;
	ipam_set(p, ip - p->subnet, false);
	p->used--;
	return 0;
}

bool
ipam_in_use(const struct ipam *p, uint32_t ip)
{
	if (p->bits == NULL || (ip & ipam_mask(p->prefix_len)) != p->subnet)
		return false;
	return ipam_bit(p, ip - p->subnet);
}

uint32_t
ipam_available(const struct ipam *p)
{
	uint32_t n = 0;

	for (uint64_t ip = p->first; ip <= p->last; ip++)
		n += !ipam_bit(p, (uint32_t)ip - p->subnet);
	return n;
}

void
ipam_mac(uint32_t ip, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x42;
	mac[2] = (uint8_t)(ip >> 24);
	mac[3] = (uint8_t)(ip >> 16);
	mac[4] = (uint8_t)(ip >> 8);
	mac[5] = (uint8_t)ip;
}

int
ipam_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int v[6];
	char c1, c2, c3, c4, c5, tail;
	bool zero = true;

	if (strlen(s) != 17)
		return -EINVAL;
	if (sscanf(s, "%2x%c%2x%c%2x%c%2x%c%2x%c%2x%c", &v[0], &c1, &v[1], &c2, &v[2], &c3,
		   &v[3], &c4, &v[4], &c5, &v[5], &tail) != 11)
		return -EINVAL;
	if (c1 != c2 || c2 != c3 || c3 != c4 || c4 != c5 || (c1 != ':' && c1 != '-'))
		return -EINVAL;
	for (int i = 0; i < 17; i++)
		if (i % 3 != 2 && !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
				     (s[i] >= 'A' && s[i] <= 'F')))
			return -EINVAL;
	for (int i = 0; i < 6; i++) {
		mac[i] = (uint8_t)v[i];
		zero = zero && v[i] == 0;
	}
	if (zero || (mac[0] & 1) != 0)
		return -EINVAL;
	return 0;
}
