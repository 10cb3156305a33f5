/*
 * ct_icmp.c - ICMP echo in connection tracking: an echo request starts a
 * connection keyed by its id, echo replies match it from the other side, and
 * it lives icmp_timeout_s (30 s, Linux's default) after its last packet.
 * Other ICMP messages are not connections (errors belong to the connection of
 * the header they quote; the NAT stage looks that up). Pure functions.
 */
#include <errno.h>

#include "ct_private.h"

int
ct_icmp_new(const struct ct *ct, uint8_t flags, uint32_t *st)
{
	RTE_SET_USED(ct);
	if (!(flags & CT_ICMP_REQUEST))
		return -EINVAL;   /* a reply with no request: not ours to start */
	*st = 0;
	return 0;
}

uint32_t
ct_icmp_next(uint32_t st, unsigned int dir, uint8_t flags)
{
	RTE_SET_USED(flags);
	return dir == CT_DIR_REPLY ? st | CT_F_REPLIED : st;
}

uint64_t
ct_icmp_timeout(const struct ct *ct, uint32_t st)
{
	RTE_SET_USED(st);
	return ct->icmp_tmo_tsc;
}
