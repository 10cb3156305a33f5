/*
 * uplink.c - networks and the uplink as the data plane and the host see them:
 * view entries, routes, neighbours, and in TAP mode the host side of dpnet0
 * (its state and addresses, through netns.c's netlink helpers). See uplink.h
 * for exactly what is programmed, and dataplane/l3.h for how the stages use it.
 *
 * Every change is made so that a failure half-way undoes what was done: the
 * hooks are called by the network table and the port handlers, which must leave
 * everything unchanged when they fail.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_ether.h>
#include <rte_log.h>

#include "dataplane/dp.h"
#include "dataplane/l3.h"
#include "dataplane/neigh.h"
#include "dataplane/vxlan.h"
#include "drivers/port.h"
#include "ctl.h"
#include "neigh.h"
#include "netns.h"
#include "network.h"
#include "uplink.h"
#include "util.h"
#include "vxlan.h"

_Static_assert(NET_DOMAIN_UPLINK < DP_MAX_DOMAINS, "uplink domain out of range");
_Static_assert(NET_DOMAIN_HOST < DP_MAX_DOMAINS, "host domain out of range");
_Static_assert(((DP_NET_F_L3 | DP_NET_F_INTERNAL | DP_NET_F_UPLINK | DP_NET_F_PROXY_ARP) &
		(DP_NET_F_RESOLVE | DP_NET_F_HOST)) == 0, "view flags overlap");

/* The uplink as programmed (one per daemon). */
static struct {
	bool present;                   /* an uplink port is programmed */
	bool tap;                       /* a TAP whose host side we manage (TAP mode) */
	uint16_t port_id;               /* its ethdev port */
	char iface[IFNAMSIZ];           /* host interface (TAP mode) */
	struct rte_ether_addr peer_mac; /* the host interface's MAC: the peer's */
	uint32_t peer_ip;               /* default route's next hop, 0 if none */
	uint32_t address;               /* dpnet's address on the uplink network, 0 if none */
	uint8_t address_len;            /* its prefix length */
	uint32_t gateway;               /* the configured next hop (gateway:), 0 if none */
	bool subnet_route;              /* the uplink subnet's connected route is ours */
	bool host_addr;                 /* TAP: gateway/len is on the host interface */
	bool gw_neigh;                  /* TAP: the neighbour (u, gateway) is ours */
	uint16_t mtu;                   /* the uplink network's MTU (nets[u].mtu) */
	struct rte_ether_addr gw_mac;   /* nets[u].gw_mac: UPLINK_GW_MAC, or a NIC's own */
	char name[CFG_NAME_MAX];        /* the port's name, for messages */
} up;

/* The host's exception port (NIC mode; dataplane/neigh.h). */
static struct {
	bool present;                   /* programmed */
	uint16_t port_id;               /* its ethdev port */
	char name[CFG_NAME_MAX];        /* the port's name */
	char iface[IFNAMSIZ];           /* its TAP */
	char netns[CFG_NETNS_MAX];      /* where the TAP went ("": dpnetd's namespace) */
	struct rte_ether_addr host_mac; /* the TAP's host-side MAC: neighbour (h, address) */
	bool default_route;             /* a default route via the gateway was set there */
} hp;

static const uint8_t uplink_gw_mac[6] = UPLINK_GW_MAC;
static const uint8_t host_gw_mac[6] = UPLINK_HOST_GW_MAC;

static const char *
uplink_ip(uint32_t a, char *buf, size_t len)
{
	return cfg_format_ip(a, buf, len);
}

/* Docker's gateway MAC: 02:42 followed by the gateway's IPv4 address. */
static void
uplink_net_mac(uint32_t gw, struct rte_ether_addr *m)
{
	m->addr_bytes[0] = 0x02;
	m->addr_bytes[1] = 0x42;
	m->addr_bytes[2] = (uint8_t)(gw >> 24);
	m->addr_bytes[3] = (uint8_t)(gw >> 16);
	m->addr_bytes[4] = (uint8_t)(gw >> 8);
	m->addr_bytes[5] = (uint8_t)gw;
}

/* Publish a view whose nets[domain] is nv (NULL: cleared); uplink_port if set. */
static int
uplink_publish(struct ctl *c, uint16_t domain, const struct dp_net_view *nv,
	       const uint16_t *uplink_port)
{
	struct dp_view *v = dp_view_clone(c->dp);

	if (v == NULL)
		return -ENOMEM;
	if (nv != NULL)
		v->nets[domain] = *nv;
	else
		memset(&v->nets[domain], 0, sizeof(v->nets[domain]));
	if (uplink_port != NULL)
		v->uplink_port = *uplink_port;
	dp_view_publish(c->dp, v);
	return 0;
}

/* Publish a view whose nets[NET_DOMAIN_HOST] is nv (NULL: cleared) and whose
 * host_port is port (RTE_MAX_ETHPORTS: none), in one step (neigh.h). */
static int
uplink_publish_host(struct ctl *c, const struct dp_net_view *nv, uint16_t port)
{
	struct dp_view *v = dp_view_clone(c->dp);

	if (v == NULL)
		return -ENOMEM;
	if (nv != NULL)
		v->nets[NET_DOMAIN_HOST] = *nv;
	else
		memset(&v->nets[NET_DOMAIN_HOST], 0, sizeof(v->nets[NET_DOMAIN_HOST]));
	v->host_port = port;
	dp_view_publish(c->dp, v);
	return 0;
}

/* The host side of one network in TAP mode: gateway address, neighbour (u, gw). */
static int
uplink_host_net_add(const struct net *n, char *err, size_t errlen)
{
	char a[16];
	int rc;

	rc = nl_addr_add(up.iface, n->gateway, n->prefix_len);
	if (rc < 0 && rc != -EEXIST) {
		snprintf(err, errlen, "cannot add %s/%u to the uplink interface %s: %s",
			 uplink_ip(n->gateway, a, sizeof(a)), n->prefix_len, up.iface,
			 strerror(-rc));
		return rc;
	}
	return 0;
}

static void
uplink_host_net_del(const struct net *n)
{
	char a[16];
	int rc;

	rc = nl_addr_del(up.iface, n->gateway, n->prefix_len);
	if (rc < 0 && rc != -EADDRNOTAVAIL && rc != -ENODEV)
		CTL_LOG(WARNING, "cannot remove %s/%u from %s: %s",
			uplink_ip(n->gateway, a, sizeof(a)), n->prefix_len, up.iface,
			strerror(-rc));
}

/* net_hooks.attach: view entry, connected route, host side. */
static int
uplink_net_attach(void *arg, struct net *n, char *err, size_t errlen)
{
	struct ctl *c = arg;
	struct dp_net_view nv;
	struct l3_nexthop nh = { .type = L3_NH_CONNECTED, .domain = n->domain };
	char a[16], b[16];
	int rc;

	memset(&nv, 0, sizeof(nv));
	nv.gw_ip = n->gateway;
	nv.subnet = n->subnet;
	nv.prefix_len = n->prefix_len;
	nv.flags = DP_NET_F_L3 | (n->internal ? DP_NET_F_INTERNAL : 0);
	nv.mtu = n->mtu;
	uplink_net_mac(n->gateway, &nv.gw_mac);
	/* An overlay: the pseudo-port of its remote VTEPs is a member, and its
	 * gateway MAC is this host's own (control/vxlan.h). */
	if (n->vni != 0) {
		nv.flags |= DP_NET_F_OVERLAY;
		vxlan_gw_mac(up.present ? up.address : 0, n->vni, nv.gw_mac.addr_bytes);
	}
	rc = uplink_publish(c, n->domain, &nv, NULL);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory while publishing network %s", n->name);
		return rc;
	}
	rc = l3_route_add(c->dp, n->subnet, n->prefix_len, &nh);
	if (rc < 0) {
		snprintf(err, errlen, "cannot add the route %s/%u of network %s: %s",
			 uplink_ip(n->subnet, a, sizeof(a)), n->prefix_len, n->name,
			 strerror(-rc));
		goto fail_view;
	}
	if (up.tap) {
		rc = uplink_host_net_add(n, err, errlen);
		if (rc < 0)
			goto fail_route;
		rc = l3_neigh_add(c->dp, NET_DOMAIN_UPLINK, n->gateway, &up.peer_mac);
		if (rc < 0) {
			snprintf(err, errlen, "cannot add the neighbour %s of the uplink: %s",
				 uplink_ip(n->gateway, a, sizeof(a)), strerror(-rc));
			uplink_host_net_del(n);
			goto fail_route;
		}
	}
	if (n->vni != 0) {
		rc = vxlan_net_add(c, n, err, errlen);
		if (rc < 0)
			goto fail_host;
	}
	CTL_LOG(INFO, "network %s: domain %u, gateway %s, route %s/%u connected%s%s",
		n->name, n->domain, uplink_ip(n->gateway, a, sizeof(a)),
		uplink_ip(n->subnet, b, sizeof(b)), n->prefix_len, n->internal ? ", internal" : "",
		up.tap ? ", address on the uplink" : "");
	return 0;
fail_host:
	if (up.tap) {
		l3_neigh_del(c->dp, NET_DOMAIN_UPLINK, n->gateway);
		uplink_host_net_del(n);
	}
fail_route:
	l3_route_del(c->dp, n->subnet, n->prefix_len);
fail_view:
	uplink_publish(c, n->domain, NULL, NULL);
	return rc;
}

/* net_hooks.detach: the reverse of attach. */
static void
uplink_net_detach(void *arg, struct net *n)
{
	struct ctl *c = arg;
	char a[16];
	int rc;

	if (n->vni != 0)
		vxlan_net_forget(c, n);
	if (up.tap) {
		l3_neigh_del(c->dp, NET_DOMAIN_UPLINK, n->gateway);
		uplink_host_net_del(n);
	}
	rc = l3_route_del(c->dp, n->subnet, n->prefix_len);
	if (rc < 0)
		CTL_LOG(WARNING, "network %s: cannot remove the route %s/%u: %s", n->name,
			uplink_ip(n->subnet, a, sizeof(a)), n->prefix_len, strerror(-rc));
	uplink_publish(c, n->domain, NULL, NULL);
	CTL_LOG(INFO, "network %s removed from domain %u", n->name, n->domain);
}

/* net_hooks.ep_add: the router's neighbour entry for a container. */
static int
uplink_ep_add(void *arg, struct net *n, const struct net_endpoint *ep, char *err,
	      size_t errlen)
{
	struct ctl *c = arg;
	struct rte_ether_addr mac;
	char a[16];
	int rc;

	memcpy(mac.addr_bytes, ep->mac, sizeof(mac.addr_bytes));
	if (ep->ip != 0 && ctl_neigh_is_static(n->domain, ep->ip))
		return ctl_fail(err, errlen, -EADDRINUSE, "address %s in network %s is a static "
				"neighbour (dpctl neigh ls): choose another --ip, or remove it "
				"with 'dpctl neigh rm %s --network %s'",
				uplink_ip(ep->ip, a, sizeof(a)), n->name, a, n->name);
	rc = l3_neigh_add(c->dp, n->domain, ep->ip, &mac);
	if (rc < 0)
		snprintf(err, errlen, "cannot add the neighbour %s of %s in network %s: %s",
			 uplink_ip(ep->ip, a, sizeof(a)), ep->name, n->name, strerror(-rc));
	return rc;
}

static void
uplink_ep_del(void *arg, struct net *n, const struct net_endpoint *ep)
{
	struct ctl *c = arg;

	l3_neigh_del(c->dp, n->domain, ep->ip);
}

/* net_hooks.busy: a network a static route leads into stays. */
static int
uplink_net_busy(void *arg, struct net *n, char *err, size_t errlen)
{
	char what[CFG_NET_NAME_MAX + 16];

	snprintf(what, sizeof(what), "network %s", n->name);
	if (ctl_route_busy(arg, n->domain, what, err, errlen) < 0)
		return -EBUSY;
	return ctl_neigh_busy(arg, n->domain, what, err, errlen);
}

/* net_hooks.static_peers / static_peer_add: an overlay's static peers (vxlan.c). */
static unsigned int
uplink_net_static_peers(void *arg, const struct net *n, uint32_t *ips, unsigned int max)
{
	(void)arg;
	return vxlan_static_peers(n, ips, max);
}

static int
uplink_net_static_peer_add(void *arg, struct net *n, uint32_t ip, char *err, size_t errlen)
{
	return vxlan_peer_add(arg, n, ip, VX_SRC_STATIC, err, errlen);
}

void
uplink_init(struct ctl *c)
{
	struct net_hooks h = {
		.attach = uplink_net_attach,
		.detach = uplink_net_detach,
		.ep_add = uplink_ep_add,
		.ep_del = uplink_ep_del,
		.busy = uplink_net_busy,
		.static_peers = uplink_net_static_peers,
		.static_peer_add = uplink_net_static_peer_add,
		.arg = c,
	};

	memset(&up, 0, sizeof(up));
	c->nets->hooks = h;
}

/* The MAC of a host interface (the TAP's kernel side). */
static int
uplink_iface_mac(const char *iface, struct rte_ether_addr *mac)
{
	struct ifreq ifr;
	int fd, rc = 0;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		rc = -errno;
	else
		memcpy(mac->addr_bytes, ifr.ifr_hwaddr.sa_data, RTE_ETHER_ADDR_LEN);
	close(fd);
	return rc;
}

/* Undo the TAP-mode programming of every attached network and the default route. */
static void
uplink_tap_undo(struct ctl *c)
{
	if (up.peer_ip != 0) {
		l3_route_del(c->dp, 0, 0);
		up.peer_ip = 0;
	}
	if (up.gw_neigh) {
		l3_neigh_del(c->dp, NET_DOMAIN_UPLINK, up.gateway);
		up.gw_neigh = false;
	}
	if (up.host_addr) {
		int rc = nl_addr_del(up.iface, up.gateway, up.address_len);

		if (rc < 0 && rc != -EADDRNOTAVAIL && rc != -ENODEV)
			CTL_LOG(WARNING, "cannot remove the uplink's host address from %s: %s",
				up.iface, strerror(-rc));
		up.host_addr = false;
	}
	for (unsigned int i = 0; i < NET_MAX; i++) {
		struct net *n = &c->nets->nets[i];

		if (n->name[0] != '\0' && n->attached && n->driver == NET_DRIVER_BRIDGE)
			l3_neigh_del(c->dp, NET_DOMAIN_UPLINK, n->gateway);
	}
	/* Its routes block subnets again (another uplink, or none, from now on). */
	if (up.iface[0] != '\0' && strcmp(c->nets->own_iface, up.iface) == 0)
		c->nets->own_iface[0] = '\0';
	up.tap = false;
}

/* TAP mode: the host side of dpnet0, neighbours, default route. */
static int
uplink_tap_setup(struct ctl *c, struct port *p, char *err, size_t errlen)
{
	struct net *bridge = net_find(c->nets, "bridge");
	struct l3_nexthop nh = { .type = L3_NH_GATEWAY, .domain = NET_DOMAIN_UPLINK };
	char a[16];
	int rc;

	if (strlen(p->spec.iface) >= sizeof(up.iface)) {
		snprintf(err, errlen, "uplink interface name \"%s\" is too long", p->spec.iface);
		return -ENAMETOOLONG;
	}
	memcpy(up.iface, p->spec.iface, strlen(p->spec.iface) + 1);
	/* Routes through our own uplink never make a pool look taken (network.c). */
	memcpy(c->nets->own_iface, up.iface, sizeof(c->nets->own_iface));
	if (uplink_iface_mac(up.iface, &up.peer_mac) < 0)
		up.peer_mac = p->mac; /* net_tap gives both sides the same MAC */
	/* No router solicitations or MLD reports from the host into the switch. */
	rc = netns_ipv6_off(up.iface);
	if (rc < 0)
		CTL_LOG(INFO, "uplink %s: cannot turn IPv6 off: %s", up.iface, strerror(-rc));
	rc = nl_link_set(up.iface, NULL, up.mtu != NET_MTU_DEFAULT ? up.mtu : 0, true);
	if (rc < 0) {
		snprintf(err, errlen, "cannot set the uplink interface %s up: %s", up.iface,
			 strerror(-rc));
		goto fail; /* own_iface too */
	}
	up.tap = true;
	for (unsigned int i = 0; i < NET_MAX; i++) {
		struct net *n = &c->nets->nets[i];

		if (n->name[0] == '\0' || !n->attached || n->driver != NET_DRIVER_BRIDGE)
			continue;
		rc = uplink_host_net_add(n, err, errlen);
		if (rc == 0) {
			rc = l3_neigh_add(c->dp, NET_DOMAIN_UPLINK, n->gateway, &up.peer_mac);
			if (rc < 0)
				snprintf(err, errlen, "cannot add the neighbour %s of the uplink: "
					 "%s", uplink_ip(n->gateway, a, sizeof(a)), strerror(-rc));
		}
		if (rc < 0)
			goto fail;
	}
	/* With an address: the host's side of the transfer network (gateway:) is
	 * the next hop, its address on dpnet0 and its MAC known from the start. */
	if (up.address != 0 && up.gateway != 0) {
		rc = nl_addr_add(up.iface, up.gateway, up.address_len);
		if (rc < 0 && rc != -EEXIST) {
			snprintf(err, errlen, "cannot add %s/%u to the uplink interface %s: %s",
				 uplink_ip(up.gateway, a, sizeof(a)), up.address_len, up.iface,
				 strerror(-rc));
			goto fail;
		}
		up.host_addr = true;
		rc = l3_neigh_add(c->dp, NET_DOMAIN_UPLINK, up.gateway, &up.peer_mac);
		if (rc < 0) {
			snprintf(err, errlen, "cannot add the neighbour %s of the uplink: %s",
				 uplink_ip(up.gateway, a, sizeof(a)), strerror(-rc));
			goto fail;
		}
		up.gw_neigh = true;
		nh.gw_ip = up.gateway;
		rc = l3_route_add(c->dp, 0, 0, &nh);
		if (rc < 0) {
			snprintf(err, errlen, "cannot add the default route via %s: %s",
				 uplink_ip(nh.gw_ip, a, sizeof(a)), strerror(-rc));
			goto fail;
		}
		up.peer_ip = nh.gw_ip;
		return 0;
	}
	/* Without one: the host (bridge's gateway address on dpnet0) is the way out. */
	if (bridge != NULL && bridge->attached) {
		nh.gw_ip = bridge->gateway;
		rc = l3_route_add(c->dp, 0, 0, &nh);
		if (rc < 0) {
			snprintf(err, errlen, "cannot add the default route via %s: %s",
				 uplink_ip(nh.gw_ip, a, sizeof(a)), strerror(-rc));
			goto fail;
		}
		up.peer_ip = nh.gw_ip;
	}
	return 0;
fail:
	uplink_tap_undo(c);
	return rc;
}

/* NIC mode (any other uplink type): the connected route is set already; the
 * MTU on the device; for an afpacket uplink, the kernel side of its interface
 * kept out of the way (its MAC is dpnet's: the kernel must neither answer ARP
 * nor forward what arrives there) and its offloads off (GRO/LRO super-frames
 * would be truncated by the PMD); the default route via gateway: when given,
 * whose MAC is resolved with ARP (neigh.h). */
static int
uplink_port_setup(struct ctl *c, struct port *p, char *err, size_t errlen)
{
	struct l3_nexthop nh = { .type = L3_NH_GATEWAY, .domain = NET_DOMAIN_UPLINK };
	char a[16];
	int rc;

	if (up.mtu != NET_MTU_DEFAULT) {
		rc = rte_eth_dev_set_mtu(p->port_id, up.mtu);
		if (rc < 0 && rc != -ENOTSUP) {
			snprintf(err, errlen, "cannot set the MTU of the uplink %s to %u: %s",
				 p->spec.name, up.mtu, strerror(-rc));
			return rc;
		}
		if (rc < 0)
			CTL_LOG(INFO, "uplink %s: the device sets no MTU (%u kept for routing)",
				p->spec.name, up.mtu);
	}
	if (p->spec.type == PORT_AFPACKET) {
		if (netns_ipv6_off(p->spec.iface) < 0 || netns_arp_off(p->spec.iface) < 0 ||
		    netns_forwarding_off(p->spec.iface) < 0)
			CTL_LOG(INFO, "uplink %s: cannot quiet the kernel side of %s (IPv6, ARP, "
				"forwarding off)", p->spec.name, p->spec.iface);
		/* GRO/LRO would hand AF_PACKET frames of up to 64 KB, which the PMD
		 * truncates (dropped as malformed); TSO/GSO/checksum offloads off as
		 * on veth attachments (netns.c). */
		rc = eth_offloads_off(p->spec.iface);
		if (rc < 0)
			CTL_LOG(WARNING, "uplink %s: cannot turn the offloads of %s off (GRO, "
				"LRO, TSO, GSO...): %s; large TCP frames may be dropped",
				p->spec.name, p->spec.iface, strerror(-rc));
	}
	if (up.gateway == 0)
		return 0;
	nh.gw_ip = up.gateway;
	rc = l3_route_add(c->dp, 0, 0, &nh);
	if (rc < 0) {
		snprintf(err, errlen, "cannot add the default route via %s: %s",
			 uplink_ip(nh.gw_ip, a, sizeof(a)), strerror(-rc));
		return rc;
	}
	up.peer_ip = up.gateway;
	return 0;
}

/* An address that clashes with a bridge network would make its routes ambiguous. */
static int
uplink_check_address(struct ctl *c, char *err, size_t errlen)
{
	char a[16], b[16];

	for (unsigned int i = 0; i < NET_MAX; i++) {
		const struct net *n = &c->nets->nets[i];
		uint32_t m = cfg_prefix_mask(n->prefix_len < up.address_len ? n->prefix_len :
					     up.address_len);

		if (n->name[0] == '\0' || n->driver != NET_DRIVER_BRIDGE || !n->attached)
			continue;
		if (((n->subnet ^ up.address) & m) == 0) {
			snprintf(err, errlen, "the uplink address %s/%u overlaps network %s "
				 "(%s/%u): give the uplink another subnet",
				 uplink_ip(up.address, a, sizeof(a)), up.address_len, n->name,
				 uplink_ip(n->subnet, b, sizeof(b)), n->prefix_len);
			return -EEXIST;
		}
	}
	return 0;
}

int
uplink_port_added(struct ctl *c, struct port *p, const struct cfg_port *cp, char *err,
		  size_t errlen)
{
	struct l3_nexthop conn = { .type = L3_NH_CONNECTED, .domain = NET_DOMAIN_UPLINK };
	struct dp_net_view nv;
	uint16_t pid = p->port_id, none = RTE_MAX_ETHPORTS;
	char a[16], b[16], cidr[32];
	int rc;

	if (up.present) {
		snprintf(err, errlen, "an uplink is already programmed (port id %u)", up.port_id);
		return -EEXIST;
	}
	up.address = cp->address;
	up.address_len = cp->address_len;
	up.gateway = cp->gateway;
	up.mtu = cp->mtu != 0 ? cp->mtu : NET_MTU_DEFAULT;
	snprintf(up.name, sizeof(up.name), "%s", p->spec.name);
	memcpy(up.gw_mac.addr_bytes, uplink_gw_mac, sizeof(uplink_gw_mac));
	/* NIC mode: the NIC's own MAC is dpnet's on the uplink network, and
	 * neighbours there are resolved with ARP (dataplane/neigh.h). */
	if (!port_is_tap_mode(p->spec.type) && rte_eth_macaddr_get(p->port_id, &up.gw_mac) != 0)
		up.gw_mac = p->mac;
	if (up.address != 0) {
		rc = uplink_check_address(c, err, errlen);
		if (rc < 0)
			goto fail_clear;
	}
	memset(&nv, 0, sizeof(nv));
	nv.flags = DP_NET_F_L3 | DP_NET_F_UPLINK | DP_NET_F_PROXY_ARP |
		   (!port_is_tap_mode(p->spec.type) ? DP_NET_F_RESOLVE : 0);
	nv.mtu = up.mtu;
	/* dpnet's own address there: ARP and ping answered, published ports. */
	nv.gw_ip = up.address;
	nv.subnet = up.address & cfg_prefix_mask(up.address_len);
	nv.prefix_len = up.address != 0 ? up.address_len : 0;
	nv.gw_mac = up.gw_mac;
	rc = uplink_publish(c, NET_DOMAIN_UPLINK, &nv, &pid);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory while publishing the uplink");
		goto fail_clear;
	}
	up.port_id = pid;
	if (up.address != 0) {
		rc = l3_route_add(c->dp, nv.subnet, nv.prefix_len, &conn);
		if (rc < 0) {
			snprintf(err, errlen, "cannot add the route %s/%u of the uplink: %s",
				 uplink_ip(nv.subnet, a, sizeof(a)), nv.prefix_len,
				 strerror(-rc));
			goto fail_view;
		}
		up.subnet_route = true;
		c->nets->uplink_subnet = nv.subnet;
		c->nets->uplink_len = nv.prefix_len;
	}
	c->nets->uplink_mtu = up.mtu;
	if (port_is_tap_mode(p->spec.type))
		rc = uplink_tap_setup(c, p, err, errlen);
	else
		rc = uplink_port_setup(c, p, err, errlen);
	if (rc < 0)
		goto fail_route;
	if (up.address != 0)
		snprintf(cidr, sizeof(cidr), "%s/%u", uplink_ip(up.address, a, sizeof(a)),
			 up.address_len);
	else
		snprintf(cidr, sizeof(cidr), "none");
	CTL_LOG(INFO, "uplink %s (%s %s, port id %u): domain %u, address %s, default route "
		"via %s, MTU %u%s", p->spec.name, port_type_name(p->spec.type),
		p->spec.iface[0] ? p->spec.iface : p->spec.devargs, pid, NET_DOMAIN_UPLINK,
		cidr, up.peer_ip != 0 ? uplink_ip(up.peer_ip, b, sizeof(b)) : "none", up.mtu,
		up.tap ? "" : ", neighbours resolved with ARP");
	up.present = true;
	/* Overlays: this address is their VTEP now (gateway MACs, DP_NET_F_VTEP). */
	if (vxlan_uplink_changed(c, err, errlen) < 0)
		CTL_LOG(ERR, "uplink %s: %s", p->spec.name, err);
	/* Gratuitous ARP for our address: the uplink network learns our MAC. */
	if (!up.tap && up.address != 0)
		ctl_neigh_announce(c, NET_DOMAIN_UPLINK, pid, up.address, &up.gw_mac);
	return 0;
fail_route:
	if (up.subnet_route)
		l3_route_del(c->dp, nv.subnet, nv.prefix_len);
	c->nets->uplink_len = 0;
	c->nets->uplink_mtu = 0;
fail_view:
	uplink_publish(c, NET_DOMAIN_UPLINK, NULL, &none);
fail_clear:
	memset(&up, 0, sizeof(up));
	return rc;
}

void
uplink_address(uint32_t *addr, uint8_t *prefix_len, uint32_t *gateway)
{
	*addr = up.present ? up.address : 0;
	*prefix_len = up.present ? up.address_len : 0;
	*gateway = up.present ? up.gateway : 0;
}

void
uplink_port_removed(struct ctl *c, struct port *p)
{
	uint16_t none = RTE_MAX_ETHPORTS;

	if (!up.present || up.port_id != p->port_id)
		return;
	ctl_neigh_flush(c, NET_DOMAIN_UPLINK);
	if (up.tap) {
		uplink_tap_undo(c);
	} else if (up.peer_ip != 0) {
		l3_route_del(c->dp, 0, 0);
		up.peer_ip = 0;
	}
	if (up.subnet_route)
		l3_route_del(c->dp, up.address & cfg_prefix_mask(up.address_len),
			     up.address_len);
	c->nets->uplink_len = 0;
	c->nets->uplink_mtu = 0;
	uplink_publish(c, NET_DOMAIN_UPLINK, NULL, &none);
	memset(&up, 0, sizeof(up));
	/* Overlays: no VTEP address any more (they bridge locally only). */
	{
		char err[256];

		if (vxlan_uplink_changed(c, err, sizeof(err)) < 0)
			CTL_LOG(ERR, "uplink %s removed: %s", p->spec.name, err);
	}
	CTL_LOG(INFO, "uplink %s removed: no route out", p->spec.name);
}

void
uplink_status(struct ctl *c, json_t *o)
{
	char mac[24], a[16], cidr[32];
	json_t *addrs;

	if (!up.present)
		return;
	/* Where published ports answer (from outside; containers may use their gateway). */
	if (up.address != 0) {
		snprintf(cidr, sizeof(cidr), "%s/%u", uplink_ip(up.address, a, sizeof(a)),
			 up.address_len);
		json_object_set_new(o, "address", json_string(a));
		json_object_set_new(o, "address_cidr", json_string(cidr));
	} else {
		/* No uplink address: published ports answer on the gateway addresses
		 * (from the containers): the bridge network's is the one to show. */
		struct net *bridge = net_find(c->nets, "bridge");

		json_object_set_new(o, "address", json_string(bridge != NULL && bridge->attached ?
				    uplink_ip(bridge->gateway, a, sizeof(a)) : "none"));
		json_object_set_new(o, "address_cidr", json_string(""));
	}
	json_object_set_new(o, "gateway", json_string(up.gateway != 0 ?
				uplink_ip(up.gateway, a, sizeof(a)) : ""));
	json_object_set_new(o, "mode", json_string(up.tap ? "tap" : "port"));
	json_object_set_new(o, "domain", json_integer(NET_DOMAIN_UPLINK));
	json_object_set_new(o, "gw_mac", json_string(ctl_format_mac(up.gw_mac.addr_bytes, mac,
								     sizeof(mac))));
	json_object_set_new(o, "mtu", json_integer(up.mtu));
	if (hp.present)
		json_object_set_new(o, "host_port", json_pack("{s:s, s:s, s:s, s:b, s:i}",
				    "name", hp.name, "iface", hp.iface, "netns", hp.netns,
				    "default_route", hp.default_route, "domain",
				    NET_DOMAIN_HOST));
	if (!up.tap)
		return;
	json_object_set_new(o, "peer_mac", json_string(ctl_format_mac(up.peer_mac.addr_bytes,
								      mac, sizeof(mac))));
	json_object_set_new(o, "default_via", json_string(up.peer_ip != 0 ?
				uplink_ip(up.peer_ip, a, sizeof(a)) : ""));
	addrs = json_array();
	if (addrs != NULL && up.host_addr) {
		snprintf(cidr, sizeof(cidr), "%s/%u", uplink_ip(up.gateway, a, sizeof(a)),
			 up.address_len);
		json_array_append_new(addrs, json_string(cidr));
	}
	for (unsigned int i = 0; addrs != NULL && i < NET_MAX; i++) {
		struct net *n = &c->nets->nets[i];

		if (n->name[0] == '\0' || !n->attached || n->driver != NET_DRIVER_BRIDGE)
			continue;
		snprintf(cidr, sizeof(cidr), "%s/%u", uplink_ip(n->gateway, a, sizeof(a)),
			 n->prefix_len);
		json_array_append_new(addrs, json_string(cidr));
	}
	if (addrs != NULL)
		json_object_set_new(o, "addresses", addrs);
}

bool
uplink_is_nic(void)
{
	return up.present && !up.tap && up.address != 0;
}

/* What runs in the host port's namespace (netns_run): its TAP up with the
 * uplink's address, IPv6 off, the default route via the gateway. */
struct uplink_host_job {
	const char *iface;              /* the TAP there */
	uint16_t mtu;                   /* the uplink's */
	bool default_route;             /* add one via gateway */
	bool route_added;               /* out: it was added (else one was there) */
	char *err;                      /* message on failure */
	size_t errlen;
};

static int
uplink_host_configure(void *arg)
{
	struct uplink_host_job *j = arg;
	char a[16];
	int rc;

	netns_ipv6_off(j->iface);
	rc = nl_link_set(j->iface, NULL, j->mtu, true);
	if (rc < 0)
		return ctl_fail(j->err, j->errlen, rc, "cannot set the host interface %s up: %s",
				j->iface, strerror(-rc));
	rc = nl_addr_add(j->iface, up.address, up.address_len);
	if (rc < 0 && rc != -EEXIST)
		return ctl_fail(j->err, j->errlen, rc, "cannot add %s/%u to the host interface "
				"%s: %s", uplink_ip(up.address, a, sizeof(a)), up.address_len,
				j->iface, strerror(-rc));
	if (!j->default_route || up.gateway == 0)
		return 0;
	rc = nl_route_add_default(j->iface, up.gateway);
	if (rc == -EEXIST) {
		CTL_LOG(NOTICE, "host port: a default route exists already there: the one via "
			"%s on %s is not added", uplink_ip(up.gateway, a, sizeof(a)), j->iface);
		return 0;
	}
	if (rc < 0)
		return ctl_fail(j->err, j->errlen, rc, "cannot add the default route via %s on "
				"%s: %s", uplink_ip(up.gateway, a, sizeof(a)), j->iface,
				strerror(-rc));
	j->route_added = true;
	return 0;
}

int
uplink_host_added(struct ctl *c, struct port *p, const struct cfg_port *cp, char *err,
		  size_t errlen)
{
	struct uplink_host_job job = {
		.iface = p->spec.iface, .mtu = up.mtu, .default_route = !cp->no_default_route,
		.err = err, .errlen = errlen,
	};
	struct dp_net_view nv;
	int nsfd = -1, rc;
	char a[16];

	if (hp.present)
		return ctl_fail(err, errlen, -EEXIST, "port \"%s\" is the host port already: "
				"there is one", hp.name);
	if (!uplink_is_nic())
		return ctl_fail(err, errlen, -EINVAL, "the host port carries the uplink's address "
				"to the host: it needs a NIC uplink with an address (add-port ... "
				"--role uplink --address CIDR%s)", up.present && up.tap ?
				"; with a tap uplink the host reaches dpnet through it already" :
				"");
	if (strlen(p->spec.iface) >= sizeof(hp.iface))
		return ctl_fail(err, errlen, -ENAMETOOLONG, "interface name \"%s\" is too long",
				p->spec.iface);
	memset(&hp, 0, sizeof(hp));
	if (uplink_iface_mac(p->spec.iface, &hp.host_mac) < 0)
		hp.host_mac = p->mac;
	if (cp->netns[0] != '\0') {
		nsfd = netns_open(cp->netns);
		if (nsfd < 0) {
			memset(&hp, 0, sizeof(hp));
			return ctl_fail(err, errlen, nsfd, "namespace \"%s\" not found: create it "
					"with 'ip netns add %s' or drop netns", cp->netns,
					cp->netns);
		}
		rc = nl_link_move(p->spec.iface, nsfd, NULL);
		if (rc < 0) {
			close(nsfd);
			memset(&hp, 0, sizeof(hp));
			return ctl_fail(err, errlen, rc, "cannot move %s into namespace %s: %s",
					p->spec.iface, cp->netns, strerror(-rc));
		}
	}
	/* On a failure from here on the TAP is not moved back: the caller removes
	 * the port, and a TAP goes when its descriptors close, in whichever
	 * namespace it is (with what was configured on it), as on del-port. */
	err[0] = '\0';
	rc = netns_run(nsfd, uplink_host_configure, &job);
	if (nsfd >= 0)
		close(nsfd);
	if (rc < 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "cannot configure the host interface %s: %s",
				 p->spec.iface, strerror(-rc));
		memset(&hp, 0, sizeof(hp));
		return rc;
	}
	memset(&nv, 0, sizeof(nv));
	nv.flags = DP_NET_F_L3 | DP_NET_F_HOST | DP_NET_F_PROXY_ARP;
	nv.mtu = up.mtu;
	memcpy(nv.gw_mac.addr_bytes, host_gw_mac, sizeof(host_gw_mac));
	/* The uplink address's traffic goes to this port from now on (neigh.h). */
	rc = uplink_publish_host(c, &nv, p->port_id);
	if (rc < 0) {
		memset(&hp, 0, sizeof(hp));
		return ctl_fail(err, errlen, rc, "out of memory while publishing the host port");
	}
	rc = l3_neigh_add(c->dp, NET_DOMAIN_HOST, up.address, &hp.host_mac);
	if (rc < 0) {
		uplink_publish_host(c, NULL, RTE_MAX_ETHPORTS);
		memset(&hp, 0, sizeof(hp));
		return ctl_fail(err, errlen, rc, "cannot add the neighbour %s of the host port: %s",
				uplink_ip(up.address, a, sizeof(a)), strerror(-rc));
	}
	hp.present = true;
	hp.port_id = p->port_id;
	hp.default_route = job.route_added;
	snprintf(hp.name, sizeof(hp.name), "%s", p->spec.name);
	memcpy(hp.iface, p->spec.iface, strlen(p->spec.iface) + 1);
	snprintf(hp.netns, sizeof(hp.netns), "%s", cp->netns);
	CTL_LOG(INFO, "host port %s: %s%s%s has %s/%u%s%s, domain %u", p->spec.name, hp.iface,
		hp.netns[0] ? " in namespace " : "", hp.netns,
		uplink_ip(up.address, a, sizeof(a)), up.address_len,
		hp.default_route ? ", default route via " : "",
		hp.default_route ? uplink_ip(up.gateway, a, sizeof(a)) : "", NET_DOMAIN_HOST);
	return 0;
}

void
uplink_host_removed(struct ctl *c, struct port *p)
{
	if (!hp.present || hp.port_id != p->port_id)
		return;
	/* The TAP goes with the port, its address and route with it. */
	l3_neigh_del(c->dp, NET_DOMAIN_HOST, up.address);
	uplink_publish_host(c, NULL, RTE_MAX_ETHPORTS);
	CTL_LOG(INFO, "host port %s removed", hp.name);
	memset(&hp, 0, sizeof(hp));
}

const char *
uplink_host_port(void)
{
	return hp.present ? hp.name : NULL;
}
