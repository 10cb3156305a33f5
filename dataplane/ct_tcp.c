/*
 * ct_tcp.c - the TCP state machine of connection tracking, from the flags of
 * each packet and its direction (no sequence numbers or windows: see ct.h).
 *
 * It follows Linux's nf_conntrack_proto_tcp.c closely enough to apply the same
 * per-state timeouts:
 *   first packet  SYN -> SYN_SENT; a bare ACK -> ESTABLISHED when tcp_loose
 *                 (pick-up of a connection that existed before us); anything
 *                 else (RST, SYN-ACK, FIN, no flags) starts nothing.
 *   SYN_SENT      SYN-ACK from the reply side -> SYN_RECV
 *   SYN_RECV      ACK from the original side -> ESTABLISHED (assured)
 *   SYN_RECV, ESTABLISHED   FIN either way -> FIN_WAIT
 *   FIN_WAIT      ACK from the side that has not sent a FIN -> CLOSE_WAIT;
 *                 a FIN from that side -> LAST_ACK (both closed)
 *   CLOSE_WAIT    FIN (the second one) -> LAST_ACK
 *   LAST_ACK      ACK -> TIME_WAIT
 *   TIME_WAIT, CLOSE        a new SYN from the original side reopens -> SYN_SENT
 *   any state     RST -> CLOSE
 * A packet that fits no rule leaves the state as it is (and still refreshes the
 * last-seen time). Pure functions: safe on any thread.
 */
#include <errno.h>

#include "ct_private.h"

#define CT_TCP_FLAGS_MASK (CT_F_REPLIED | CT_F_ASSURED | CT_F_FIN_ORIG | CT_F_FIN_REPLY)

int
ct_tcp_new(const struct ct *ct, uint8_t flags, uint32_t *st)
{
	uint8_t f = flags & (CT_TCP_SYN | CT_TCP_ACK | CT_TCP_FIN | CT_TCP_RST);

	if (f == CT_TCP_SYN) {
		*st = CT_TCP_SYN_SENT;
		return 0;
	}
	if (f == CT_TCP_ACK && ct->tcp_loose) {
		*st = CT_TCP_ESTABLISHED | CT_F_ASSURED;
		return 0;
	}
	return -EINVAL;
}

uint32_t
ct_tcp_next(uint32_t st, unsigned int dir, uint8_t flags)
{
	uint32_t state = CT_ST_STATE(st), fl = st & CT_TCP_FLAGS_MASK;
	uint32_t fin_mine = dir == CT_DIR_ORIG ? CT_F_FIN_ORIG : CT_F_FIN_REPLY;
	uint32_t fin_other = dir == CT_DIR_ORIG ? CT_F_FIN_REPLY : CT_F_FIN_ORIG;

	if (flags & CT_TCP_RST)
		return CT_TCP_CLOSE | fl;
	if (flags & CT_TCP_SYN) {
		if (!(flags & CT_TCP_ACK)) {
			/* A new connection on the same tuple after the old one closed. */
			if (dir == CT_DIR_ORIG &&
			    (state == CT_TCP_TIME_WAIT || state == CT_TCP_CLOSE))
				return CT_TCP_SYN_SENT;
			return st;
		}
		if (dir == CT_DIR_REPLY && state == CT_TCP_SYN_SENT)
			return CT_TCP_SYN_RECV | fl | CT_F_REPLIED;
		return st;
	}
	if (dir == CT_DIR_REPLY)
		fl |= CT_F_REPLIED;
	if (flags & CT_TCP_FIN) {
		fl |= fin_mine;
		switch (state) {
		case CT_TCP_SYN_RECV:
		case CT_TCP_ESTABLISHED:
			return CT_TCP_FIN_WAIT | fl;
		case CT_TCP_FIN_WAIT:
			return ((fl & fin_other) ? CT_TCP_LAST_ACK : CT_TCP_FIN_WAIT) | fl;
		case CT_TCP_CLOSE_WAIT:
			return CT_TCP_LAST_ACK | fl;
		default:
			return state | fl;
		}
	}
	if (flags & CT_TCP_ACK) {
		switch (state) {
		case CT_TCP_SYN_RECV:
			if (dir == CT_DIR_ORIG)
				return CT_TCP_ESTABLISHED | fl | CT_F_ASSURED;
			break;
		case CT_TCP_FIN_WAIT:
			if (!(fl & fin_mine))
				return CT_TCP_CLOSE_WAIT | fl;
			break;
		case CT_TCP_LAST_ACK:
			return CT_TCP_TIME_WAIT | fl;
		default:
			break;
		}
	}
	return state | fl;
}

uint64_t
ct_tcp_timeout(const struct ct *ct, uint32_t st)
{
	uint32_t state = CT_ST_STATE(st);

	return ct->tcp_tmo_tsc[state < CT_TCP_MAX ? state : CT_TCP_CLOSE];
}
