/*
 * netns.c - named network namespaces, veth pairs, links, addresses and routes
 * through netlink (libmnl), and the offload switches of container interfaces.
 * See netns.h for the API.
 *
 * Namespaces are made the way iproute2 makes them, so `ip netns` and dpnet see
 * the same thing: /run/netns is a shared mount point (bound on itself once if
 * needed), NAME is an empty file there, and a thread that unshared its network
 * namespace bind-mounts /proc/thread-self/ns/net on it, then exits. The
 * namespace lives as long as the mount (or a process in it) does.
 *
 * Offloads, and why (issue 3): a container's traffic reaches the switch either
 * through a veth pair whose host end is an AF_PACKET port, or through a TAP
 * moved into the namespace.
 *  - veth: AF_PACKET on the host end sees skbs as the container's end sent
 *    them. With the kernel's defaults those are CHECKSUM_PARTIAL (the checksum
 *    is left for "hardware" to finish) and, with TSO/GSO, super-frames of up to
 *    64 KB; GRO on either end would build such frames too. dpnet does not
 *    complete checksums or segment, so dpnet sets the interfaces it creates so
 *    that this never happens: on BOTH ends of every veth it turns off every
 *    TX checksum feature (tx-checksumming), scatter-gather, every TCP/UDP
 *    segmentation offload (TSO, tx-tcp-accecn-segmentation, USO...), GSO and
 *    GRO and LRO (eth_offloads_off: ETHTOOL_SFEATURES by feature name, so features
 *    newer than the legacy ETHTOOL_S* calls are covered too). The container's
 *    kernel then computes every checksum and sends MTU-sized frames; nothing
 *    inside the container has to be configured by the user. RX checksum
 *    offload stays on: it only lets the receiving kernel skip a verification.
 *  - tap: net_tap opens the TAP without IFF_VNET_HDR and sets no TUNSETOFFLOAD,
 *    so the kernel finishes checksums and segments before the frame reaches the
 *    TAP's file descriptor. Nothing to switch off.
 *  - an afpacket uplink (a NIC, or a veth into an underlay): the same holds for
 *    what arrives there - with GRO/LRO the kernel hands AF_PACKET TCP frames
 *    of up to 64 KB, which net_af_packet truncates to its ring's frame size
 *    and the parser drops as malformed - so control/uplink.c calls
 *    eth_offloads_off on its interface too.
 * Interfaces dpnet did not create (a namespace attached with --netns keeps its
 * own interfaces) are not touched; only the ethN dpnet adds there is set.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "netns.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

#ifndef IFALIASZ
#define IFALIASZ 256 /* linux/if.h, which clashes with net/if.h */
#endif

#define NL_BUF (32 * 1024)

/* ---------------------------------------------------------------- namespaces */

void
netns_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", NETNS_RUN_DIR, name);
}

static bool
netns_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < NAME_MAX && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0;
}

/* /run/netns a shared mount, as iproute2 leaves it, so mounts propagate. */
static int
netns_rundir(void)
{
	if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	/* Not a mount point yet: bind it on itself, then make it shared. */
	if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
		return -errno;
	return 0;
}

struct netns_add_job {
	const char *path;         /* /run/netns/NAME */
	const char *lo_alias;     /* tag for lo, or NULL */
};

/*
 * What the unsharing thread does: new namespace, lo tagged, then the file made
 * and the namespace bound on it - so that once NAME exists as a namespace it
 * already carries its tag (the file alone exists only between open and mount).
 */
static void *
netns_add_thread(void *arg)
{
	const struct netns_add_job *j = arg;
	intptr_t rc = 0;
	int fd;

	if (unshare(CLONE_NEWNET) < 0)
		return (void *)(intptr_t)-errno;
	if (j->lo_alias != NULL) {
		rc = nl_link_set_alias("lo", j->lo_alias);
		if (rc < 0)
			return (void *)rc;
	}
	fd = open(j->path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return (void *)(intptr_t)-errno;
	close(fd);
	if (mount("/proc/thread-self/ns/net", j->path, "none", MS_BIND, NULL) < 0) {
		rc = -errno;
		unlink(j->path);
	}
	return (void *)rc;
}

int
netns_add(const char *name, const char *lo_alias)
{
	char path[PATH_MAX];
	struct netns_add_job j = { .path = path, .lo_alias = lo_alias };
	pthread_t th;
	void *ret;
	int rc;

	if (!netns_name_ok(name))
		return -EINVAL;
	rc = netns_rundir();
	if (rc < 0)
		return rc;
	netns_path(name, path, sizeof(path));
	if (access(path, F_OK) == 0)
		return -EEXIST; /* early, without a namespace made for nothing */
	rc = pthread_create(&th, NULL, netns_add_thread, &j);
	if (rc != 0)
		return -rc;
	pthread_join(th, &ret);
	return (int)(intptr_t)ret;
}

int
netns_del(const char *name)
{
	char path[PATH_MAX];

	if (!netns_name_ok(name))
		return -EINVAL;
	netns_path(name, path, sizeof(path));
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return -errno;
	if (unlink(path) < 0)
		return -errno;
	return 0;
}

int
netns_open(const char *name_or_path)
{
	char path[PATH_MAX];
	struct statfs sfs;
	int fd, opath;

	if (strchr(name_or_path, '/') != NULL)
		snprintf(path, sizeof(path), "%s", name_or_path);
	else if (netns_name_ok(name_or_path))
		netns_path(name_or_path, path, sizeof(path));
	else
		return -EINVAL;
	/*
	 * The path may come from a client (connect --netns) or a state file: open
	 * it without side effects first (O_PATH neither blocks on a FIFO nor wakes a
	 * device), make sure it lives on nsfs, and only then open it for real.
	 */
	opath = open(path, O_PATH | O_CLOEXEC);
	if (opath < 0)
		return -errno;
	if (fstatfs(opath, &sfs) != 0 || sfs.f_type != NSFS_MAGIC) {
		close(opath);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", opath);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	close(opath);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		/* Not a namespace at all (ENOTTY), or another kind of namespace. */
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int
netns_ident(int fd, uint64_t *dev, uint64_t *ino)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	*dev = (uint64_t)st.st_dev;
	*ino = (uint64_t)st.st_ino;
	return 0;
}

bool
netns_is_netns(const char *path)
{
	int fd = netns_open(path);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* ---------------------------------------------------------------- threads */

struct netns_job {
	int nsfd;                 /* namespace to join, < 0 for none */
	int (*fn)(void *);        /* the work */
	void *arg;                /* its argument */
	int rc;                   /* its result */
};

static void *
netns_job_thread(void *p)
{
	struct netns_job *j = p;
	int ncpu = get_nprocs_conf();
	cpu_set_t set;

	CPU_ZERO(&set);
	for (int i = 0; i < ncpu && i < CPU_SETSIZE; i++)
		CPU_SET(i, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set); /* best effort */
	if (j->nsfd >= 0 && setns(j->nsfd, CLONE_NEWNET) < 0) {
		j->rc = -errno;
		return NULL;
	}
	j->rc = j->fn(j->arg);
	return NULL;
}

int
netns_run(int nsfd, int (*fn)(void *arg), void *arg)
{
	struct netns_job j = { .nsfd = nsfd, .fn = fn, .arg = arg, .rc = 0 };
	pthread_t th;
	int rc;

	rc = pthread_create(&th, NULL, netns_job_thread, &j);
	if (rc != 0)
		return -rc;
	pthread_join(th, NULL);
	return j.rc;
}

/* ---------------------------------------------------------------- netlink */

/*
 * Send one request with NLM_F_ACK on a fresh socket (in the calling thread's
 * namespace) and run cb over the answers. Returns 0 or -errno (the kernel's).
 */
static int
nl_talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	struct mnl_socket *nl;
	unsigned int seq, portid;
	char *buf;
	int rc = 0;

	buf = malloc(NL_BUF);
	if (buf == NULL)
		return -ENOMEM;
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (nl == NULL) {
		rc = -errno;
		free(buf);
		return rc;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	seq = (unsigned int)time(NULL) ^ (unsigned int)rand();
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, NL_BUF);
		int r;

		if (n < 0) {
			rc = -errno;
			break;
		}
		r = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		if (r < 0) {
			rc = errno != 0 ? -errno : -EIO;
			break;
		}
		if (r == MNL_CB_STOP)
			break;
	}
out:
	mnl_socket_close(nl);
	free(buf);
	return rc;
}

static struct nlmsghdr *
nl_req(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, NL_BUF);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

static int
nl_ifindex(const char *ifname, int *index)
{
	unsigned int i = if_nametoindex(ifname);

	*index = 0;
	if (i == 0)
		return errno == ENXIO || errno == ENOENT || errno == 0 ? -ENODEV : -errno;
	*index = (int)i;
	return 0;
}

/*
 * Start an RTM_*LINK request about an existing interface: resolve its index,
 * allocate the message buffer (the caller frees *bufp after nl_talk) and fill
 * the ifinfomsg header; the caller adds its attributes.
 */
static int
nl_link_req(const char *ifname, uint16_t type, char **bufp, struct nlmsghdr **nlhp)
{
	struct ifinfomsg *ifm;
	int index, rc;

	rc = nl_ifindex(ifname, &index);
	if (rc < 0)
		return rc;
	*bufp = malloc(NL_BUF);
	if (*bufp == NULL)
		return -ENOMEM;
	*nlhp = nl_req(*bufp, type, 0);
	ifm = mnl_nlmsg_put_extra_header(*nlhp, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = index;
	return 0;
}

int
nl_veth_add(const char *host_if, const char *peer_if, int peer_nsfd, const uint8_t *peer_mac,
	    unsigned int mtu)
{
	struct nlattr *linkinfo, *data, *peer;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm, *pifm;
	char *buf = malloc(NL_BUF);
	int rc;

	if (buf == NULL)
		return -ENOMEM;
	nlh = nl_req(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, host_if);
	if (mtu > 0)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* The peer's attributes follow an ifinfomsg of its own. */
	pifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifm));
	pifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_if);
	if (mtu > 0)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (peer_mac != NULL)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, peer_mac);
	if (peer_nsfd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_nsfd);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	rc = nl_talk(nlh, NULL, NULL);
	free(buf);
	return rc;
}

int
nl_link_del(const char *ifname)
{
	struct nlmsghdr *nlh;
	char *buf;
	int rc;

	rc = nl_link_req(ifname, RTM_DELLINK, &buf, &nlh);
	if (rc < 0)
		return rc;
	rc = nl_talk(nlh, NULL, NULL);
	free(buf);
	return rc;
}

int
nl_link_move(const char *ifname, int nsfd, const char *newname)
{
	struct nlmsghdr *nlh;
	char *buf;
	int rc;

	rc = nl_link_req(ifname, RTM_NEWLINK, &buf, &nlh);
	if (rc < 0)
		return rc;
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd);
	/* The name it takes in the target namespace (kernel: dev_change_net_namespace). */
	if (newname != NULL)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, newname);
	rc = nl_talk(nlh, NULL, NULL);
	free(buf);
	return rc;
}

int
nl_link_set(const char *ifname, const uint8_t *mac, unsigned int mtu, bool up)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	char *buf;
	int rc;

	rc = nl_link_req(ifname, RTM_NEWLINK, &buf, &nlh);
	if (rc < 0)
		return rc;
	ifm = mnl_nlmsg_get_payload(nlh);
	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = up ? IFF_UP : 0;
	if (mac != NULL)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	if (mtu > 0)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	rc = nl_talk(nlh, NULL, NULL);
	free(buf);
	return rc;
}

int
nl_link_set_alias(const char *ifname, const char *alias)
{
	struct nlmsghdr *nlh;
	char *buf;
	int rc;

	if (strlen(alias) >= IFALIASZ)
		return -EINVAL;
	rc = nl_link_req(ifname, RTM_NEWLINK, &buf, &nlh);
	if (rc < 0)
		return rc;
	mnl_attr_put_strz(nlh, IFLA_IFALIAS, alias);
	rc = nl_talk(nlh, NULL, NULL);
	free(buf);
	return rc;
}

struct nl_alias {
	char *buf;
	size_t len;
};

static int
nl_alias_attr_cb(const struct nlattr *a, void *data)
{
	struct nl_alias *al = data;

	if (mnl_attr_get_type(a) == IFLA_IFALIAS && mnl_attr_validate(a, MNL_TYPE_STRING) >= 0)
		snprintf(al->buf, al->len, "%.*s", (int)mnl_attr_get_payload_len(a),
			 (const char *)mnl_attr_get_payload(a));
	return MNL_CB_OK;
}

static int
nl_alias_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWLINK)
		mnl_attr_parse(nlh, sizeof(struct ifinfomsg), nl_alias_attr_cb, data);
	return MNL_CB_OK;
}

int
nl_link_get_alias(const char *ifname, char *alias, size_t len)
{
	struct nl_alias al = { .buf = alias, .len = len };
	struct nlmsghdr *nlh;
	char *buf;
	int rc;

	if (len == 0)
		return -EINVAL;
	alias[0] = '\0';
	rc = nl_link_req(ifname, RTM_GETLINK, &buf, &nlh);
	if (rc < 0)
		return rc;
	rc = nl_talk(nlh, nl_alias_cb, &al);
	free(buf);
	return rc;
}

/* RTM_NEWADDR (create) or RTM_DELADDR of addr/prefix_len on ifname. */
static int
nl_addr(uint16_t type, const char *ifname, uint32_t addr, uint8_t prefix_len)
{
	uint32_t mask = prefix_len == 0 ? 0 : ~(uint32_t)0 << (32 - prefix_len);
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	uint32_t a = htonl(addr), b = htonl(addr | ~mask);
	char *buf;
	int index, rc;

	rc = nl_ifindex(ifname, &index);
	if (rc < 0)
		return rc;
	buf = malloc(NL_BUF);
	if (buf == NULL)
		return -ENOMEM;
	nlh = nl_req(buf, type, type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = prefix_len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)index;
	mnl_attr_put_u32(nlh, IFA_LOCAL, a);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, a);
	if (prefix_len < 31)
		mnl_attr_put_u32(nlh, IFA_BROADCAST, b);
	rc = nl_talk(nlh, NULL, NULL);
	free(buf);
	return rc;
}

int
nl_addr_add(const char *ifname, uint32_t addr, uint8_t prefix_len)
{
	return nl_addr(RTM_NEWADDR, ifname, addr, prefix_len);
}

int
nl_addr_del(const char *ifname, uint32_t addr, uint8_t prefix_len)
{
	return nl_addr(RTM_DELADDR, ifname, addr, prefix_len);
}

int
nl_route_add_default(const char *ifname, uint32_t gw)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	char *buf;
	int index, rc;

	rc = nl_ifindex(ifname, &index);
	if (rc < 0)
		return rc;
	buf = malloc(NL_BUF);
	if (buf == NULL)
		return -ENOMEM;
	nlh = nl_req(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(gw));
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)index);
	rc = nl_talk(nlh, NULL, NULL);
	free(buf);
	return rc;
}

static int
nl_default_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	int *found = data;

	if (nlh->nlmsg_type == RTM_NEWROUTE && rtm->rtm_family == AF_INET &&
	    rtm->rtm_dst_len == 0 && rtm->rtm_table == RT_TABLE_MAIN &&
	    rtm->rtm_type == RTN_UNICAST)
		*found = 1;
	return MNL_CB_OK;
}

int
nl_route_has_default(void)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	char *buf = malloc(NL_BUF);
	int found = 0, rc;

	if (buf == NULL)
		return -ENOMEM;
	nlh = nl_req(buf, RTM_GETROUTE, NLM_F_DUMP);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rc = nl_talk(nlh, nl_default_cb, &found);
	free(buf);
	return rc < 0 ? rc : found;
}

/* ---------------------------------------------------------------- offloads */

/* Is this ethtool feature one that hands AF_PACKET unfinished frames? */
static bool
eth_feature_unwanted(const char *name)
{
	if (strncmp(name, "tx-checksum", 11) == 0 || strncmp(name, "tx-scatter-gather", 17) == 0)
		return true;
	if (strncmp(name, "tx-", 3) == 0 && strstr(name, "segmentation") != NULL)
		return true;
	if (strncmp(name, "tx-gso", 6) == 0)
		return true;
	/* LRO (large-receive-offload) builds super-frames as GRO does, in the NIC. */
	if (strcmp(name, "rx-lro") == 0)
		return true;
	return strncmp(name, "rx-gro", 6) == 0 || strstr(name, "-gro") != NULL;
}

/*
 * Every unwanted feature off in one ETHTOOL_SFEATURES call, by name, so that
 * features newer than the legacy calls know (tx-tcp-accecn-segmentation,
 * tx-udp-segmentation...) are covered too.
 */
static int
eth_features_off(int fd, const char *ifname)
{
	struct ethtool_sset_info *info;
	struct ethtool_gstrings *names = NULL;
	struct ethtool_sfeatures *sf = NULL;
	struct ifreq ifr;
	uint32_t n, blocks;
	int rc = 0;

	info = calloc(1, sizeof(*info) + sizeof(uint32_t));
	if (info == NULL)
		return -ENOMEM;
	info->cmd = ETHTOOL_GSSET_INFO;
	info->sset_mask = 1ULL << ETH_SS_FEATURES;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
	ifr.ifr_data = (void *)info;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0 || info->sset_mask == 0) {
		rc = -errno;
		goto out;
	}
	n = info->data[0];
	blocks = (n + 31) / 32;
	names = calloc(1, sizeof(*names) + (size_t)n * ETH_GSTRING_LEN);
	sf = calloc(1, sizeof(*sf) + blocks * sizeof(sf->features[0]));
	if (names == NULL || sf == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_FEATURES;
	names->len = n;
	ifr.ifr_data = (void *)names;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
		rc = -errno;
		goto out;
	}
	sf->cmd = ETHTOOL_SFEATURES;
	sf->size = blocks;
	for (uint32_t i = 0; i < n; i++) {
		char name[ETH_GSTRING_LEN + 1];

		memcpy(name, names->data + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
		name[ETH_GSTRING_LEN] = '\0';
		if (eth_feature_unwanted(name))
			sf->features[i / 32].valid |= 1u << (i % 32); /* requested: 0 = off */
	}
	ifr.ifr_data = (void *)sf;
	/* A positive answer (ETHTOOL_F_WISH...) means some stay fixed on: see below. */
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		rc = -errno;
out:
	free(info);
	free(names);
	free(sf);
	return rc;
}

int
eth_offloads_off(const char *ifname)
{
	/* Legacy calls too: GRO first, TX checksum before SG/TSO (they depend on it). */
	static const uint32_t cmds[] = {
		ETHTOOL_SGRO, ETHTOOL_SGSO, ETHTOOL_STSO, ETHTOOL_STXCSUM, ETHTOOL_SSG,
	};
	struct ethtool_value ev;
	struct ifreq ifr;
	int fd, rc = 0;

	if (strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		memset(&ifr, 0, sizeof(ifr));
		memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
		ev.cmd = cmds[i];
		ev.data = 0;
		ifr.ifr_data = (void *)&ev;
		if (ioctl(fd, SIOCETHTOOL, &ifr) < 0 && errno != EOPNOTSUPP && rc == 0)
			rc = -errno;
	}
	/* LRO is a flag of the legacy calls: cleared alone, the other flags kept. */
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
	ev.cmd = ETHTOOL_GFLAGS;
	ev.data = 0;
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0 && (ev.data & ETH_FLAG_LRO) != 0) {
		ev.cmd = ETHTOOL_SFLAGS;
		ev.data &= ~(uint32_t)ETH_FLAG_LRO;
		if (ioctl(fd, SIOCETHTOOL, &ifr) < 0 && errno != EOPNOTSUPP && rc == 0)
			rc = -errno;
	}
	/* The by-name call decides when it works; the legacy result otherwise. */
	if (eth_features_off(fd, ifname) == 0)
		rc = 0;
	close(fd);
	return rc;
}

/* Write one value to a sysctl of an interface; missing_ok for optional trees. */
static int
netns_ifsysctl(const char *fmt, const char *ifname, const char *value, bool missing_ok)
{
	char path[128];
	int fd, rc = 0;

	snprintf(path, sizeof(path), fmt, ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT && missing_ok ? 0 : -errno;
	if (write(fd, value, strlen(value)) != (ssize_t)strlen(value))
		rc = -errno;
	close(fd);
	return rc;
}

int
netns_ipv6_off(const char *ifname)
{
	/* A kernel without IPv6 has no such file: nothing to turn off. */
	return netns_ifsysctl("/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname, "1", true);
}

int
netns_arp_off(const char *ifname)
{
	return netns_ifsysctl("/proc/sys/net/ipv4/conf/%s/arp_ignore", ifname, "8", false);
}

int
netns_forwarding_off(const char *ifname)
{
	return netns_ifsysctl("/proc/sys/net/ipv4/conf/%s/forwarding", ifname, "0", false);
}
