/*
 * etcd.h - a small etcd v3 client over etcd's HTTP/JSON gateway (etcd 3.4:
 * POST /v3/kv/range, /v3/kv/txn, /v3/lease/grant, /v3/lease/keepalive,
 * /v3/lease/revoke, /v3/watch), with libcurl and jansson. Keys and values travel base64-encoded
 * (libcrypto's EVP_EncodeBlock: OpenSSL comes with libcurl4-openssl-dev and
 * libdpdk-dev already, so it adds no package); 64-bit integers travel as JSON
 * strings (grpc-gateway's mapping) and are read from strings or numbers.
 *
 * Usage: etcd_create() with the endpoint list ("http://a:2379,http://b:2379");
 * every call goes to the current endpoint and, when it cannot be reached, to
 * the next one (the next call). Every call is bounded: ETCD_CONNECT_MS to
 * connect, ETCD_CALL_MS in all, and returns early (-ECANCELED) once the stop
 * flag given to etcd_create is set, so the caller's thread notices shutdown
 * within a fraction of a second. Errors: a negative errno and a message.
 *
 * The watch is a streaming POST whose answer is a sequence of JSON objects
 * (one per watch response); etcd_watch_poll() waits at most timeout_ms for
 * more, splits the bytes into objects (etcd_json_split) and hands each event
 * to a callback.
 *
 * Thread safety: a struct etcd and its watches belong to one thread (the
 * cluster's etcd thread). The pure helpers (base64, etcd_json_split,
 * etcd_prefix_end) are reentrant; unit tests use them without a server.
 */
#ifndef DPNET_ETCD_H
#define DPNET_ETCD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define ETCD_CONNECT_MS 1000       /* connect timeout of every call */
#define ETCD_CALL_MS 3000          /* whole-call timeout of unary calls */
#define ETCD_MAX_RESPONSE (8u << 20) /* larger answers are refused */
#define ETCD_MAX_ENDPOINTS 8

struct etcd;
struct etcd_watch;

/* One key-value pair (malloc'ed strings; value is NUL-terminated too). */
struct etcd_kv {
	char *key;                 /* the key */
	char *value;               /* the value (value_len bytes + NUL) */
	size_t value_len;          /* its length */
	int64_t create_rev;        /* revision of its creation */
	int64_t mod_rev;           /* revision of its last change */
	int64_t lease;             /* the lease it is attached to, 0 if none */
};

/* A watch event. */
struct etcd_event {
	bool deleted;              /* DELETE (also: its lease expired); else PUT */
	struct etcd_kv kv;         /* the key (and for PUT the value) */
};

/* Create a client for endpoints (comma-separated URLs). stop, when set by
 * another thread, makes calls in progress return -ECANCELED. */
struct etcd *etcd_create(const char *endpoints, atomic_bool *stop, char *err, size_t errlen);
void etcd_destroy(struct etcd *e);
/* After the last etcd_destroy (shutdown): undo the curl_global_init of the
 * first etcd_create. No etcd call may run in any thread then. */
void etcd_global_cleanup(void);
/* The endpoint in use. */
const char *etcd_endpoint(const struct etcd *e);

/* Range: one key, or every key under prefix (prefix true). Sorted by key.
 * *kvs is malloc'ed (free with etcd_kvs_free); *revision = the store's. */
int etcd_range(struct etcd *e, const char *key, bool prefix, struct etcd_kv **kvs,
	       size_t *n, int64_t *revision, char *err, size_t errlen);
void etcd_kvs_free(struct etcd_kv *kvs, size_t n);
void etcd_kv_clear(struct etcd_kv *kv);

/* Lease grant: *id and the TTL etcd granted. */
int etcd_lease_grant(struct etcd *e, int64_t ttl_s, int64_t *id, int64_t *granted_s,
		     char *err, size_t errlen);
/* Keepalive: *ttl_s = the lease's TTL now, 0 when the lease is gone. */
int etcd_lease_keepalive(struct etcd *e, int64_t id, int64_t *ttl_s, char *err,
			 size_t errlen);

/* Revoke a lease: its keys are deleted with it. A lease etcd does not know
 * (expired, revoked already) counts as revoked. */
int etcd_lease_revoke(struct etcd *e, int64_t id, char *err, size_t errlen);

/*
 * Conditional put (one txn): put key = value attached to lease (0: none) if the
 * key's mod_revision equals mod_rev (mod_rev 0: if the key does not exist).
 * *done tells whether the put happened.
 */
int etcd_put_if(struct etcd *e, const char *key, const char *value, int64_t lease,
		int64_t mod_rev, bool *done, char *err, size_t errlen);

/* Watch every key under prefix from revision start_rev. */
struct etcd_watch *etcd_watch_start(struct etcd *e, const char *prefix, int64_t start_rev,
				    char *err, size_t errlen);
typedef void (*etcd_event_fn)(void *arg, const struct etcd_event *ev);
/*
 * Wait at most timeout_ms for watch responses and hand their events to fn.
 * Returns 0 while the watch goes on (*revision = the last revision seen, or
 * left alone), -ESTALE when etcd cancelled it (compacted: range again),
 * -ECONNRESET when the stream ended or failed (err says why), -ECANCELED on
 * stop.
 */
int etcd_watch_poll(struct etcd_watch *w, int timeout_ms, etcd_event_fn fn, void *arg,
		    int64_t *revision, char *err, size_t errlen);
void etcd_watch_stop(struct etcd_watch *w);

/* ---- pure helpers (unit-tested) ---- */

/* Base64 of len bytes into a malloc'ed string; NULL on failure. */
char *etcd_b64_encode(const void *data, size_t len);
/* Decode base64 into a malloc'ed NUL-terminated buffer; *len = bytes; NULL when
 * s is not base64. */
char *etcd_b64_decode(const char *s, size_t *len);
/* The range_end that selects every key starting with prefix (prefix with its
 * last byte plus one), malloc'ed. */
char *etcd_prefix_end(const char *prefix);
/*
 * The first complete top-level JSON object in buf[0..len), decoded by jansson
 * (json_loadb with JSON_DISABLE_EOF_CHECK): 1 with its bounds [*start, *end)
 * (whitespace and stray bytes before it skipped) and, if doc is not NULL, the
 * object (the caller's reference); 0 when none is complete yet (*start = where
 * the incomplete one begins, or len); -1 when what follows is not JSON.
 */
int etcd_json_split(const char *buf, size_t len, size_t *start, size_t *end, json_t **doc);
/* An int64 member that grpc-gateway writes as a string (or a number); def when
 * absent or not a number. */
int64_t etcd_json_int(const void *json_obj, const char *key, int64_t def);

#endif /* DPNET_ETCD_H */
