/*
 * test_ct.c - connection tracking (dataplane/ct*.c) and the NAT checksum
 * helpers (dataplane/cksum.h).
 *
 * Runs EAL with --no-huge --no-shconf (rte_hash and rte_malloc need it) but no
 * ports: the table is driven directly with keys and an injected clock whose
 * "TSC" runs at HZ ticks per second. Most tables have no RCU variable (slots
 * come back at once); one test attaches a QSBR variable to check that a
 * deleted slot is reused only after a grace period.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_random.h>
#include <rte_rcu_qsbr.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "harness.h"
#include "dataplane/cksum.h"
#include "dataplane/ct.h"
#include "dataplane/ct_private.h"

#define HZ 1000ULL   /* injected clock: one tick per millisecond */
#define S(x) ((uint64_t)(x) * HZ)

#define IP4(a, b, c, d) rte_cpu_to_be_32(((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))

static unsigned int table_no;

static struct ct *
mk_ct(uint32_t max, bool loose, struct rte_rcu_qsbr *qs)
{
	struct ct_params p;
	char name[32];
	struct ct *ct;

	ct_params_default(&p);
	p.max_conns = max;
	p.tsc_hz = HZ;
	p.tcp_loose = loose;
	snprintf(name, sizeof(name), "t%u", table_no++);
	ct = ct_create(name, &p, qs);
	CU_ASSERT_FATAL(ct != NULL);
	return ct;
}

static struct ct_key
key(uint8_t proto, rte_be32_t src, rte_be32_t dst, uint16_t sport, uint16_t dport)
{
	struct ct_key k;

	memset(&k, 0, sizeof(k));
	k.proto = proto;
	k.src_ip = src;
	k.dst_ip = dst;
	k.src_port = rte_cpu_to_be_16(sport);
	k.dst_port = rte_cpu_to_be_16(dport);
	return k;
}

static struct ct_key
rev(const struct ct_key *k)
{
	struct ct_key r;

	ct_key_reverse(k, &r);
	return r;
}

static struct ct_key
nth_key(uint8_t proto, unsigned int i)
{
	return key(proto, IP4(10, 0, (i >> 8) & 0xFF, i & 0xFF), IP4(192, 0, 2, 1),
		   (uint16_t)(1024 + (i >> 16)), 80);
}

/* Parameter validation and the defaults are Linux's. */
static void
test_params(void)
{
	struct ct_params p;

	ct_params_default(&p);
	CU_ASSERT_EQUAL(p.tcp_timeout_s[CT_TCP_SYN_SENT], 120);
	CU_ASSERT_EQUAL(p.tcp_timeout_s[CT_TCP_SYN_RECV], 60);
	CU_ASSERT_EQUAL(p.tcp_timeout_s[CT_TCP_ESTABLISHED], 432000);
	CU_ASSERT_EQUAL(p.tcp_timeout_s[CT_TCP_FIN_WAIT], 120);
	CU_ASSERT_EQUAL(p.tcp_timeout_s[CT_TCP_CLOSE_WAIT], 60);
	CU_ASSERT_EQUAL(p.tcp_timeout_s[CT_TCP_LAST_ACK], 30);
	CU_ASSERT_EQUAL(p.tcp_timeout_s[CT_TCP_TIME_WAIT], 120);
	CU_ASSERT_EQUAL(p.tcp_timeout_s[CT_TCP_CLOSE], 10);
	CU_ASSERT_EQUAL(p.udp_timeout_s, 30);
	CU_ASSERT_EQUAL(p.udp_stream_timeout_s, 120);
	CU_ASSERT_EQUAL(p.icmp_timeout_s, 30);
	p.max_conns = 0;
	errno = 0;
	CU_ASSERT_PTR_NULL(ct_create("bad", &p, NULL));
	CU_ASSERT_EQUAL(errno, EINVAL);
	p.max_conns = 16;
	p.tsc_hz = 0;
	CU_ASSERT_PTR_NULL(ct_create("bad", &p, NULL));
	CU_ASSERT_STRING_EQUAL(ct_tcp_state_names[CT_TCP_TIME_WAIT], "TIME_WAIT");
}

/* Keys from headers: TCP, UDP, ICMP echo; untracked ones refused. */
static void
test_key_from_ipv4(void)
{
	uint8_t buf[64] = {0};
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;
	void *l4 = ip + 1;
	struct rte_tcp_hdr *tcp = l4;
	struct rte_icmp_hdr *icmp = l4;
	struct ct_key k, want;
	uint8_t fl;

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->src_addr = IP4(10, 0, 0, 2);
	ip->dst_addr = IP4(8, 8, 8, 8);
	ip->next_proto_id = IPPROTO_TCP;
	tcp->src_port = rte_cpu_to_be_16(40000);
	tcp->dst_port = rte_cpu_to_be_16(443);
	tcp->tcp_flags = CT_TCP_SYN;
	CU_ASSERT_EQUAL(ct_key_from_ipv4(ip, l4, &k, &fl), 0);
	want = key(IPPROTO_TCP, IP4(10, 0, 0, 2), IP4(8, 8, 8, 8), 40000, 443);
	CU_ASSERT_EQUAL(memcmp(&k, &want, sizeof(k)), 0);
	CU_ASSERT_EQUAL(fl, CT_TCP_SYN);
	ip->next_proto_id = IPPROTO_UDP;
	CU_ASSERT_EQUAL(ct_key_from_ipv4(ip, l4, &k, &fl), 0);
	want.proto = IPPROTO_UDP;
	CU_ASSERT_EQUAL(memcmp(&k, &want, sizeof(k)), 0);
	CU_ASSERT_EQUAL(fl, 0);
	ip->next_proto_id = IPPROTO_ICMP;
	memset(icmp, 0, sizeof(*icmp));
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	icmp->icmp_ident = rte_cpu_to_be_16(77);
	CU_ASSERT_EQUAL(ct_key_from_ipv4(ip, l4, &k, &fl), 0);
	want = key(IPPROTO_ICMP, IP4(10, 0, 0, 2), IP4(8, 8, 8, 8), 77, 77);
	want.icmp_class = CT_ICMP_K_REQUEST;
	CU_ASSERT_EQUAL(memcmp(&k, &want, sizeof(k)), 0);
	CU_ASSERT_EQUAL(fl, CT_ICMP_REQUEST);
	/* The class is in the key and reversing flips it: the reply of 8.8.8.8
	 * has the reversed request's key, a request of 8.8.8.8 does not. */
	{
		struct ct_key rq = k, rr = rev(&k);

		ip->src_addr = IP4(8, 8, 8, 8);
		ip->dst_addr = IP4(10, 0, 0, 2);
		icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
		CU_ASSERT_EQUAL(ct_key_from_ipv4(ip, l4, &k, &fl), 0);
		CU_ASSERT_EQUAL(fl, 0);
		CU_ASSERT_EQUAL(k.icmp_class, CT_ICMP_K_REPLY);
		CU_ASSERT_EQUAL(memcmp(&k, &rr, sizeof(k)), 0);
		icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
		CU_ASSERT_EQUAL(ct_key_from_ipv4(ip, l4, &k, &fl), 0);
		CU_ASSERT(memcmp(&k, &rr, sizeof(k)) != 0);
		rr = rev(&rr);
		CU_ASSERT_EQUAL(memcmp(&rr, &rq, sizeof(rq)), 0);
		ip->src_addr = IP4(10, 0, 0, 2);
		ip->dst_addr = IP4(8, 8, 8, 8);
	}
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	CU_ASSERT_EQUAL(ct_key_from_ipv4(ip, l4, &k, &fl), 0);
	CU_ASSERT_EQUAL(fl, 0);
	icmp->icmp_type = 3;   /* destination unreachable: not a connection */
	CU_ASSERT_EQUAL(ct_key_from_ipv4(ip, l4, &k, &fl), -EINVAL);
	CU_ASSERT_EQUAL(ct_key_from_ipv4(ip, NULL, &k, &fl), -EINVAL);   /* fragment */
	ip->next_proto_id = IPPROTO_GRE;
	CU_ASSERT_EQUAL(ct_key_from_ipv4(ip, l4, &k, &fl), -EINVAL);
}

/* Both directions find one entry; NAT makes the reply key differ. */
static void
test_lookup_both(void)
{
	struct ct *ct = mk_ct(1024, true, NULL);
	struct ct_key o = key(IPPROTO_TCP, IP4(10, 0, 0, 2), IP4(1, 1, 1, 1), 40000, 80);
	struct ct_key r = rev(&o), x;
	struct ct_conn *c, *c2;
	uint8_t dir = 9;

	CU_ASSERT_PTR_NULL(ct_lookup(ct, &o, &dir));
	CU_ASSERT_EQUAL(ct_conn_new(ct, &o, NULL, 0, CT_TCP_SYN, S(1), &c), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_EQUAL(ct_lookup(ct, &o, &dir), c);
	CU_ASSERT_EQUAL(dir, CT_DIR_ORIG);
	CU_ASSERT_PTR_EQUAL(ct_lookup(ct, &r, &dir), c);
	CU_ASSERT_EQUAL(dir, CT_DIR_REPLY);
	CU_ASSERT_EQUAL(ct_count(ct), 1);
	ct_conn_xlate(c, CT_DIR_ORIG, &x);   /* no NAT: unchanged */
	CU_ASSERT_EQUAL(memcmp(&x, &o, sizeof(x)), 0);
	/* The same connection again, from either side: EEXIST and the entry. */
	CU_ASSERT_EQUAL(ct_conn_new(ct, &o, NULL, 0, CT_TCP_SYN, S(1), &c2), -EEXIST);
	CU_ASSERT_PTR_EQUAL(c2, c);
	CU_ASSERT_EQUAL(ct_conn_new(ct, &r, NULL, 0, CT_TCP_SYN, S(1), &c2), -EEXIST);
	CU_ASSERT_PTR_EQUAL(c2, c);
	/* Packets that may not start a TCP connection. */
	struct ct_key o2 = key(IPPROTO_TCP, IP4(10, 0, 0, 3), IP4(1, 1, 1, 1), 40000, 80);

	CU_ASSERT_EQUAL(ct_conn_new(ct, &o2, NULL, 0, CT_TCP_RST, S(1), &c2), -EINVAL);
	CU_ASSERT_EQUAL(ct_conn_new(ct, &o2, NULL, 0, CT_TCP_SYN | CT_TCP_ACK, S(1), &c2), -EINVAL);
	CU_ASSERT_EQUAL(ct_conn_new(ct, &o2, NULL, 0, CT_TCP_FIN | CT_TCP_ACK, S(1), &c2), -EINVAL);
	CU_ASSERT_EQUAL(ct_conn_new(ct, &o2, NULL, 0, 0, S(1), &c2), -EINVAL);
	struct ct_key self = key(IPPROTO_UDP, IP4(10, 0, 0, 3), IP4(10, 0, 0, 3), 53, 53);

	CU_ASSERT_EQUAL(ct_conn_new(ct, &self, NULL, 0, 0, S(1), &c2), -EINVAL);
	CU_ASSERT_EQUAL(ct_count(ct), 1);

	/* SNAT 10.0.0.5:1234 -> 203.0.113.1:5000: replies come to the NAT address. */
	struct ct_key so = key(IPPROTO_UDP, IP4(10, 0, 0, 5), IP4(9, 9, 9, 9), 1234, 53);
	struct ct_key sr = key(IPPROTO_UDP, IP4(9, 9, 9, 9), IP4(203, 0, 113, 1), 53, 5000);

	CU_ASSERT_EQUAL(ct_conn_new(ct, &so, &sr, CT_NAT_SRC, 0, S(1), &c), 0);
	CU_ASSERT_PTR_EQUAL(ct_lookup(ct, &sr, &dir), c);
	CU_ASSERT_EQUAL(dir, CT_DIR_REPLY);
	x = rev(&so);
	CU_ASSERT_PTR_NULL(ct_lookup(ct, &x, &dir));   /* the un-NATed reply is unknown */
	ct_conn_xlate(c, CT_DIR_ORIG, &x);             /* what leaves: new source */
	CU_ASSERT_EQUAL(x.src_ip, IP4(203, 0, 113, 1));
	CU_ASSERT_EQUAL(x.src_port, rte_cpu_to_be_16(5000));
	CU_ASSERT_EQUAL(x.dst_ip, IP4(9, 9, 9, 9));
	ct_conn_xlate(c, CT_DIR_REPLY, &x);            /* replies go back to the container */
	CU_ASSERT_EQUAL(x.dst_ip, IP4(10, 0, 0, 5));
	CU_ASSERT_EQUAL(x.dst_port, rte_cpu_to_be_16(1234));
	CU_ASSERT_EQUAL(c->nat, CT_NAT_SRC);
	/* Another connection wanting the same NAT tuple is refused (port taken). */
	struct ct_key so2 = key(IPPROTO_UDP, IP4(10, 0, 0, 6), IP4(9, 9, 9, 9), 1234, 53);

	CU_ASSERT_EQUAL(ct_conn_new(ct, &so2, &sr, CT_NAT_SRC, 0, S(1), &c2), -EEXIST);
	CU_ASSERT_PTR_EQUAL(c2, c);
	CU_ASSERT_PTR_NULL(ct_lookup(ct, &so2, &dir));  /* and left nothing behind */
	/* Domains: any without them; recorded per direction with them. */
	CU_ASSERT_EQUAL(c->dom[CT_DIR_ORIG], CT_DOM_ANY);
	CU_ASSERT_EQUAL(c->dom[CT_DIR_REPLY], CT_DOM_ANY);
	{
		struct ct_key d = key(IPPROTO_UDP, IP4(10, 0, 0, 7), IP4(9, 9, 9, 9), 1234, 53);
		const uint16_t doms[2] = {4, 7};

		CU_ASSERT_EQUAL(ct_conn_new_dom(ct, &d, NULL, 0, doms, 0, S(1), &c2), 0);
		CU_ASSERT_EQUAL(c2->dom[CT_DIR_ORIG], 4);
		CU_ASSERT_EQUAL(c2->dom[CT_DIR_REPLY], 7);
		CU_ASSERT_EQUAL(ct_conn_delete(ct, c2), 0);
	}
	/* Delete: both keys go. */
	CU_ASSERT_EQUAL(ct_conn_delete(ct, c), 0);
	CU_ASSERT_EQUAL(ct_conn_delete(ct, c), -ENOENT);
	CU_ASSERT_PTR_NULL(ct_lookup(ct, &so, &dir));
	CU_ASSERT_PTR_NULL(ct_lookup(ct, &sr, &dir));
	CU_ASSERT_EQUAL(ct_count(ct), 1);
	ct_free(ct);
}

/* One packet through the table; checks the state and its timeout. */
static void
step(struct ct *ct, struct ct_conn *c, unsigned int dir, uint8_t flags, uint64_t now,
     unsigned int want_state, uint32_t want_tmo_s)
{
	uint32_t st = ct_conn_update(ct, c, dir, flags, now);

	CU_ASSERT_EQUAL(CT_ST_STATE(st), want_state);
	CU_ASSERT_EQUAL(CT_ST_STATE(c->st), want_state);
	CU_ASSERT_EQUAL(ct_conn_timeout_tsc(ct, c), S(want_tmo_s));
	/* Expires exactly one tick after its timeout from this packet. */
	CU_ASSERT_FALSE(ct_conn_expired(ct, c, now + S(want_tmo_s)));
	CU_ASSERT_TRUE(ct_conn_expired(ct, c, now + S(want_tmo_s) + 1));
}

static struct ct_conn *
tcp_open(struct ct *ct, unsigned int i, uint64_t now)
{
	struct ct_key o = key(IPPROTO_TCP, IP4(10, 0, 1, 2), IP4(1, 1, 1, 1),
			      (uint16_t)(30000 + i), 80);
	struct ct_conn *c = NULL;

	CU_ASSERT_EQUAL(ct_conn_new(ct, &o, NULL, 0, CT_TCP_SYN, now, &c), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(CT_ST_STATE(c->st), CT_TCP_SYN_SENT);
	CU_ASSERT_EQUAL(ct_conn_timeout_tsc(ct, c), S(120));
	return c;
}

#define O CT_DIR_ORIG
#define R CT_DIR_REPLY
#define SYN CT_TCP_SYN
#define ACK CT_TCP_ACK
#define FIN CT_TCP_FIN
#define RST CT_TCP_RST

static void
test_tcp_states(void)
{
	struct ct *ct = mk_ct(64, true, NULL);
	struct ct_conn *c;
	uint64_t t = S(100);

	/* Handshake, data, close by the client, answered in two steps. */
	c = tcp_open(ct, 1, t);
	step(ct, c, O, SYN, t + 1, CT_TCP_SYN_SENT, 120);          /* retransmission */
	step(ct, c, R, SYN | ACK, t + 2, CT_TCP_SYN_RECV, 60);
	CU_ASSERT(c->st & CT_F_REPLIED);
	CU_ASSERT_FALSE(c->st & CT_F_ASSURED);
	step(ct, c, O, ACK, t + 3, CT_TCP_ESTABLISHED, 432000);
	CU_ASSERT(c->st & CT_F_ASSURED);
	step(ct, c, R, ACK, t + 4, CT_TCP_ESTABLISHED, 432000);
	step(ct, c, O, ACK, t + S(1000), CT_TCP_ESTABLISHED, 432000);
	step(ct, c, O, FIN | ACK, t + S(1001), CT_TCP_FIN_WAIT, 120);
	step(ct, c, O, FIN | ACK, t + S(1002), CT_TCP_FIN_WAIT, 120);  /* retransmitted */
	step(ct, c, O, ACK, t + S(1002), CT_TCP_FIN_WAIT, 120);   /* not an answer */
	step(ct, c, R, ACK, t + S(1003), CT_TCP_CLOSE_WAIT, 60);
	step(ct, c, R, ACK, t + S(1004), CT_TCP_CLOSE_WAIT, 60);  /* more data */
	step(ct, c, R, FIN | ACK, t + S(1005), CT_TCP_LAST_ACK, 30);
	step(ct, c, O, ACK, t + S(1006), CT_TCP_TIME_WAIT, 120);
	step(ct, c, O, ACK, t + S(1007), CT_TCP_TIME_WAIT, 120);
	/* A new SYN on the same tuple reopens it. */
	step(ct, c, O, SYN, t + S(1008), CT_TCP_SYN_SENT, 120);
	CU_ASSERT_FALSE(c->st & (CT_F_FIN_ORIG | CT_F_FIN_REPLY));

	/* FIN answered by FIN-ACK at once: straight to LAST_ACK. */
	c = tcp_open(ct, 2, t);
	step(ct, c, R, SYN | ACK, t, CT_TCP_SYN_RECV, 60);
	step(ct, c, O, ACK, t, CT_TCP_ESTABLISHED, 432000);
	step(ct, c, R, FIN | ACK, t + 1, CT_TCP_FIN_WAIT, 120);   /* server closes first */
	step(ct, c, O, FIN | ACK, t + 2, CT_TCP_LAST_ACK, 30);
	step(ct, c, R, ACK, t + 3, CT_TCP_TIME_WAIT, 120);

	/* RST in every phase: CLOSE, 10 s. */
	c = tcp_open(ct, 3, t);
	step(ct, c, R, RST | ACK, t, CT_TCP_CLOSE, 10);           /* port closed */
	c = tcp_open(ct, 4, t);
	step(ct, c, R, SYN | ACK, t, CT_TCP_SYN_RECV, 60);
	step(ct, c, O, ACK, t, CT_TCP_ESTABLISHED, 432000);
	step(ct, c, O, RST, t + 1, CT_TCP_CLOSE, 10);
	step(ct, c, O, ACK, t + 2, CT_TCP_CLOSE, 10);             /* stays closed */
	c = tcp_open(ct, 5, t);
	step(ct, c, R, SYN | ACK, t, CT_TCP_SYN_RECV, 60);
	step(ct, c, O, ACK, t, CT_TCP_ESTABLISHED, 432000);
	step(ct, c, O, FIN | ACK, t, CT_TCP_FIN_WAIT, 120);
	step(ct, c, R, RST, t + 1, CT_TCP_CLOSE, 10);

	/* Simultaneous close: both FINs, then the ACKs. */
	c = tcp_open(ct, 6, t);
	step(ct, c, R, SYN | ACK, t, CT_TCP_SYN_RECV, 60);
	step(ct, c, O, ACK, t, CT_TCP_ESTABLISHED, 432000);
	step(ct, c, O, FIN, t, CT_TCP_FIN_WAIT, 120);
	step(ct, c, R, FIN, t, CT_TCP_LAST_ACK, 30);
	step(ct, c, R, ACK, t, CT_TCP_TIME_WAIT, 120);

	/* A SYN-ACK from the wrong side or a stray ACK changes nothing. */
	c = tcp_open(ct, 7, t);
	step(ct, c, O, SYN | ACK, t, CT_TCP_SYN_SENT, 120);
	step(ct, c, O, ACK, t, CT_TCP_SYN_SENT, 120);

	/* Mid-stream pick-up (tcp_loose) and its refusal when off. */
	struct ct_key mid = key(IPPROTO_TCP, IP4(10, 0, 1, 9), IP4(1, 1, 1, 1), 5555, 22);
	struct ct *strict = mk_ct(16, false, NULL);

	CU_ASSERT_EQUAL(ct_conn_new(ct, &mid, NULL, 0, ACK, t, &c), 0);
	CU_ASSERT_EQUAL(CT_ST_STATE(c->st), CT_TCP_ESTABLISHED);
	CU_ASSERT_EQUAL(ct_conn_timeout_tsc(ct, c), S(432000));
	CU_ASSERT_EQUAL(ct_conn_new(strict, &mid, NULL, 0, ACK, t, &c), -EINVAL);
	CU_ASSERT_EQUAL(ct_conn_new(strict, &mid, NULL, 0, SYN, t, &c), 0);
	ct_free(strict);

	/* The pure transition function agrees for a few direct cases. */
	CU_ASSERT_EQUAL(CT_ST_STATE(ct_tcp_next(CT_TCP_ESTABLISHED, O, RST)), CT_TCP_CLOSE);
	CU_ASSERT_EQUAL(CT_ST_STATE(ct_tcp_next(CT_TCP_CLOSE, O, SYN)), CT_TCP_SYN_SENT);
	CU_ASSERT_EQUAL(CT_ST_STATE(ct_tcp_next(CT_TCP_CLOSE, R, SYN)), CT_TCP_CLOSE);
	ct_free(ct);
}

/* Configurable timeouts are what the table applies. */
static void
test_timeouts_configurable(void)
{
	struct ct_params p;
	struct ct_conn *c;
	struct ct *ct;

	ct_params_default(&p);
	p.max_conns = 16;
	p.tsc_hz = HZ;
	p.tcp_timeout_s[CT_TCP_ESTABLISHED] = 7;
	p.udp_timeout_s = 2;
	p.udp_stream_timeout_s = 3;
	p.icmp_timeout_s = 4;
	ct = ct_create("tmo", &p, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ct);
	struct ct_key k = nth_key(IPPROTO_TCP, 1);

	CU_ASSERT_EQUAL(ct_conn_new(ct, &k, NULL, 0, ACK, 0, &c), 0);
	CU_ASSERT_EQUAL(ct_conn_timeout_tsc(ct, c), S(7));
	k = nth_key(IPPROTO_UDP, 1);
	CU_ASSERT_EQUAL(ct_conn_new(ct, &k, NULL, 0, 0, 0, &c), 0);
	CU_ASSERT_EQUAL(ct_conn_timeout_tsc(ct, c), S(2));
	ct_conn_update(ct, c, R, 0, 1);
	CU_ASSERT_EQUAL(ct_conn_timeout_tsc(ct, c), S(3));
	k = nth_key(IPPROTO_ICMP, 1);
	k.dst_port = k.src_port;
	CU_ASSERT_EQUAL(ct_conn_new(ct, &k, NULL, 0, CT_ICMP_REQUEST, 0, &c), 0);
	CU_ASSERT_EQUAL(ct_conn_timeout_tsc(ct, c), S(4));
	ct_free(ct);
}

static void
test_udp_icmp(void)
{
	struct ct *ct = mk_ct(64, true, NULL);
	struct ct_key u = key(IPPROTO_UDP, IP4(10, 0, 0, 2), IP4(8, 8, 8, 8), 4000, 53);
	struct ct_key i = key(IPPROTO_ICMP, IP4(10, 0, 0, 2), IP4(8, 8, 8, 8), 99, 99);
	struct ct_key ir, ireq;
	struct ct_conn *c;
	uint8_t dir;

	i.icmp_class = CT_ICMP_K_REQUEST;
	ir = rev(&i);
	ireq = ir;
	ireq.icmp_class = CT_ICMP_K_REQUEST;

	CU_ASSERT_EQUAL(ct_conn_new(ct, &u, NULL, 0, 0, S(10), &c), 0);
	CU_ASSERT_EQUAL(ct_conn_timeout_tsc(ct, c), S(30));
	CU_ASSERT_FALSE(ct_conn_expired(ct, c, S(40)));
	CU_ASSERT_TRUE(ct_conn_expired(ct, c, S(40) + 1));
	ct_conn_update(ct, c, O, 0, S(20));                     /* more from the client */
	CU_ASSERT_EQUAL(ct_conn_timeout_tsc(ct, c), S(30));
	CU_ASSERT_FALSE(ct_conn_expired(ct, c, S(45)));
	ct_conn_update(ct, c, R, 0, S(21));                     /* answered: a stream */
	CU_ASSERT(c->st & CT_F_REPLIED);
	CU_ASSERT_EQUAL(ct_conn_timeout_tsc(ct, c), S(120));
	CU_ASSERT_FALSE(ct_conn_expired(ct, c, S(141)));
	CU_ASSERT_TRUE(ct_conn_expired(ct, c, S(141) + 1));
	/* A clock behind the last packet never expires it. */
	CU_ASSERT_FALSE(ct_conn_expired(ct, c, S(1)));

	/* ICMP echo: a reply alone starts nothing; a request does, 30 s. */
	CU_ASSERT_EQUAL(ct_conn_new(ct, &ir, NULL, 0, 0, S(10), &c), -EINVAL);
	CU_ASSERT_EQUAL(ct_conn_new(ct, &i, NULL, 0, CT_ICMP_REQUEST, S(10), &c), 0);
	CU_ASSERT_PTR_EQUAL(ct_lookup(ct, &ir, &dir), c);
	CU_ASSERT_EQUAL(dir, R);
	/* A request from the other side with the same id is not the reply. */
	CU_ASSERT_EQUAL(ir.icmp_class, CT_ICMP_K_REPLY);
	CU_ASSERT_PTR_NULL(ct_lookup(ct, &ireq, &dir));
	CU_ASSERT_EQUAL(ct_conn_timeout_tsc(ct, c), S(30));
	ct_conn_update(ct, c, R, 0, S(11));
	CU_ASSERT(c->st & CT_F_REPLIED);
	CU_ASSERT_EQUAL(ct_conn_timeout_tsc(ct, c), S(30));
	CU_ASSERT_FALSE(ct_conn_expired(ct, c, S(41)));
	CU_ASSERT_TRUE(ct_conn_expired(ct, c, S(41) + 1));
	ct_free(ct);
}

/* A full table refuses new connections, counts them, and keeps the old ones. */
static void
test_full_table(void)
{
	const uint32_t max = 64;
	struct ct *ct = mk_ct(max, true, NULL);
	struct ct_conn *conns[64], *c;
	struct ct_stats st;
	uint8_t dir;

	for (unsigned int i = 0; i < max; i++) {
		struct ct_key k = nth_key(IPPROTO_UDP, i);

		CU_ASSERT_EQUAL_FATAL(ct_conn_new(ct, &k, NULL, 0, 0, S(1), &conns[i]), 0);
	}
	CU_ASSERT_EQUAL(ct_count(ct), max);
	for (unsigned int i = max; i < max + 10; i++) {
		struct ct_key k = nth_key(IPPROTO_UDP, i);

		CU_ASSERT_EQUAL(ct_conn_new(ct, &k, NULL, 0, 0, S(1), &c), -ENOSPC);
		CU_ASSERT_PTR_NULL(c);
		CU_ASSERT_PTR_NULL(ct_lookup(ct, &k, &dir));
	}
	/* Full, and the reply key is another connection's: full all the same (a
	 * NAT port search must stop, not try the next port), while this very
	 * connection, created meanwhile, is still found. */
	{
		struct ct_key k = nth_key(IPPROTO_UDP, max + 20), r3 = rev(&conns[3]->key[O]);

		CU_ASSERT_EQUAL(ct_conn_new(ct, &k, &conns[3]->key[R], CT_NAT_SRC, 0, S(1), &c),
				-ENOSPC);
		CU_ASSERT_PTR_NULL(c);
		CU_ASSERT_EQUAL(ct_conn_new(ct, &conns[3]->key[O], &r3, 0, 0, S(1), &c), -EEXIST);
		CU_ASSERT_PTR_EQUAL(c, conns[3]);
	}
	ct_stats_get(ct, &st);
	CU_ASSERT_EQUAL(st.refused_full, 11);
	CU_ASSERT_EQUAL(st.created, max);
	/* Existing connections keep working both ways. */
	for (unsigned int i = 0; i < max; i++) {
		struct ct_key k = nth_key(IPPROTO_UDP, i), r = rev(&k);

		CU_ASSERT_PTR_EQUAL(ct_lookup(ct, &k, &dir), conns[i]);
		CU_ASSERT_PTR_EQUAL(ct_lookup(ct, &r, &dir), conns[i]);
		CU_ASSERT_EQUAL(dir, R);
		ct_conn_update(ct, conns[i], dir, 0, S(2));
		CU_ASSERT(conns[i]->st & CT_F_REPLIED);
	}
	/* One leaves, one more fits, and the table is full again. */
	CU_ASSERT_EQUAL(ct_conn_delete(ct, conns[5]), 0);
	struct ct_key k = nth_key(IPPROTO_UDP, 1000);

	CU_ASSERT_EQUAL(ct_conn_new(ct, &k, NULL, 0, 0, S(3), &c), 0);
	k = nth_key(IPPROTO_UDP, 1001);
	CU_ASSERT_EQUAL(ct_conn_new(ct, &k, NULL, 0, 0, S(3), &c), -ENOSPC);
	CU_ASSERT_EQUAL(ct_count(ct), max);
	ct_free(ct);
}

/* With RCU, a deleted slot comes back only after every reader was quiescent. */
static void
test_rcu_reuse(void)
{
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	struct rte_rcu_qsbr *qs = rte_zmalloc("t_qs", sz, RTE_CACHE_LINE_SIZE);
	struct ct_conn *conns[8], *c;
	struct ct *ct;
	uint8_t dir;

	CU_ASSERT_PTR_NOT_NULL_FATAL(qs);
	CU_ASSERT_EQUAL_FATAL(rte_rcu_qsbr_init(qs, 1), 0);
	CU_ASSERT_EQUAL(rte_rcu_qsbr_thread_register(qs, 0), 0);
	rte_rcu_qsbr_thread_online(qs, 0);
	ct = mk_ct(8, true, qs);
	for (unsigned int i = 0; i < 8; i++) {
		struct ct_key k = nth_key(IPPROTO_UDP, i);

		CU_ASSERT_EQUAL_FATAL(ct_conn_new(ct, &k, NULL, 0, 0, 0, &conns[i]), 0);
	}
	/* A reader "holds" conns[3] (it has not reported quiescence). */
	CU_ASSERT_EQUAL(ct_conn_delete(ct, conns[3]), 0);
	struct ct_key k3 = nth_key(IPPROTO_UDP, 3), k = nth_key(IPPROTO_UDP, 100);

	CU_ASSERT_PTR_NULL(ct_lookup(ct, &k3, &dir));
	CU_ASSERT_EQUAL(ct_conn_new(ct, &k, NULL, 0, 0, 0, &c), -ENOSPC);
	/* Its entry is intact while the reader may use it. */
	CU_ASSERT_EQUAL(memcmp(&conns[3]->key[O], &k3, sizeof(k3)), 0);
	rte_rcu_qsbr_quiescent(qs, 0);
	CU_ASSERT_EQUAL(ct_conn_new(ct, &k, NULL, 0, 0, 0, &c), 0);
	CU_ASSERT_PTR_EQUAL(c, conns[3]);
	CU_ASSERT_PTR_EQUAL(ct_lookup(ct, &k, &dir), c);
	/* Expiry defers the same way, and many cycles never leak a slot. */
	for (unsigned int round = 0; round < 50; round++) {
		uint64_t now = S(1000) * (round + 1);

		CU_ASSERT_EQUAL(ct_expire(ct, now, 8), 8);
		CU_ASSERT_EQUAL(ct_count(ct), 0);
		rte_rcu_qsbr_quiescent(qs, 0);
		for (unsigned int i = 0; i < 8; i++) {
			k = nth_key(IPPROTO_UDP, 200 + round * 8 + i);
			CU_ASSERT_EQUAL(ct_conn_new(ct, &k, NULL, 0, 0, now, &c), 0);
		}
	}
	CU_ASSERT_EQUAL(ct_count(ct), 8);
	rte_rcu_qsbr_thread_offline(qs, 0);
	rte_rcu_qsbr_thread_unregister(qs, 0);
	ct_free(ct);
	rte_free(qs);
}

/* Expiry removes exactly the expired entries, visiting at most budget per call. */
static void
test_expire_budget(void)
{
	const uint32_t max = 1000, n = 600, budget = 7;
	struct ct *ct = mk_ct(max, true, NULL);
	struct ct_conn *conns[600];
	struct ct_stats st, st0;
	unsigned int removed = 0, calls = 0;
	uint8_t dir;

	/* UDP at t=0; every third one hears again at t=20 s, every fifth is a
	 * stream (replied, 120 s). At t=35 s the rest (30 s) have expired. */
	for (unsigned int i = 0; i < n; i++) {
		struct ct_key k = nth_key(IPPROTO_UDP, i);

		CU_ASSERT_EQUAL_FATAL(ct_conn_new(ct, &k, NULL, 0, 0, 0, &conns[i]), 0);
		if (i % 3 == 0)
			ct_conn_update(ct, conns[i], O, 0, S(20));
		if (i % 5 == 0)
			ct_conn_update(ct, conns[i], R, 0, S(1));
	}
	unsigned int want = 0;

	for (unsigned int i = 0; i < n; i++)
		want += (i % 3 != 0 && i % 5 != 0);
	ct_stats_get(ct, &st0);
	while (calls < (max + budget - 1) / budget) {
		unsigned int r = ct_expire(ct, S(35), budget);

		CU_ASSERT(r <= budget);
		removed += r;
		calls++;
		ct_stats_get(ct, &st);
		CU_ASSERT_EQUAL(st.expire_visits - st0.expire_visits, (uint64_t)calls * budget);
	}
	CU_ASSERT_EQUAL(removed, want);
	CU_ASSERT_EQUAL(ct_count(ct), n - want);
	ct_stats_get(ct, &st);
	CU_ASSERT_EQUAL(st.expired, want);
	for (unsigned int i = 0; i < n; i++) {
		struct ct_key k = nth_key(IPPROTO_UDP, i), r = rev(&k);
		bool keep = i % 3 == 0 || i % 5 == 0;

		CU_ASSERT_EQUAL(ct_lookup(ct, &k, &dir) != NULL, keep);
		CU_ASSERT_EQUAL(ct_lookup(ct, &r, &dir) != NULL, keep);
	}
	/* A second full pass at the same time removes nothing more. */
	CU_ASSERT_EQUAL(ct_expire(ct, S(35), max), 0);
	/* Much later everything goes; a budget of 0 does nothing. */
	CU_ASSERT_EQUAL(ct_expire(ct, S(1000), 0), 0);
	CU_ASSERT_EQUAL(ct_expire(ct, S(1000), max), n - want);
	CU_ASSERT_EQUAL(ct_count(ct), 0);
	ct_free(ct);
}

/* Bulk lookups in every loop shape, hits from both sides mixed with misses. */
static void
test_lookup_bulk(void)
{
	static const unsigned int sizes[] = {0, 1, 3, 4, 5, 32, 33, 64, 65, 130};
	struct ct *ct = mk_ct(256, true, NULL);
	struct ct_key keys[130];
	struct ct_conn *conns[100], *got[130];
	uint8_t dirs[130];

	for (unsigned int i = 0; i < 100; i++) {
		struct ct_key k = nth_key(IPPROTO_TCP, i);

		CU_ASSERT_EQUAL_FATAL(ct_conn_new(ct, &k, NULL, 0, SYN, 0, &conns[i]), 0);
	}
	for (unsigned int s = 0; s < RTE_DIM(sizes); s++) {
		unsigned int n = sizes[s], want = 0;

		/* i%3: 0 original, 1 reply, 2 unknown. */
		for (unsigned int i = 0; i < n; i++) {
			struct ct_key k = nth_key(IPPROTO_TCP, (i * 7 + s) % 100);

			if (i % 3 == 0)
				keys[i] = k;
			else if (i % 3 == 1)
				keys[i] = rev(&k);
			else
				keys[i] = nth_key(IPPROTO_UDP, i);
			want += i % 3 != 2;
			got[i] = (struct ct_conn *)(uintptr_t)0x1;
			dirs[i] = 7;
		}
		CU_ASSERT_EQUAL(ct_lookup_bulk(ct, keys, n, got, dirs), want);
		for (unsigned int i = 0; i < n; i++) {
			if (i % 3 == 2) {
				CU_ASSERT_PTR_NULL(got[i]);
				continue;
			}
			CU_ASSERT_PTR_EQUAL(got[i], conns[(i * 7 + s) % 100]);
			CU_ASSERT_EQUAL(dirs[i], i % 3 == 0 ? O : R);
		}
	}
	ct_free(ct);
}

/* Two threads create the same connections at once: each exactly once. */
struct race_arg {
	struct ct *ct;
	unsigned int n;
	unsigned int won;
	unsigned int exist;
	unsigned int other;
};

static void *
race_thread(void *p)
{
	struct race_arg *a = p;

	for (unsigned int i = 0; i < a->n; i++) {
		struct ct_key k = nth_key(IPPROTO_TCP, i), r = rev(&k);
		struct ct_conn *c;
		/* Half the time from the other side, as if the reply raced. */
		int ret = ct_conn_new(a->ct, (i & 1) ? &k : &r, NULL, 0, SYN, 0, &c);

		if (ret == 0)
			a->won++;
		else if (ret == -EEXIST && c != NULL)
			a->exist++;
		else
			a->other++;
	}
	return NULL;
}

static void
test_concurrent_create(void)
{
	const unsigned int n = 20000;
	struct ct *ct = mk_ct(n, true, NULL);
	struct race_arg a[2] = {{ct, n, 0, 0, 0}, {ct, n, 0, 0, 0}};
	pthread_t th[2];
	uint8_t dir;

	for (int t = 0; t < 2; t++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[t], NULL, race_thread, &a[t]), 0);
	for (int t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	CU_ASSERT_EQUAL(a[0].won + a[1].won, n);
	CU_ASSERT_EQUAL(a[0].exist + a[1].exist, n);
	CU_ASSERT_EQUAL(a[0].other + a[1].other, 0);
	CU_ASSERT_EQUAL(ct_count(ct), n);
	for (unsigned int i = 0; i < n; i++) {
		struct ct_key k = nth_key(IPPROTO_TCP, i), r = rev(&k);
		struct ct_conn *c1 = ct_lookup(ct, &k, &dir), *c2 = ct_lookup(ct, &r, &dir);

		CU_ASSERT_PTR_NOT_NULL(c1);
		CU_ASSERT_PTR_EQUAL(c1, c2);
	}
	ct_free(ct);
}

struct rate_arg {
	struct ct *ct;
	const struct ct_key *keys;
	unsigned int n;
};

static void *
rate_thread(void *p)
{
	struct rate_arg *a = p;
	struct ct_conn *c;

	for (unsigned int i = 0; i < a->n; i++)
		ct_conn_new(a->ct, &a->keys[i], NULL, 0, 0, 0, &c);
	return NULL;
}

/* Report (not a gate): memory per entry, create and lookup rates. */
static void
test_measure(void)
{
	const uint32_t max = 65536;
	struct rte_malloc_socket_stats s0, s1;
	struct ct_conn **conns = calloc(max, sizeof(*conns));
	struct ct_key *keys = calloc(max, sizeof(*keys));
	struct ct_conn *got[32];
	uint8_t dirs[32];
	struct ct *ct;
	uint64_t t0, t1, t2, hz = rte_get_tsc_hz();
	unsigned int hits = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(conns);
	CU_ASSERT_PTR_NOT_NULL_FATAL(keys);
	rte_malloc_get_socket_stats((int)rte_socket_id(), &s0);
	ct = mk_ct(max, true, NULL);
	rte_malloc_get_socket_stats((int)rte_socket_id(), &s1);
	for (uint32_t i = 0; i < max; i++)
		keys[i] = nth_key(IPPROTO_UDP, i);
	t0 = rte_rdtsc();
	for (uint32_t i = 0; i < max; i++)
		CU_ASSERT_EQUAL(ct_conn_new(ct, &keys[i], NULL, 0, 0, t0, &conns[i]), 0);
	t1 = rte_rdtsc();
	for (uint32_t i = 0; i + 32 <= max; i += 32)
		hits += ct_lookup_bulk(ct, &keys[i], 32, got, dirs);
	t2 = rte_rdtsc();
	CU_ASSERT_EQUAL(hits, max);
	printf("\n    ct: %zu bytes per connection (table of %u: %zu bytes); "
	       "sizeof(struct ct_conn) %zu\n",
	       (size_t)(s1.heap_allocsz_bytes - s0.heap_allocsz_bytes) / max, max,
	       (size_t)(s1.heap_allocsz_bytes - s0.heap_allocsz_bytes), sizeof(struct ct_conn));
	printf("    ct: one thread: %.2f M new connections/s, %.1f M lookups/s (bulk 32)\n",
	       (double)max * hz / (double)(t1 - t0) / 1e6,
	       (double)max * hz / (double)(t2 - t1) / 1e6);
	ct_free(ct);

	/* The same table with RCU attached: two defer queues (keys, entries). */
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	struct rte_rcu_qsbr *qs = rte_zmalloc("t_qs_m", sz, RTE_CACHE_LINE_SIZE);

	CU_ASSERT_PTR_NOT_NULL_FATAL(qs);
	CU_ASSERT_EQUAL(rte_rcu_qsbr_init(qs, 1), 0);
	rte_malloc_get_socket_stats((int)rte_socket_id(), &s0);
	ct = mk_ct(max, true, qs);
	rte_malloc_get_socket_stats((int)rte_socket_id(), &s1);
	printf("    ct: %zu bytes per connection with RCU defer queues\n",
	       (size_t)(s1.heap_allocsz_bytes - s0.heap_allocsz_bytes) / max);
	ct_free(ct);
	rte_free(qs);

	/* Two threads creating distinct connections (contention on the writer lock). */
	struct rate_arg ra[2];
	pthread_t th[2];

	ct = mk_ct(max, true, NULL);
	for (unsigned int i = 0; i < 2; i++) {
		ra[i].ct = ct;
		ra[i].keys = keys + i * (max / 2);
		ra[i].n = max / 2;
	}
	t0 = rte_rdtsc();
	for (unsigned int i = 0; i < 2; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, rate_thread, &ra[i]), 0);
	for (unsigned int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	t1 = rte_rdtsc();
	CU_ASSERT_EQUAL(ct_count(ct), max);
	printf("    ct: two threads: %.2f M new connections/s in all\n",
	       (double)max * hz / (double)(t1 - t0) / 1e6);
	ct_free(ct);
	free(conns);
	free(keys);
}

/* ---- checksums ---- */

static uint16_t
ref_ip_cksum(struct rte_ipv4_hdr *ip)
{
	rte_be16_t saved = ip->hdr_checksum;
	uint16_t c;

	ip->hdr_checksum = 0;
	c = rte_ipv4_cksum(ip);
	ip->hdr_checksum = saved;
	return c;
}

/* Full TCP/UDP checksum as a sender computes it (UDP: 0 -> 0xFFFF). */
static uint16_t
ref_l4_cksum(struct rte_ipv4_hdr *ip, void *l4)
{
	size_t off = ip->next_proto_id == IPPROTO_TCP ?
		offsetof(struct rte_tcp_hdr, cksum) : offsetof(struct rte_udp_hdr, dgram_cksum);
	uint8_t *f = (uint8_t *)l4 + off, saved[2] = {f[0], f[1]};
	uint16_t c;

	f[0] = f[1] = 0;
	c = rte_ipv4_udptcp_cksum(ip, l4);
	f[0] = saved[0];
	f[1] = saved[1];
	return c;
}

static uint16_t
ref_icmp_cksum(struct rte_icmp_hdr *icmp, unsigned int len)
{
	rte_be16_t saved = icmp->icmp_cksum;
	uint16_t c;

	icmp->icmp_cksum = 0;
	c = (uint16_t)~rte_raw_cksum(icmp, len);
	icmp->icmp_cksum = saved;
	return c;
}

static void
test_cksum_random(void)
{
	uint8_t buf[20 + 20 + 64] __rte_aligned(8);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;
	void *l4 = ip + 1;
	unsigned int udp_zero = 0, udp_ffff = 0, tcp = 0, icmp = 0;

	rte_srand(4242);
	for (unsigned int n = 0; n < 10000; n++) {
		unsigned int kind = (unsigned int)(rte_rand() % 4);   /* tcp udp udp0 icmp */
		unsigned int plen = (unsigned int)(rte_rand() % 44);
		unsigned int l4len;

		for (unsigned int b = 0; b < sizeof(buf); b++)
			buf[b] = (uint8_t)rte_rand();
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->fragment_offset = 0;
		ip->next_proto_id = kind == 0 ? IPPROTO_TCP : kind == 3 ? IPPROTO_ICMP : IPPROTO_UDP;
		l4len = (kind == 0 ? 20 : 8) + plen;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + l4len));
		ip->hdr_checksum = ref_ip_cksum(ip);
		if (kind == 0) {
			struct rte_tcp_hdr *t = l4;

			t->data_off = 0x50;
			t->cksum = ref_l4_cksum(ip, l4);
			tcp++;
		} else if (kind == 3) {
			struct rte_icmp_hdr *ic = l4;

			ic->icmp_type = (rte_rand() & 1) ? RTE_IP_ICMP_ECHO_REQUEST :
				RTE_IP_ICMP_ECHO_REPLY;
			ic->icmp_code = 0;
			ic->icmp_cksum = ref_icmp_cksum(ic, l4len);
			icmp++;
		} else {
			struct rte_udp_hdr *u = l4;

			u->dgram_len = rte_cpu_to_be_16((uint16_t)l4len);
			u->dgram_cksum = kind == 2 ? 0 : ref_l4_cksum(ip, l4);
		}
		/* 1-4 random rewrites: addresses (src/dst), ports (src/dst). */
		unsigned int steps = 1 + (unsigned int)(rte_rand() % 4);

		for (unsigned int s = 0; s < steps; s++) {
			unsigned int what = (unsigned int)(rte_rand() % 4);
			bool src = what & 1;

			if (what < 2)
				cksum_rewrite_addr(ip, kind == 3 ? NULL : l4, ip->next_proto_id, src,
						   (rte_be32_t)rte_rand());
			else
				cksum_rewrite_port(l4, ip->next_proto_id, src,
						   (rte_be16_t)rte_rand());
		}
		CU_ASSERT_EQUAL(ip->hdr_checksum, ref_ip_cksum(ip));
		if (kind == 0) {
			CU_ASSERT_EQUAL(((struct rte_tcp_hdr *)l4)->cksum, ref_l4_cksum(ip, l4));
		} else if (kind == 3) {
			struct rte_icmp_hdr *ic = l4;

			CU_ASSERT_EQUAL(ic->icmp_cksum, ref_icmp_cksum(ic, l4len));
		} else if (kind == 2) {
			CU_ASSERT_EQUAL(((struct rte_udp_hdr *)l4)->dgram_cksum, 0);
			udp_zero++;
		} else {
			rte_be16_t c = ((struct rte_udp_hdr *)l4)->dgram_cksum;

			CU_ASSERT_EQUAL(c, ref_l4_cksum(ip, l4));
			CU_ASSERT_NOT_EQUAL(c, 0);
			udp_ffff += c == 0xFFFF;
		}
	}
	CU_ASSERT(tcp > 2000 && icmp > 2000 && udp_zero > 2000);

	/* The UDP corner: a rewrite whose checksum comes out 0 is sent as 0xFFFF,
	 * as a full computation gives it. Search a port value that lands there. */
	unsigned int hits = 0;

	for (unsigned int n = 0; n < 2000 && hits < 20; n++) {
		struct rte_udp_hdr *u = l4;
		uint16_t c, want;

		for (unsigned int b = 0; b < sizeof(buf); b++)
			buf[b] = (uint8_t)rte_rand();
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->next_proto_id = IPPROTO_UDP;
		ip->total_length = rte_cpu_to_be_16(28 + 8);
		u->dgram_len = rte_cpu_to_be_16(16);
		u->dgram_cksum = ref_l4_cksum(ip, l4);
		/* The port that makes the one's-complement sum 0xFFFF: checksum 0. */
		c = rte_be_to_cpu_16(u->dgram_cksum);
		want = (uint16_t)(rte_be_to_cpu_16(u->src_port) + c);
		want = (uint16_t)(want + (want < c));   /* end-around carry */
		if (want == 0)
			continue;
		cksum_rewrite_port(l4, IPPROTO_UDP, true, rte_cpu_to_be_16(want));
		if (u->dgram_cksum == 0xFFFF)
			hits++;
		CU_ASSERT_EQUAL(u->dgram_cksum, ref_l4_cksum(ip, l4));
	}
	CU_ASSERT(hits >= 20);
	printf("\n    cksum: %u TCP, %u ICMP, %u UDP-zero, %u UDP 0xFFFF in the random run, "
	       "%u forced\n", tcp, icmp, udp_zero, udp_ffff, hits);
}

int
main(int argc, char **argv)
{
	CU_pSuite s;
	unsigned int failed;

	(void)argc;
	(void)argv;
	if (th_eal_init("t_ct") < 0)
		return 77;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("ct", NULL, NULL);
	CU_add_test(s, "parameters and defaults", test_params);
	CU_add_test(s, "keys from headers", test_key_from_ipv4);
	CU_add_test(s, "lookup both directions, NAT keys", test_lookup_both);
	CU_add_test(s, "TCP state machine and timeouts", test_tcp_states);
	CU_add_test(s, "timeouts configurable", test_timeouts_configurable);
	CU_add_test(s, "UDP and ICMP timeouts", test_udp_icmp);
	CU_add_test(s, "full table refuses, existing work", test_full_table);
	CU_add_test(s, "slots reused after RCU grace period", test_rcu_reuse);
	CU_add_test(s, "expiry with a bounded budget", test_expire_budget);
	CU_add_test(s, "bulk lookup burst sizes", test_lookup_bulk);
	CU_add_test(s, "concurrent creation", test_concurrent_create);
	CU_add_test(s, "checksum updates = full recompute", test_cksum_random);
	CU_add_test(s, "memory and rates (report)", test_measure);
	failed = th_run();
	rte_eal_cleanup();
	return failed ? 1 : 0;
}
