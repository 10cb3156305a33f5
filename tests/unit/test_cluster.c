/*
 * test_cluster.c - unit tests of cluster mode's pure half: the etcd client's
 * helpers (base64, range ends, the watch stream splitter, grpc-gateway
 * integers; control/etcd.c), Flannel's layout (config, keys, lease JSON, the
 * subnet allocator; control/flannel.c) and the cluster: config section
 * (control/config.c). No etcd server, no EAL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <jansson.h>

#include "control/config.h"
#include "control/etcd.h"
#include "control/flannel.h"

static struct cfg cfg;  /* large: keep it off the stack */

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static void
test_base64(void)
{
	static const struct { const char *plain, *b64; } v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "/coreos.com/network/config",
		"L2NvcmVvcy5jb20vbmV0d29yay9jb25maWc=" },
	};
	size_t len;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *e = etcd_b64_encode(v[i].plain, strlen(v[i].plain));
		char *d = etcd_b64_decode(v[i].b64, &len);

		CU_ASSERT_PTR_NOT_NULL_FATAL(e);
		CU_ASSERT_PTR_NOT_NULL_FATAL(d);
		CU_ASSERT_STRING_EQUAL(e, v[i].b64);
		CU_ASSERT_EQUAL(len, strlen(v[i].plain));
		CU_ASSERT_STRING_EQUAL(d, v[i].plain);
		free(e);
		free(d);
	}
	/* Binary with a NUL inside survives. */
	{
		const char bin[4] = { 'a', '\0', (char)0xff, 'b' };
		char *e = etcd_b64_encode(bin, 4), *d = etcd_b64_decode(e, &len);

		CU_ASSERT_EQUAL(len, 4);
		CU_ASSERT(memcmp(d, bin, 4) == 0);
		free(e);
		free(d);
	}
	CU_ASSERT_PTR_NULL(etcd_b64_decode("abc", &len));      /* not a multiple of 4 */
	CU_ASSERT_PTR_NULL(etcd_b64_decode("a*c=", &len));     /* not base64 */
}

static void
test_prefix_end(void)
{
	char *e = etcd_prefix_end("/coreos.com/network/subnets/");

	CU_ASSERT_STRING_EQUAL(e, "/coreos.com/network/subnets0");
	free(e);
	e = etcd_prefix_end("a\xff");
	CU_ASSERT_STRING_EQUAL(e, "b");
	free(e);
}

static void
test_json_split(void)
{
	const char *s = "\r\n{\"result\":{\"a\":\"}{\\\"\",\"b\":[1,{\"c\":2}]}}\n{\"result\":";
	size_t start, end;

	CU_ASSERT_EQUAL(etcd_json_split(s, strlen(s), &start, &end, NULL), 1);
	CU_ASSERT_EQUAL(start, 2);
	CU_ASSERT_EQUAL(s[end - 1], '}');
	CU_ASSERT_EQUAL(s[end], '\n');
	{
		json_error_t je;
		json_t *j = json_loadb(s + start, end - start, 0, &je);

		CU_ASSERT_PTR_NOT_NULL(j);
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
			json_object_get(j, "result"), "a")), "}{\"");
		json_decref(j);
	}
	/* The rest is incomplete: nothing yet, start at its '{'. */
	CU_ASSERT_EQUAL(etcd_json_split(s + end, strlen(s + end), &start, &end, NULL), 0);
	CU_ASSERT_EQUAL(start, 1);
	/* Every cut of a complete object but the whole is incomplete. */
	{
		const char *o = "{\"x\":\"a\\\\\",\"y\":{}}";

		for (size_t n = 0; n < strlen(o); n++)
			CU_ASSERT_EQUAL(etcd_json_split(o, n, &start, &end, NULL), 0);
		CU_ASSERT_EQUAL(etcd_json_split(o, strlen(o), &start, &end, NULL), 1);
		CU_ASSERT_EQUAL(end, strlen(o));
	}
	CU_ASSERT_EQUAL(etcd_json_split("", 0, &start, &end, NULL), 0);
	CU_ASSERT_EQUAL(start, 0);
	/* Every cut of an object with a two-byte UTF-8 character and a \u escape. */
	{
		const char *o = "{\"k\":\"caf\xc3\xa9 \\u00e9\",\"n\":1}";
		json_t *doc = NULL;

		for (size_t n = 0; n < strlen(o); n++)
			CU_ASSERT_EQUAL(etcd_json_split(o, n, &start, &end, NULL), 0);
		CU_ASSERT_EQUAL(etcd_json_split(o, strlen(o), &start, &end, &doc), 1);
		CU_ASSERT_PTR_NOT_NULL(doc);
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(doc, "n")), 1);
		json_decref(doc);
	}
	/* Not JSON, with enough after the fault to tell: an error. */
	CU_ASSERT_EQUAL(etcd_json_split("{\"x\" 1}            {", 21, &start, &end, NULL), -1);
}

static void
test_json_int(void)
{
	json_t *o = json_pack("{s:s, s:I, s:s, s:s}", "rev", "7587812345678901234", "n",
			      (json_int_t)12, "bad", "12x", "empty", "");

	CU_ASSERT_EQUAL(etcd_json_int(o, "rev", 0), 7587812345678901234LL);
	CU_ASSERT_EQUAL(etcd_json_int(o, "n", 0), 12);
	CU_ASSERT_EQUAL(etcd_json_int(o, "bad", -1), -1);
	CU_ASSERT_EQUAL(etcd_json_int(o, "empty", -1), -1);
	CU_ASSERT_EQUAL(etcd_json_int(o, "missing", 5), 5);
	json_decref(o);
}

static int
parse_cfg(const char *json, struct fl_config *c, char *err)
{
	err[0] = '\0';
	return fl_config_parse(json, strlen(json), c, err, 256);
}

static void
test_flannel_config(void)
{
	struct fl_config c;
	char err[256];

	CU_ASSERT_EQUAL(parse_cfg("{\"Network\": \"10.5.0.0/16\", \"Backend\": "
				  "{\"Type\": \"vxlan\"}}", &c, err), 0);
	CU_ASSERT_EQUAL(c.network, IP(10, 5, 0, 0));
	CU_ASSERT_EQUAL(c.network_len, 16);
	CU_ASSERT_EQUAL(c.subnet_len, 24);
	CU_ASSERT_EQUAL(c.subnet_min, IP(10, 5, 1, 0));   /* the first is skipped */
	CU_ASSERT_EQUAL(c.subnet_max, IP(10, 5, 255, 0));
	CU_ASSERT_EQUAL(c.vni, 1);
	CU_ASSERT_EQUAL(c.port, 8472);

	CU_ASSERT_EQUAL(parse_cfg("{\"Network\": \"10.6.0.0/16\", \"SubnetLen\": 26, "
				  "\"SubnetMin\": \"10.6.0.128\", \"SubnetMax\": \"10.6.1.0\", "
				  "\"Backend\": {\"Type\": \"vxlan\", \"VNI\": 42, \"Port\": 4789, "
				  "\"GBP\": false}}", &c, err), 0);
	CU_ASSERT_EQUAL(c.subnet_len, 26);
	CU_ASSERT_EQUAL(c.subnet_min, IP(10, 6, 0, 128));
	CU_ASSERT_EQUAL(c.subnet_max, IP(10, 6, 1, 0));
	CU_ASSERT_EQUAL(c.vni, 42);
	CU_ASSERT_EQUAL(c.port, 4789);
	/* A small Network: SubnetLen one bit longer. */
	CU_ASSERT_EQUAL(parse_cfg("{\"Network\": \"10.7.0.0/25\", \"Backend\": "
				  "{\"Type\": \"vxlan\"}}", &c, err), 0);
	CU_ASSERT_EQUAL(c.subnet_len, 26);

	CU_ASSERT_EQUAL(parse_cfg("{\"Network\": \"10.5.0.0/16\"}", &c, err), -EINVAL);
	CU_ASSERT(strstr(err, "Backend.Type is \"udp\" (Flannel's default)") != NULL);
	CU_ASSERT_EQUAL(parse_cfg("{\"Network\": \"10.5.0.0/16\", \"Backend\": "
				  "{\"Type\": \"host-gw\"}}", &c, err), -EINVAL);
	CU_ASSERT(strstr(err, "\"host-gw\"") != NULL);
	CU_ASSERT_EQUAL(parse_cfg("{\"Backend\": {\"Type\": \"vxlan\"}}", &c, err), -EINVAL);
	CU_ASSERT(strstr(err, "Network: missing") != NULL);
	CU_ASSERT_EQUAL(parse_cfg("{\"Network\": \"10.5.0.1/16\", \"Backend\": "
				  "{\"Type\": \"vxlan\"}}", &c, err), -EINVAL);
	CU_ASSERT(strstr(err, "host bits zero") != NULL);
	CU_ASSERT_EQUAL(parse_cfg("{\"Network\": \"10.5.0.0/16\", \"SubnetLen\": 16, "
				  "\"Backend\": {\"Type\": \"vxlan\"}}", &c, err), -EINVAL);
	CU_ASSERT(strstr(err, "SubnetLen") != NULL);
	CU_ASSERT_EQUAL(parse_cfg("{\"Network\": \"10.5.0.0/16\", \"SubnetMin\": \"10.5.1.7\", "
				  "\"Backend\": {\"Type\": \"vxlan\"}}", &c, err), -EINVAL);
	CU_ASSERT(strstr(err, "SubnetMin") != NULL);
	CU_ASSERT_EQUAL(parse_cfg("{\"Network\": \"10.5.0.0/16\", \"Backend\": "
				  "{\"Type\": \"vxlan\", \"VNI\": 0}}", &c, err), -EINVAL);
	CU_ASSERT(strstr(err, "VNI") != NULL);
	CU_ASSERT_EQUAL(parse_cfg("{\"Network\": \"10.5.0.0/16\", \"Backend\": "
				  "{\"Type\": \"vxlan\", \"Port\": \"x\"}}", &c, err), -EINVAL);
	CU_ASSERT(strstr(err, "Port") != NULL);
	CU_ASSERT_EQUAL(parse_cfg("{\"Network\": ", &c, err), -EINVAL);
	CU_ASSERT(strstr(err, "not JSON") != NULL);
	CU_ASSERT_EQUAL(parse_cfg("[]", &c, err), -EINVAL);
}

static void
test_flannel_keys(void)
{
	char key[FL_KEY_MAX];
	uint32_t s;
	uint8_t l;

	fl_key_format("/coreos.com/network", IP(10, 5, 34, 0), 24, key, sizeof(key));
	CU_ASSERT_STRING_EQUAL(key, "/coreos.com/network/subnets/10.5.34.0-24");
	CU_ASSERT_EQUAL(fl_key_parse("/coreos.com/network", key, &s, &l), 0);
	CU_ASSERT_EQUAL(s, IP(10, 5, 34, 0));
	CU_ASSERT_EQUAL(l, 24);
	CU_ASSERT_EQUAL(fl_key_parse("/other", key, &s, &l), -EINVAL);
	CU_ASSERT_EQUAL(fl_key_parse("/p", "/p/subnets/10.5.34.1-24", &s, &l), -EINVAL);
	CU_ASSERT_EQUAL(fl_key_parse("/p", "/p/subnets/10.5.34.0-", &s, &l), -EINVAL);
	CU_ASSERT_EQUAL(fl_key_parse("/p", "/p/subnets/10.5.34.0-24x", &s, &l), -EINVAL);
	CU_ASSERT_EQUAL(fl_key_parse("/p", "/p/subnets/10.5.34.0", &s, &l), -EINVAL);
	CU_ASSERT_EQUAL(fl_key_parse("/p", "/p/config", &s, &l), -EINVAL);
}

static void
test_flannel_lease(void)
{
	struct fl_lease in = { .subnet = IP(10, 5, 3, 0), .len = 24, .public_ip = IP(192, 0, 2, 11),
			       .vni = 1, .vtep_mac = { 0x02, 0x51, 0xc0, 0x00, 0x02, 0x0b } };
	struct fl_lease out;
	char err[256], *s = fl_lease_encode(&in);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	/* Flannel's own text, member for member. */
	CU_ASSERT_STRING_EQUAL(s, "{\"PublicIP\":\"192.0.2.11\",\"PublicIPv6\":null,"
			       "\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,"
			       "\"VtepMAC\":\"02:51:c0:00:02:0b\"}}");
	CU_ASSERT_EQUAL(fl_lease_parse(s, strlen(s), &out, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(out.public_ip, in.public_ip);
	CU_ASSERT_EQUAL(out.vni, 1);
	CU_ASSERT(memcmp(out.vtep_mac, in.vtep_mac, 6) == 0);
	free(s);
	/* What flanneld writes (no VNI in older versions, extra members). */
	s = "{\"PublicIP\":\"192.0.2.50\",\"BackendType\":\"vxlan\",\"BackendData\":"
	    "{\"VtepMAC\":\"9e:1f:00:aa:bb:cc\"},\"Extra\":1}";
	CU_ASSERT_EQUAL(fl_lease_parse(s, strlen(s), &out, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(out.public_ip, IP(192, 0, 2, 50));
	CU_ASSERT_EQUAL(out.vtep_mac[0], 0x9e);
	CU_ASSERT_EQUAL(out.vni, 0);
	/* Refused, with why. */
	s = "{\"PublicIP\":\"192.0.2.50\",\"BackendType\":\"udp\",\"BackendData\":{}}";
	CU_ASSERT_EQUAL(fl_lease_parse(s, strlen(s), &out, err, sizeof(err)), -EINVAL);
	CU_ASSERT(strstr(err, "BackendType \"udp\"") != NULL);
	s = "{\"PublicIP\":\"300.0.2.50\",\"BackendType\":\"vxlan\"}";
	CU_ASSERT_EQUAL(fl_lease_parse(s, strlen(s), &out, err, sizeof(err)), -EINVAL);
	CU_ASSERT(strstr(err, "PublicIP") != NULL);
	s = "{\"PublicIP\":\"192.0.2.50\",\"BackendType\":\"vxlan\",\"BackendData\":"
	    "{\"VtepMAC\":\"01:00:5e:00:00:01\"}}";
	CU_ASSERT_EQUAL(fl_lease_parse(s, strlen(s), &out, err, sizeof(err)), -EINVAL);
	CU_ASSERT(strstr(err, "VtepMAC") != NULL);
	s = "{\"PublicIP\":\"192.0.2.50\",\"BackendType\":\"vxlan\",\"BackendData\":"
	    "{\"VtepMAC\":\"9e:1f:00:aa:bb:cc:dd\"}}";
	CU_ASSERT_EQUAL(fl_lease_parse(s, strlen(s), &out, err, sizeof(err)), -EINVAL);
	s = "garbage";
	CU_ASSERT_EQUAL(fl_lease_parse(s, strlen(s), &out, err, sizeof(err)), -EINVAL);
}

static void
test_subnet_pick(void)
{
	struct fl_config c;
	uint32_t used[256], got, seen[4] = { 0 };
	char err[256];

	CU_ASSERT_EQUAL_FATAL(parse_cfg("{\"Network\": \"10.5.0.0/22\", \"SubnetLen\": 24, "
					"\"Backend\": {\"Type\": \"vxlan\"}}", &c, err), 0);
	/* 10.5.0.0/24 is skipped: 10.5.1.0, .2.0, .3.0 are the hosts' subnets. */
	for (uint32_t r = 0; r < 3; r++) {
		CU_ASSERT_EQUAL(fl_subnet_pick(&c, NULL, 0, r, &got), 0);
		CU_ASSERT_EQUAL(got, IP(10, 5, 1 + r, 0));
	}
	CU_ASSERT_EQUAL(fl_subnet_pick(&c, NULL, 0, 3, &got), 0);
	CU_ASSERT_EQUAL(got, IP(10, 5, 1, 0));   /* rnd wraps */
	used[0] = IP(10, 5, 2, 0);
	used[1] = IP(99, 0, 0, 0);               /* outside: no effect */
	for (uint32_t r = 0; r < 8; r++) {
		CU_ASSERT_EQUAL(fl_subnet_pick(&c, used, 2, r, &got), 0);
		CU_ASSERT(got == IP(10, 5, 1, 0) || got == IP(10, 5, 3, 0));
		seen[(got >> 8) & 3] = 1;
	}
	CU_ASSERT(seen[1] && seen[3] && !seen[2]);
	used[1] = IP(10, 5, 3, 0);
	used[2] = IP(10, 5, 1, 0);
	CU_ASSERT_EQUAL(fl_subnet_pick(&c, used, 3, 7, &got), -ENOSPC);
	CU_ASSERT(fl_subnet_valid(&c, IP(10, 5, 3, 0), 24));
	CU_ASSERT(!fl_subnet_valid(&c, IP(10, 5, 0, 0), 24));
	CU_ASSERT(!fl_subnet_valid(&c, IP(10, 5, 3, 0), 25));
	CU_ASSERT(!fl_subnet_valid(&c, IP(10, 5, 3, 128), 24));
	/* A large range: every pick is valid and not used. */
	CU_ASSERT_EQUAL_FATAL(parse_cfg("{\"Network\": \"10.0.0.0/8\", \"SubnetLen\": 28, "
					"\"Backend\": {\"Type\": \"vxlan\"}}", &c, err), 0);
	for (unsigned int i = 0; i < 256; i++)
		used[i] = IP(10, 0, 0, 16) + i * 16;
	CU_ASSERT_EQUAL(fl_subnet_pick(&c, used, 256, 0, &got), 0);
	CU_ASSERT_EQUAL(got, IP(10, 0, 16, 16));
	CU_ASSERT_EQUAL(fl_subnet_pick(&c, used, 256, 0xFFFFFFFF, &got), 0);
	CU_ASSERT(fl_subnet_valid(&c, got, 28));
}

/* The cluster: section: defaults, and errors as FILE:LINE: KEY: message. */
static void
test_config_section(void)
{
	static const struct { const char *yaml, *want; } bad[] = {
		{ "cluster:\n  prefix: /x\n", "t.yaml:1: cluster: missing key etcd" },
		{ "cluster:\n  etcd: 127.0.0.1:2379\n",
		  "t.yaml:2: cluster.etcd: invalid etcd URL \"127.0.0.1:2379\"" },
		{ "cluster:\n  etcd: http://a:2379,ftp://b\n",
		  "t.yaml:2: cluster.etcd: invalid etcd URL \"ftp://b\"" },
		{ "cluster:\n  etcd: http://a:99999\n", "t.yaml:2: cluster.etcd: invalid etcd URL" },
		{ "cluster:\n  etcd: http://a:2379/v3\n", "t.yaml:2: cluster.etcd: invalid etcd URL" },
		{ "cluster:\n  etcd: http://a,,http://b\n", "t.yaml:2: cluster.etcd: an empty URL" },
		{ "cluster:\n  etcd: []\n", "t.yaml:2: cluster.etcd: the list is empty" },
		{ "cluster:\n  etcd: http://a:1\n  prefix: coreos.com/network\n",
		  "t.yaml:3: cluster.prefix: invalid key prefix \"coreos.com/network\"" },
		{ "cluster:\n  etcd: http://a:1\n  prefix: /coreos.com/network/\n",
		  "t.yaml:3: cluster.prefix: invalid key prefix" },
		{ "cluster:\n  etcd: http://a:1\n  lease_ttl: 2\n",
		  "t.yaml:3: cluster.lease_ttl: 2 is out of range: use 3 to 31536000" },
		{ "cluster:\n  etcd: http://a:1\n  lease_ttl: ten\n",
		  "t.yaml:3: cluster.lease_ttl: expected an integer" },
		{ "cluster:\n  etcd: http://a:1\n  network: bridge\n",
		  "t.yaml:3: cluster.network: \"bridge\" is a built-in network" },
		{ "cluster:\n  etcd: http://a:1\n  public_ip: 127.0.0.1\n",
		  "t.yaml:3: cluster.public_ip: invalid address \"127.0.0.1\"" },
		{ "cluster:\n  etcd: http://a:1\n  vni: 1\n", "t.yaml:3: cluster.vni: unknown key" },
		{ "networks:\n  - name: ov\n    subnet: 10.9.0.0/16\ncluster:\n  etcd: http://a:1\n"
		  "  network: ov\n", "t.yaml:4: cluster.network: \"ov\" is also a bridge network" },
	};
	char err[512];

	CU_ASSERT_EQUAL(cfg_parse("t.yaml", "", 0, &cfg, err, sizeof(err)), 0);
	CU_ASSERT(!cfg.cluster.enabled);
	{
		const char *y = "cluster:\n  etcd: http://127.0.0.1:2379\n";

		CU_ASSERT_EQUAL(cfg_parse("t.yaml", y, strlen(y), &cfg, err, sizeof(err)), 0);
		CU_ASSERT(cfg.cluster.enabled);
		CU_ASSERT_STRING_EQUAL(cfg.cluster.etcd, "http://127.0.0.1:2379");
		CU_ASSERT_STRING_EQUAL(cfg.cluster.prefix, "/coreos.com/network");
		CU_ASSERT_STRING_EQUAL(cfg.cluster.network, "flannel");
		CU_ASSERT_EQUAL(cfg.cluster.lease_ttl_s, 86400);
		CU_ASSERT_EQUAL(cfg.cluster.public_ip, 0);
	}
	{
		const char *y = "cluster:\n  etcd: [http://10.0.0.1:2379, 'https://[::1]:2379']\n"
			"  prefix: /dpnet/net\n  network: ov-1\n  lease_ttl: 8\n"
			"  public_ip: 192.0.2.10\n";

		CU_ASSERT_EQUAL(cfg_parse("t.yaml", y, strlen(y), &cfg, err, sizeof(err)), 0);
		CU_ASSERT_STRING_EQUAL(cfg.cluster.etcd, "http://10.0.0.1:2379,https://[::1]:2379");
		CU_ASSERT_STRING_EQUAL(cfg.cluster.prefix, "/dpnet/net");
		CU_ASSERT_STRING_EQUAL(cfg.cluster.network, "ov-1");
		CU_ASSERT_EQUAL(cfg.cluster.lease_ttl_s, 8);
		CU_ASSERT_EQUAL(cfg.cluster.public_ip, IP(192, 0, 2, 10));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(cfg_parse("t.yaml", bad[i].yaml, strlen(bad[i].yaml), &cfg, err,
					  sizeof(err)), -EINVAL);
		if (strncmp(err, bad[i].want, strlen(bad[i].want)) != 0) {
			fprintf(stderr, "\ncase %zu: got   \"%s\"\n         want \"%s...\"\n", i,
				err, bad[i].want);
			CU_FAIL("error text");
		}
	}
}

int
main(void)
{
	CU_pSuite s;
	unsigned int failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("cluster", NULL, NULL);
	if (s == NULL ||
	    CU_add_test(s, "base64", test_base64) == NULL ||
	    CU_add_test(s, "range end of a prefix", test_prefix_end) == NULL ||
	    CU_add_test(s, "watch stream splitter", test_json_split) == NULL ||
	    CU_add_test(s, "grpc-gateway integers", test_json_int) == NULL ||
	    CU_add_test(s, "Flannel config", test_flannel_config) == NULL ||
	    CU_add_test(s, "Flannel subnet keys", test_flannel_keys) == NULL ||
	    CU_add_test(s, "Flannel lease JSON", test_flannel_lease) == NULL ||
	    CU_add_test(s, "subnet allocator", test_subnet_pick) == NULL ||
	    CU_add_test(s, "cluster: config section", test_config_section) == NULL) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failures != 0 ? 1 : 0;
}
