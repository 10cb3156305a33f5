/*
 * netns.h - network namespaces and the links of containers, through netlink
 * (libmnl) and a few ioctls; never by running `ip`.
 *
 * Namespaces: netns_add() makes a named namespace exactly as `ip netns add`
 * does (a bind mount of a fresh namespace on /run/netns/NAME), so `ip netns`
 * lists it and `ip netns exec` enters it; netns_del() undoes it. netns_open()
 * gives a descriptor for a name or for any path (/proc/PID/ns/net, a bind mount
 * made by another runtime).
 *
 * Links: every nl_* function acts in the network namespace of the calling
 * thread. To act inside a container's namespace, run the work through
 * netns_run(), which executes a function on a short-lived thread that has
 * joined the namespace (setns) and exits afterwards, so the caller's own
 * namespace never changes.
 *
 * Thread safety: the functions keep no global state; callers serialise (the
 * control thread). Addresses are IPv4 in host byte order; MACs are 6 bytes.
 */
#ifndef DPNET_NETNS_H
#define DPNET_NETNS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETNS_RUN_DIR "/run/netns"

/*
 * Create /run/netns/NAME holding a new, empty namespace whose lo has the alias
 * lo_alias (NULL: none) from before NAME exists: a tag that tells later whose
 * namespace it is (inode numbers of freed namespaces are reused). -EEXIST if
 * taken.
 */
int netns_add(const char *name, const char *lo_alias);
/* Remove a named namespace (lazy unmount + unlink); -ENOENT if absent. */
int netns_del(const char *name);
/* "/run/netns/NAME" into buf. */
void netns_path(const char *name, char *buf, size_t len);
/* O_RDONLY|O_CLOEXEC descriptor of a namespace: a path if it holds a '/', else a name. */
int netns_open(const char *name_or_path);
/* Identity (device, inode) of a namespace file or descriptor; 0 or -errno. */
int netns_ident(int fd, uint64_t *dev, uint64_t *ino);
/* Is this path a network namespace (a nsfs file of type net)? */
bool netns_is_netns(const char *path);

/*
 * Run fn(arg) on a new thread that first joins namespace nsfd (nsfd < 0: stays
 * in the caller's). Returns fn's result, or -errno if the thread or setns failed.
 * The thread's CPU affinity is reset to every online CPU, so processes spawned
 * from it are not pinned to the control thread's lcore.
 */
int netns_run(int nsfd, int (*fn)(void *arg), void *arg);

/* ---- links, in the calling thread's namespace; 0 or -errno ---- */

/*
 * A veth pair: host_if here (MTU mtu), peer_if in namespace peer_nsfd with MAC
 * peer_mac and MTU mtu, both down. -EEXIST when a name is taken.
 */
int nl_veth_add(const char *host_if, const char *peer_if, int peer_nsfd,
		const uint8_t *peer_mac, unsigned int mtu);
/* Delete a link by name; -ENODEV when absent. */
int nl_link_del(const char *ifname);
/* Move a link into namespace nsfd, renamed newname there (NULL: same name). */
int nl_link_move(const char *ifname, int nsfd, const char *newname);
/* Set MAC (NULL: keep), MTU (0: keep) and state up (or down). */
int nl_link_set(const char *ifname, const uint8_t *mac, unsigned int mtu, bool up);
/* Set the alias (IFLA_IFALIAS, "ip link set IF alias ...") of a link. */
int nl_link_set_alias(const char *ifname, const char *alias);
/* The alias of a link into alias ("" when it has none). */
int nl_link_get_alias(const char *ifname, char *alias, size_t len);
/* Add addr/prefix_len (broadcast derived) to a link; -EEXIST if present. */
int nl_addr_add(const char *ifname, uint32_t addr, uint8_t prefix_len);
/* Remove addr/prefix_len from a link; -EADDRNOTAVAIL if absent, -ENODEV if no link. */
int nl_addr_del(const char *ifname, uint32_t addr, uint8_t prefix_len);
/* Default route via gw out of ifname; -EEXIST if a default route exists. */
int nl_route_add_default(const char *ifname, uint32_t gw);
/* Is there an IPv4 default route in this namespace? 1, 0 or -errno. */
int nl_route_has_default(void);

/*
 * Offloads that would hand AF_PACKET unfinished frames, off: every TX checksum
 * and segmentation feature, scatter-gather, GSO, GRO, LRO (SIOCETHTOOL, by
 * feature name; the legacy calls too). 0, or the error of the legacy calls when the
 * by-name call is not supported.
 */
int eth_offloads_off(const char *ifname);
/* net.ipv6.conf.IF.disable_ipv6 = 1 in the calling thread's namespace. */
int netns_ipv6_off(const char *ifname);
/*
 * net.ipv4.conf.IF.arp_ignore = 8: the kernel answers no ARP request that
 * arrives on IF. For the host end of a veth attached to the switch: the host
 * owns the gateway addresses in TAP mode (on dpnet0), and without this its
 * kernel would answer a container's ARP for the gateway with the veth's MAC.
 */
int netns_arp_off(const char *ifname);
/*
 * net.ipv4.conf.IF.forwarding = 0: the kernel forwards nothing that arrives
 * on IF. For the kernel side of an afpacket uplink, whose MAC is dpnet's on
 * the uplink network: frames to dpnet must not be routed by the host too.
 */
int netns_forwarding_off(const char *ifname);

#endif /* DPNET_NETNS_H */
