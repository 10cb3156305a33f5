/*
 * vtap.c - a TAP port with virtio-net headers behind a net_ring ethdev. See
 * vtap.h for the shape, vtap_vnet.h for the header translation.
 *
 * Per queue: one TAP file descriptor, an RX ring (filled here by the worker
 * that polls the queue, emptied by the ring PMD's rx burst on the same worker)
 * and a TX ring (filled by the ring PMD's tx burst of worker q, emptied here by
 * the same worker). Both rings are single-producer single-consumer.
 *
 * Reads: readv() into [virtio-net header, a pool mbuf, the tail of a big
 * mbuf]. The big mbuf's iovec starts VTAP_SMALL_ROOM bytes into its data room,
 * so a frame longer than the pool mbuf becomes contiguous in the big one by
 * copying its first VTAP_SMALL_ROOM bytes in front (the pipeline works on
 * single-segment frames). Each queue keeps one pool mbuf and each worker
 * one big mbuf between reads, so a read costs no allocation for the kind it
 * does not use.
 *
 * Sizes: the pool's mbufs hold VTAP_SMALL_ROOM = 2048 bytes of frame
 * (RTE_MBUF_DEFAULT_BUF_SIZE less the headroom); a big mbuf's buf_len is a
 * uint16_t, so at most 65535 with 128 of headroom: 65407 bytes of frame. The
 * kernel's GSO packets are bounded by the interface's gso_max_size (IP header
 * on, TCP's tcp_tso_autosize keeps a segment below it): VTAP_GSO_MAX_SIZE =
 * 65000, plus 14 (Ethernet) + 8 (two VLAN tags, should a container tag) =
 * 65022 < 65407. A longer read fills the buffers exactly: refused
 * (rx_bad_vnet).
 *
 * Writes: TUN takes a frame or fails (EIO while the interface is down, e.g.
 * frames flooded to it before the container's side is configured; EINVAL for
 * a header it refuses); either is a tx_errors, the frame is dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <rte_branch_prediction.h>
#include <rte_bus_vdev.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_ring.h>

#include "vtap.h"
#include "vtap_vnet.h"

RTE_LOG_REGISTER(vtap_logtype, dpnet.vtap, NOTICE);
#define VTAP_LOG(level, ...) \
	rte_log(RTE_LOG_##level, vtap_logtype, "dpnetd: " #level ": vtap: " __VA_ARGS__)

#define VTAP_BURST 32               /* frames read per fill, written per drain round */
#define VTAP_RX_RING 1024           /* a fill adds at most VTAP_BURST */
#define VTAP_TX_RING 4096           /* a loop may flood a burst from every queue here */
#define VTAP_BIG_ROOM 65535         /* a big mbuf's data room: buf_len's maximum */
#define VTAP_GSO_MAX_SIZE 65000     /* the interface's gso_max_size (above) */
#define VTAP_MAX_SEGS 64            /* iovecs of one written frame, header included */
#define VTAP_BIG_CACHE 8            /* per-lcore cache of the big pool */

_Static_assert(VTAP_GSO_MAX_SIZE + RTE_ETHER_HDR_LEN + 8 < VTAP_BIG_ROOM - RTE_PKTMBUF_HEADROOM,
	       "a GSO segment and its Ethernet header fit one big mbuf");

/* One queue: written by the workers that own its two directions. */
struct vtap_q {
	int fd;                        /* this queue's TAP descriptor (O_NONBLOCK) */
	struct rte_ring *rx;           /* fd -> ring PMD rx burst */
	struct rte_ring *tx;           /* ring PMD tx burst -> fd */
	/* RX side: the worker polling this queue. */
	struct rte_mbuf *spare __rte_cache_aligned; /* pool mbuf for the next read */
	uint64_t rx_gso;               /* vtap_stats */
	uint64_t rx_csum;
	uint64_t rx_bad_vnet;
	uint64_t rx_no_mbuf;
	/* TX side: worker q. */
	uint64_t tx_gso __rte_cache_aligned;
	uint64_t tx_errors;
};

struct vtap {
	char ifname[IFNAMSIZ];         /* the TAP's name when created */
	char vdev[RTE_DEV_NAME_MAX_LEN]; /* the ring PMD's device ("net_ring_" + name) */
	struct rte_mempool *pool;      /* the data plane's pool (small frames) */
	uint16_t port_id;              /* the net_ring ethdev */
	uint16_t n_q;                  /* queues */
	struct vtap_q q[];             /* n_q of them */
};

static struct rte_mempool *vtap_big_pool;
/*
 * The big mbuf the next read of this lcore may fill: one per worker, not per
 * queue - a worker reads its queues one after the other, and a spare per
 * queue would keep ports x workers of the pool idle (with a few dozen quiet
 * containers, none left for the busy ones).
 */
static RTE_DEFINE_PER_LCORE(struct rte_mbuf *, vtap_spare_big);
static unsigned int vtap_serial;   /* names of rings, unique per process */

int
vtap_init(unsigned int n_big, int socket_id)
{
	if (vtap_big_pool != NULL)
		return 0;
	vtap_big_pool = rte_pktmbuf_pool_create("dpnet_vtap_big", n_big, VTAP_BIG_CACHE, 0,
						VTAP_BIG_ROOM, socket_id);
	if (vtap_big_pool == NULL) {
		VTAP_LOG(ERR, "cannot create a pool of %u 64 KB mbufs: %s\n", n_big,
			 rte_strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

void
vtap_fini(void)
{
	rte_mempool_free(vtap_big_pool);
	vtap_big_pool = NULL;
}

/*
 * Did the kernel take it? Before Linux 5.19 a link's gso_max_size could be set
 * only when the link was made: the attribute on an existing one is ignored
 * without an error, and the kernel would hand over segments longer than a big
 * mbuf. Read it back (RTM_GETLINK, the caller's namespace): -EOPNOTSUPP if it
 * is not what was asked.
 */
struct vtap_gso_read {
	uint32_t size;     /* IFLA_GSO_MAX_SIZE found, 0: none */
};

static int
vtap_gso_attr_cb(const struct nlattr *a, void *data)
{
	struct vtap_gso_read *r = data;

	if (mnl_attr_get_type(a) == IFLA_GSO_MAX_SIZE &&
	    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		r->size = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int
vtap_gso_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), vtap_gso_attr_cb, data);
	return MNL_CB_OK;
}

static int
vtap_check_gso_max(struct mnl_socket *nl, unsigned int index, uint32_t size)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct vtap_gso_read r = { .size = 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	unsigned int seq = 2;
	ssize_t n;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)index;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0 || mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), vtap_gso_msg_cb,
				&r) < 0)
		return errno != 0 ? -errno : -EIO;
	return r.size == size ? 0 : -EOPNOTSUPP;
}

/* ifname's gso_max_size (rtnetlink, in the caller's namespace), checked. */
static int
vtap_set_gso_max(const char *ifname, uint32_t size)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	unsigned int portid, seq = 1;
	unsigned int index = if_nametoindex(ifname);
	ssize_t n;
	int rc = 0;

	if (index == 0)
		return -ENODEV;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)index;
	mnl_attr_put_u32(nlh, IFLA_GSO_MAX_SIZE, size);
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (nl == NULL)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0 || mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL) < 0)
		rc = errno != 0 ? -errno : -EIO;
	if (rc == 0)
		rc = vtap_check_gso_max(nl, index, size);
out:
	mnl_socket_close(nl);
	return rc;
}

/* Open one queue of the TAP ifname (the first creates the interface). */
static int
vtap_open_queue(const char *ifname, int *fdp, const char **step)
{
	struct ifreq ifr;
	int hdr = VTAP_VNET_HDR_LEN;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	*step = "open /dev/net/tun";
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	*step = "create the TAP interface (TUNSETIFF)";
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto fail;
	*step = "set its virtio-net header size (TUNSETVNETHDRSZ)";
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
		goto fail;
	*step = "enable its offloads (TUNSETOFFLOAD)";
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) < 0)
		goto fail;
	*fdp = fd;
	return 0;
fail:
	{
		int rc = -errno;

		close(fd);
		return rc;
	}
}

/* Free what a ring holds (a stopped port's leftovers). */
static void
vtap_ring_free(struct rte_ring *r)
{
	void *m;

	if (r == NULL)
		return;
	while (rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(r);
}

/* Everything but the ethdev. */
static void
vtap_free(struct vtap *vt)
{
	for (uint16_t i = 0; i < vt->n_q; i++) {
		struct vtap_q *q = &vt->q[i];

		if (q->fd >= 0)
			close(q->fd);
		vtap_ring_free(q->rx);
		vtap_ring_free(q->tx);
		rte_pktmbuf_free(q->spare);
	}
	rte_free(vt);
}

int
vtap_create(const char *ifname, const char *dev_name, uint16_t n_q,
	    struct rte_mempool *pool, struct vtap **out, uint16_t *port_id, char *err,
	    size_t errlen)
{
	struct rte_ring *rx[RTE_PMD_RING_MAX_RX_RINGS], *tx[RTE_PMD_RING_MAX_TX_RINGS];
	const char *step = "";
	struct vtap *vt;
	int rc, id;

	if (strlen(ifname) == 0 || strlen(ifname) >= IFNAMSIZ) {
		snprintf(err, errlen, "interface name \"%s\" must have 1 to %d characters",
			 ifname, IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (n_q == 0 || n_q > RTE_PMD_RING_MAX_RX_RINGS) {
		snprintf(err, errlen, "a vtap port has at most %d queues, one per worker: "
			 "lower 'workers' in the config", RTE_PMD_RING_MAX_RX_RINGS);
		return -EINVAL;
	}
	if (vtap_big_pool == NULL) {
		snprintf(err, errlen, "the vtap buffer pool does not exist (vtap.big_mbufs): "
			 "check the daemon log of its start");
		return -ENOMEM;
	}
	if (if_nametoindex(ifname) != 0) {
		snprintf(err, errlen, "interface \"%s\" already exists: a vtap port creates its "
			 "own interface, pick another --iface", ifname);
		return -EEXIST;
	}
	vt = rte_zmalloc("vtap", sizeof(*vt) + n_q * sizeof(vt->q[0]), RTE_CACHE_LINE_SIZE);
	if (vt == NULL) {
		snprintf(err, errlen, "out of memory for the vtap port: raise eal.memory_mb");
		return -ENOMEM;
	}
	snprintf(vt->ifname, sizeof(vt->ifname), "%s", ifname);
	vt->pool = pool;
	vt->n_q = n_q;
	for (uint16_t i = 0; i < n_q; i++)
		vt->q[i].fd = -1;
	for (uint16_t i = 0; i < n_q; i++) {
		struct vtap_q *q = &vt->q[i];
		char name[RTE_RING_NAMESIZE];
		unsigned int s = __atomic_fetch_add(&vtap_serial, 1, __ATOMIC_RELAXED);

		rc = vtap_open_queue(ifname, &q->fd, &step);
		if (rc < 0) {
			snprintf(err, errlen, "cannot %s for \"%s\": %s%s", step, ifname,
				 strerror(-rc), rc == -EPERM ? " (dpnetd needs CAP_NET_ADMIN)" :
				 rc == -EINVAL ? " (the kernel lacks IFF_VNET_HDR or multi-queue "
				 "TAP support)" : "");
			goto fail;
		}
		snprintf(name, sizeof(name), "vtap%u_rx", s);
		q->rx = rte_ring_create(name, VTAP_RX_RING, pool->socket_id,
					RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "vtap%u_tx", s);
		q->tx = rte_ring_create(name, VTAP_TX_RING, pool->socket_id,
					RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (q->rx == NULL || q->tx == NULL) {
			rc = -ENOMEM;
			snprintf(err, errlen, "cannot create the rings of vtap \"%s\": %s (raise "
				 "eal.memory_mb)", ifname, rte_strerror(rte_errno));
			goto fail;
		}
		rx[i] = q->rx;
		tx[i] = q->tx;
	}
	rc = vtap_set_gso_max(ifname, VTAP_GSO_MAX_SIZE);
	if (rc < 0) {
		snprintf(err, errlen, "cannot lower gso_max_size of \"%s\" to %u: %s (the kernel "
			 "must accept IFLA_GSO_MAX_SIZE on an existing link, Linux 5.19 or later)",
			 ifname, VTAP_GSO_MAX_SIZE, strerror(-rc));
		goto fail;
	}
	id = rte_eth_from_rings(dev_name, rx, n_q, tx, n_q, (unsigned int)pool->socket_id);
	if (id < 0) {
		rc = -rte_errno;
		snprintf(err, errlen, "cannot create the ring ethdev \"%s\" of vtap \"%s\": %s",
			 dev_name, ifname, rte_strerror(rte_errno));
		goto fail;
	}
	snprintf(vt->vdev, sizeof(vt->vdev), "net_ring_%s", dev_name);
	vt->port_id = (uint16_t)id;
	*port_id = (uint16_t)id;
	*out = vt;
	VTAP_LOG(INFO, "%s: %u queue(s), ethdev %u (%s)\n", ifname, n_q, vt->port_id, vt->vdev);
	return 0;
fail:
	vtap_free(vt);  /* closing the last descriptor deletes the interface */
	return rc;
}

void
vtap_destroy(struct vtap *vt)
{
	if (vt == NULL)
		return;
	rte_eth_dev_stop(vt->port_id);
	rte_eth_dev_close(vt->port_id);  /* releases the port: the rings are ours */
	if (rte_vdev_uninit(vt->vdev) != 0)
		VTAP_LOG(WARNING, "%s: device %s not removed cleanly\n", vt->ifname, vt->vdev);
	VTAP_LOG(INFO, "%s: removed\n", vt->ifname);
	vtap_free(vt);
}

/* Count what a kept frame carries. */
static inline void
vtap_rx_count(struct vtap_q *q, const struct rte_mbuf *m)
{
	if (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG)
		q->rx_gso++;
	if (m->ol_flags & RTE_MBUF_F_TX_L4_MASK)
		q->rx_csum++;
}

unsigned int
vtap_rx_fill(struct vtap *vt, uint16_t qid)
{
	struct vtap_q *q = &vt->q[qid];
	struct rte_mbuf *got[VTAP_BURST];
	unsigned int n = 0, room = rte_ring_free_count(q->rx);

	if (room > VTAP_BURST)
		room = VTAP_BURST;
	/* Bounded in reads too: frames refused (or a read that returns less than a
	 * header) do not fill the burst, and a container writing them as fast as
	 * we read must not keep the worker here. */
	for (unsigned int reads = 0; n < room && reads < 2 * VTAP_BURST; reads++) {
		struct virtio_net_hdr h;
		struct iovec iov[3];
		struct rte_mbuf *m;
		uint32_t len, cap1, cap2 = 0;
		ssize_t r;

		if (unlikely(q->spare == NULL)) {
			q->spare = rte_pktmbuf_alloc(vt->pool);
			if (q->spare == NULL) {
				q->rx_no_mbuf++;
				break;
			}
		}
		if (unlikely(RTE_PER_LCORE(vtap_spare_big) == NULL))
			RTE_PER_LCORE(vtap_spare_big) = rte_pktmbuf_alloc(vtap_big_pool);
		cap1 = rte_pktmbuf_tailroom(q->spare);
		iov[0].iov_base = &h;
		iov[0].iov_len = sizeof(h);
		iov[1].iov_base = rte_pktmbuf_mtod(q->spare, void *);
		iov[1].iov_len = cap1;
		if (likely(RTE_PER_LCORE(vtap_spare_big) != NULL)) {
			cap2 = rte_pktmbuf_tailroom(RTE_PER_LCORE(vtap_spare_big)) - cap1;
			iov[2].iov_base = rte_pktmbuf_mtod_offset(RTE_PER_LCORE(vtap_spare_big),
								  void *, cap1);
			iov[2].iov_len = cap2;
		}
		r = readv(q->fd, iov, cap2 ? 3 : 2);
		if (r < (ssize_t)sizeof(h)) {
			if (r >= 0)
				q->rx_bad_vnet++;
			if (r < 0)
				break;  /* EAGAIN: nothing more; other errors: next loop */
			continue;
		}
		len = (uint32_t)r - sizeof(h);
		if (len <= cap1) {
			m = q->spare;
			q->spare = NULL;
		} else if (cap2 == 0) {
			/* No big mbuf for it: what was read is only its head. */
			q->rx_no_mbuf++;
			continue;
		} else if (len >= cap1 + cap2) {
			q->rx_bad_vnet++;  /* filled both: longer than any mbuf */
			continue;
		} else {
			m = RTE_PER_LCORE(vtap_spare_big);
			RTE_PER_LCORE(vtap_spare_big) = NULL;
			rte_memcpy(rte_pktmbuf_mtod(m, void *), rte_pktmbuf_mtod(q->spare, void *),
				   cap1);
		}
		m->data_len = (uint16_t)len;
		m->pkt_len = len;
		m->port = vt->port_id;
		if (unlikely(vtap_vnet_rx(&h, m) < 0)) {
			q->rx_bad_vnet++;
			rte_pktmbuf_free(m);
			continue;
		}
		vtap_rx_count(q, m);
		got[n++] = m;
	}
	if (n > 0)
		rte_ring_sp_enqueue_burst(q->rx, (void **)got, n, NULL); /* room checked */
	return n;
}

/* Write one frame: 0, or -errno. */
static inline int
vtap_write(int fd, struct rte_mbuf *m)
{
	struct iovec iov[VTAP_MAX_SEGS];
	struct virtio_net_hdr h;
	unsigned int k = 1;

	vtap_vnet_tx(m, &h);
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
		if (k == VTAP_MAX_SEGS)
			return -EMSGSIZE;
		iov[k].iov_base = rte_pktmbuf_mtod(s, void *);
		iov[k].iov_len = s->data_len;
		k++;
	}
	return writev(fd, iov, (int)k) < 0 ? -errno : 0;
}

unsigned int
vtap_tx_drain(struct vtap *vt, uint16_t qid)
{
	struct vtap_q *q = &vt->q[qid % vt->n_q];
	struct rte_mbuf *pkts[VTAP_BURST];
	unsigned int total = 0, n;

	do {
		n = rte_ring_sc_dequeue_burst(q->tx, (void **)pkts, VTAP_BURST, NULL);
		for (unsigned int i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[i];

			if (unlikely(vtap_write(q->fd, m) < 0))
				q->tx_errors++;
			else if (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG)
				q->tx_gso++;
			rte_pktmbuf_free(m);
		}
		total += n;
	} while (n == VTAP_BURST);
	return total;
}

int
vtap_probe(char *why, size_t len)
{
	char name[IFNAMSIZ];
	const char *step = "";
	int fd = -1, rc;

	snprintf(name, sizeof(name), "dpvprobe%u", (unsigned int)getpid() % 100000u);
	rc = vtap_open_queue(name, &fd, &step);
	if (rc < 0) {
		snprintf(why, len, "cannot %s: %s", step, strerror(-rc));
		return rc;
	}
	rc = vtap_set_gso_max(name, VTAP_GSO_MAX_SIZE);
	if (rc < 0)
		snprintf(why, len, "cannot lower a TAP's gso_max_size to %u: %s (Linux 5.19 or "
			 "later sets it on an existing link)", VTAP_GSO_MAX_SIZE,
			 rc == -EOPNOTSUPP ? "the kernel ignores it" : strerror(-rc));
	close(fd);  /* the last descriptor: the interface goes */
	return rc;
}

int
vtap_queue_fd(const struct vtap *vt, uint16_t q)
{
	return q < vt->n_q ? vt->q[q].fd : -1;
}

void
vtap_stats(const struct vtap *vt, struct vtap_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (uint16_t i = 0; i < vt->n_q; i++) {
		const struct vtap_q *q = &vt->q[i];

		out->rx_gso += __atomic_load_n(&q->rx_gso, __ATOMIC_RELAXED);
		out->rx_csum += __atomic_load_n(&q->rx_csum, __ATOMIC_RELAXED);
		out->rx_bad_vnet += __atomic_load_n(&q->rx_bad_vnet, __ATOMIC_RELAXED);
		out->rx_no_mbuf += __atomic_load_n(&q->rx_no_mbuf, __ATOMIC_RELAXED);
		out->tx_gso += __atomic_load_n(&q->tx_gso, __ATOMIC_RELAXED);
		out->tx_errors += __atomic_load_n(&q->tx_errors, __ATOMIC_RELAXED);
	}
}
