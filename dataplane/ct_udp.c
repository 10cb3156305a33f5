/*
 * ct_udp.c - UDP in connection tracking: no state but "a reply was seen".
 * Like Linux, an unreplied flow lives udp_timeout_s (30 s) after its last
 * packet; once the other side has answered it is a stream and lives
 * udp_stream_timeout_s (120 s). (Linux also waits a couple of seconds of
 * two-way traffic before calling it assured; replied is enough here.)
 * Pure functions: safe on any thread.
 */
#include "ct_private.h"

int
ct_udp_new(const struct ct *ct, uint8_t flags, uint32_t *st)
{
	RTE_SET_USED(ct);
	RTE_SET_USED(flags);
	*st = 0;
	return 0;
}

uint32_t
ct_udp_next(uint32_t st, unsigned int dir, uint8_t flags)
{
	RTE_SET_USED(flags);
	if (dir == CT_DIR_REPLY)
		return st | CT_F_REPLIED | CT_F_ASSURED;
	return st;
}

uint64_t
ct_udp_timeout(const struct ct *ct, uint32_t st)
{
	return (st & CT_F_REPLIED) ? ct->udp_stream_tmo_tsc : ct->udp_tmo_tsc;
}
