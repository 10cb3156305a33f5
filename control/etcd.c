/*
 * etcd.c - etcd v3 over its HTTP/JSON gateway (see etcd.h): unary calls with
 * one reused curl handle (its connection is kept alive between calls), the
 * watch with a curl multi handle so it can be waited on with a timeout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "etcd.h"

/* A response being received. */
struct etcd_buf {
	char *data;                /* bytes received (NUL-terminated) */
	size_t len;                /* bytes in data */
	size_t cap;                /* allocated */
	bool too_big;              /* more than ETCD_MAX_RESPONSE: aborted */
};

struct etcd {
	char *urls[ETCD_MAX_ENDPOINTS]; /* endpoint URLs without a trailing '/' */
	unsigned int n_urls;            /* entries used */
	unsigned int cur;               /* the one in use */
	CURL *h;                        /* unary calls */
	struct curl_slist *hdrs;        /* Content-Type: application/json */
	atomic_bool *stop;              /* set by the owner's owner: give up */
};

struct etcd_watch {
	struct etcd *e;            /* its client */
	CURLM *m;                  /* multi handle holding h */
	CURL *h;                   /* the streaming POST */
	char *body;                /* its request body */
	struct etcd_buf buf;       /* bytes not yet split into objects */
};

/* ---- pure helpers ---- */

char *
etcd_b64_encode(const void *data, size_t len)
{
	char *out;

	if (len > (1u << 28))
		return NULL;
	out = malloc(4 * ((len + 2) / 3) + 1);
	if (out == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

char *
etcd_b64_decode(const char *s, size_t *len)
{
	size_t n = strlen(s), pad = 0;
	char *out;
	int r;

	if (n % 4 != 0 || n > (1u << 28))
		return NULL;
	out = malloc(n / 4 * 3 + 1);
	if (out == NULL)
		return NULL;
	if (n == 0) {
		out[0] = '\0';
		*len = 0;
		return out;
	}
	r = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	if (r < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	if (s[n - 1] == '=')
		pad++;
	if (s[n - 2] == '=')
		pad++;
	*len = (size_t)r - pad;
	out[*len] = '\0';
	return out;
}

char *
etcd_prefix_end(const char *prefix)
{
	size_t n = strlen(prefix);
	char *end = malloc(n + 2);

	if (end == NULL)
		return NULL;
	memcpy(end, prefix, n + 1);
	while (n > 0) {
		unsigned char c = (unsigned char)end[n - 1];

		if (c < 0xff) {
			end[n - 1] = (char)(c + 1);
			end[n] = '\0';
			return end;
		}
		n--;
	}
	/* Every byte 0xff: the range to the end of the key space ("\0"). */
	end[0] = '\0';
	return end;
}

int
etcd_json_split(const char *buf, size_t len, size_t *start, size_t *end, json_t **doc)
{
	json_error_t jerr;
	json_t *j;
	size_t i = 0;

	while (i < len && buf[i] != '{')
		i++;
	*start = i;
	if (i == len)
		return 0;
	/* jansson decodes the first object and says how many bytes it took. A
	 * cut inside a backslash escape or a UTF-8 sequence is reported as an
	 * error near the end rather than as the end of input: an error within
	 * the last 6 bytes waits for more too (a real one shows again, earlier,
	 * once they come). */
	j = json_loadb(buf + i, len - i, JSON_DISABLE_EOF_CHECK, &jerr);
	if (j == NULL)
		return json_error_code(&jerr) == json_error_premature_end_of_input ||
			(size_t)jerr.position + 6 >= len - i ? 0 : -1;
	*end = i + (size_t)jerr.position;
	if (doc != NULL)
		*doc = j;
	else
		json_decref(j);
	return 1;
}

int64_t
etcd_json_int(const void *json_obj, const char *key, int64_t def)
{
	json_t *v = json_object_get((const json_t *)json_obj, key);
	const char *s;
	char *endp;
	long long x;

	if (json_is_integer(v))
		return (int64_t)json_integer_value(v);
	s = json_string_value(v);
	if (s == NULL || s[0] == '\0')
		return def;
	errno = 0;
	x = strtoll(s, &endp, 10);
	if (errno != 0 || *endp != '\0')
		return def;
	return (int64_t)x;
}

/* ---- transport ---- */

static size_t
etcd_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct etcd_buf *b = arg;
	size_t n = size * nmemb;

	if (b->len + n + 1 > ETCD_MAX_RESPONSE) {
		b->too_big = true;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *d;

		while (cap < b->len + n + 1)
			cap *= 2;
		d = realloc(b->data, cap);
		if (d == NULL)
			return 0;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* Abort a transfer once the owner asks us to stop. */
static int
etcd_progress_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	atomic_bool *stop = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return stop != NULL && atomic_load(stop) ? 1 : 0;
}

static bool curl_ready;  /* curl_global_init done (etcd_global_cleanup undoes it) */

struct etcd *
etcd_create(const char *endpoints, atomic_bool *stop, char *err, size_t errlen)
{
	struct etcd *e;
	char *copy, *save = NULL, *tok;

	if (!curl_ready) {
		/* Once, from the thread that starts the cluster (before any other). */
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
			snprintf(err, errlen, "cannot initialise libcurl");
			return NULL;
		}
		curl_ready = true;
	}
	e = calloc(1, sizeof(*e));
	copy = strdup(endpoints);
	if (e == NULL || copy == NULL)
		goto nomem;
	e->stop = stop;
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(tok);

		if (e->n_urls == ETCD_MAX_ENDPOINTS) {
			snprintf(err, errlen, "more than %d etcd endpoints", ETCD_MAX_ENDPOINTS);
			goto fail;
		}
		while (n > 0 && tok[n - 1] == '/')
			tok[--n] = '\0';
		e->urls[e->n_urls] = strdup(tok);
		if (e->urls[e->n_urls] == NULL)
			goto nomem;
		e->n_urls++;
	}
	if (e->n_urls == 0) {
		snprintf(err, errlen, "no etcd endpoint");
		goto fail;
	}
	e->h = curl_easy_init();
	e->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (e->h == NULL || e->hdrs == NULL)
		goto nomem;
	free(copy);
	return e;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	free(copy);
	etcd_destroy(e);
	return NULL;
}

void
etcd_destroy(struct etcd *e)
{
	if (e == NULL)
		return;
	for (unsigned int i = 0; i < e->n_urls; i++)
		free(e->urls[i]);
	if (e->h != NULL)
		curl_easy_cleanup(e->h);
	curl_slist_free_all(e->hdrs);
	free(e);
}

void
etcd_global_cleanup(void)
{
	if (curl_ready) {
		curl_global_cleanup();
		curl_ready = false;
	}
}

const char *
etcd_endpoint(const struct etcd *e)
{
	return e->urls[e->cur];
}

/* Options shared by unary calls and the watch. */
static void
etcd_setup(struct etcd *e, CURL *h, const char *path, const char *body,
	   struct etcd_buf *b)
{
	char url[1024];

	snprintf(url, sizeof(url), "%s%s", e->urls[e->cur], path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, e->hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, etcd_write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)ETCD_CONNECT_MS);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, etcd_progress_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, e->stop);
	/* etcd is a cluster-internal service: no proxy from the environment. */
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 5L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 2L);
}

/* The message of an error answer ({"error": "...", "message": "...", "code": N}). */
static void
etcd_error_text(json_t *doc, long status, char *err, size_t errlen)
{
	const char *m = json_string_value(json_object_get(doc, "message"));

	if (m == NULL)
		m = json_string_value(json_object_get(doc, "error"));
	if (m == NULL)
		m = json_string_value(json_object_get(json_object_get(doc, "error"), "message"));
	snprintf(err, errlen, "etcd answered HTTP %ld: %s", status, m != NULL ? m : "(no message)");
}

/*
 * POST body to path; *out = the parsed answer. Connection failures move to
 * the next endpoint and try it (each endpoint once per call).
 */
static int
etcd_call(struct etcd *e, const char *path, json_t *body, json_t **out, char *err,
	  size_t errlen)
{
	char *text = json_dumps(body, JSON_COMPACT);
	struct etcd_buf b = { NULL, 0, 0, false };
	json_error_t jerr;
	CURLcode rc = CURLE_OK;
	long status = 0;
	int ret;

	*out = NULL;
	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (unsigned int tries = 0; tries < e->n_urls; tries++) {
		b.len = 0;
		b.too_big = false;
		curl_easy_reset(e->h);
		etcd_setup(e, e->h, path, text, &b);
		curl_easy_setopt(e->h, CURLOPT_TIMEOUT_MS, (long)ETCD_CALL_MS);
		rc = curl_easy_perform(e->h);
		if (rc != CURLE_COULDNT_CONNECT && rc != CURLE_OPERATION_TIMEDOUT &&
		    rc != CURLE_COULDNT_RESOLVE_HOST && rc != CURLE_GOT_NOTHING &&
		    rc != CURLE_RECV_ERROR && rc != CURLE_SEND_ERROR)
			break;
		if (e->stop != NULL && atomic_load(e->stop))
			break;
		e->cur = (e->cur + 1) % e->n_urls;
	}
	free(text);
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		snprintf(err, errlen, "stopped");
		ret = -ECANCELED;
		goto out;
	}
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s%s: %s", e->urls[e->cur], path,
			 b.too_big ? "answer too large" : curl_easy_strerror(rc));
		ret = rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
		goto out;
	}
	curl_easy_getinfo(e->h, CURLINFO_RESPONSE_CODE, &status);
	*out = json_loadb(b.data != NULL ? b.data : "", b.len, 0, &jerr);
	if (*out == NULL || !json_is_object(*out)) {
		snprintf(err, errlen, "%s%s: HTTP %ld, not a JSON object: %.80s", e->urls[e->cur],
			 path, status, b.data != NULL ? b.data : "");
		json_decref(*out);
		*out = NULL;
		ret = -EPROTO;
		goto out;
	}
	if (status != 200) {
		etcd_error_text(*out, status, err, errlen);
		json_decref(*out);
		*out = NULL;
		ret = -EIO;
		goto out;
	}
	ret = 0;
out:
	free(b.data);
	return ret;
}

/* Set a member to the base64 of s; 0 or -ENOMEM. */
static int
etcd_set_b64(json_t *o, const char *key, const char *s, size_t len)
{
	char *b = etcd_b64_encode(s, len);

	if (b == NULL)
		return -ENOMEM;
	json_object_set_new(o, key, json_string(b));
	free(b);
	return 0;
}

static json_t *
etcd_int_json(int64_t v)
{
	char s[32];

	snprintf(s, sizeof(s), "%lld", (long long)v);
	return json_string(s);
}

void
etcd_kv_clear(struct etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

void
etcd_kvs_free(struct etcd_kv *kvs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		etcd_kv_clear(&kvs[i]);
	free(kvs);
}

/* A kv object of an answer into kv; -EPROTO when it is not one. */
static int
etcd_kv_decode(json_t *o, struct etcd_kv *kv)
{
	const char *k = json_string_value(json_object_get(o, "key"));
	const char *v = json_string_value(json_object_get(o, "value"));
	size_t n;

	memset(kv, 0, sizeof(*kv));
	if (k == NULL)
		return -EPROTO;
	kv->key = etcd_b64_decode(k, &n);
	kv->value = etcd_b64_decode(v != NULL ? v : "", &kv->value_len);
	if (kv->key == NULL || kv->value == NULL || strlen(kv->key) != n) {
		etcd_kv_clear(kv);
		return -EPROTO;
	}
	kv->create_rev = etcd_json_int(o, "create_revision", 0);
	kv->mod_rev = etcd_json_int(o, "mod_revision", 0);
	kv->lease = etcd_json_int(o, "lease", 0);
	return 0;
}

int
etcd_range(struct etcd *e, const char *key, bool prefix, struct etcd_kv **kvs, size_t *n,
	   int64_t *revision, char *err, size_t errlen)
{
	json_t *req = json_object(), *res = NULL, *arr, *o;
	char *end = NULL;
	size_t i;
	int rc = -ENOMEM;

	*kvs = NULL;
	*n = 0;
	if (req == NULL || etcd_set_b64(req, "key", key, strlen(key)) < 0)
		goto nomem;
	if (prefix) {
		end = etcd_prefix_end(key);
		if (end == NULL || etcd_set_b64(req, "range_end", end, strlen(end)) < 0)
			goto nomem;
	}
	rc = etcd_call(e, "/v3/kv/range", req, &res, err, errlen);
	if (rc < 0)
		goto out;
	*revision = etcd_json_int(json_object_get(res, "header"), "revision", 0);
	arr = json_object_get(res, "kvs");
	if (json_array_size(arr) > 0) {
		*kvs = calloc(json_array_size(arr), sizeof(**kvs));
		if (*kvs == NULL)
			goto nomem;
	}
	json_array_foreach(arr, i, o) {
		if (etcd_kv_decode(o, &(*kvs)[*n]) < 0)
			continue; /* not base64: nobody we know wrote it; skip */
		(*n)++;
	}
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
	rc = -ENOMEM;
out:
	free(end);
	json_decref(req);
	json_decref(res);
	return rc;
}

int
etcd_lease_grant(struct etcd *e, int64_t ttl_s, int64_t *id, int64_t *granted_s, char *err,
		 size_t errlen)
{
	json_t *req = json_pack("{s:I}", "TTL", (json_int_t)ttl_s), *res = NULL;
	const char *why;
	int rc;

	if (req == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = etcd_call(e, "/v3/lease/grant", req, &res, err, errlen);
	json_decref(req);
	if (rc < 0)
		return rc;
	why = json_string_value(json_object_get(res, "error"));
	*id = etcd_json_int(res, "ID", 0);
	*granted_s = etcd_json_int(res, "TTL", 0);
	if ((why != NULL && why[0] != '\0') || *id == 0) {
		snprintf(err, errlen, "lease grant refused: %s", why != NULL ? why : "no ID");
		rc = -EIO;
	}
	json_decref(res);
	return rc;
}

int
etcd_lease_keepalive(struct etcd *e, int64_t id, int64_t *ttl_s, char *err, size_t errlen)
{
	json_t *req = json_object(), *res = NULL, *r;
	int rc;

	if (req == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	json_object_set_new(req, "ID", etcd_int_json(id));
	rc = etcd_call(e, "/v3/lease/keepalive", req, &res, err, errlen);
	json_decref(req);
	if (rc < 0)
		return rc;
	r = json_object_get(res, "result");
	if (!json_is_object(r)) {
		etcd_error_text(res, 200, err, errlen);
		json_decref(res);
		return -EPROTO;
	}
	/* grpc-gateway leaves out a TTL of 0: the lease is gone. */
	*ttl_s = etcd_json_int(r, "TTL", 0);
	json_decref(res);
	return 0;
}

int
etcd_lease_revoke(struct etcd *e, int64_t id, char *err, size_t errlen)
{
	json_t *req = json_object(), *res = NULL;
	int rc;

	if (req == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	json_object_set_new(req, "ID", etcd_int_json(id));
	rc = etcd_call(e, "/v3/lease/revoke", req, &res, err, errlen);
	json_decref(req);
	/* Gone already (expired, revoked by someone else): what we wanted. */
	if (rc == -EIO && strstr(err, "not found") != NULL)
		rc = 0;
	json_decref(res);
	return rc;
}

int
etcd_put_if(struct etcd *e, const char *key, const char *value, int64_t lease,
	    int64_t mod_rev, bool *done, char *err, size_t errlen)
{
	json_t *req = json_object(), *cmp = json_object(), *put = json_object(), *res = NULL;
	int rc = -ENOMEM;

	*done = false;
	if (req == NULL || cmp == NULL || put == NULL ||
	    etcd_set_b64(cmp, "key", key, strlen(key)) < 0 ||
	    etcd_set_b64(put, "key", key, strlen(key)) < 0 ||
	    etcd_set_b64(put, "value", value, strlen(value)) < 0) {
		json_decref(cmp);
		json_decref(put);
		goto nomem;
	}
	json_object_set_new(cmp, "result", json_string("EQUAL"));
	if (mod_rev == 0) {
		json_object_set_new(cmp, "target", json_string("CREATE"));
		json_object_set_new(cmp, "create_revision", json_string("0"));
	} else {
		json_object_set_new(cmp, "target", json_string("MOD"));
		json_object_set_new(cmp, "mod_revision", etcd_int_json(mod_rev));
	}
	if (lease != 0)
		json_object_set_new(put, "lease", etcd_int_json(lease));
	if (json_object_set_new(req, "compare", json_pack("[o]", cmp)) < 0 ||
	    json_object_set_new(req, "success", json_pack("[{s:o}]", "request_put", put)) < 0)
		goto nomem;
	rc = etcd_call(e, "/v3/kv/txn", req, &res, err, errlen);
	if (rc == 0)
		*done = json_is_true(json_object_get(res, "succeeded"));
	json_decref(res);
	json_decref(req);
	return rc;
nomem:
	json_decref(req);
	snprintf(err, errlen, "out of memory");
	return rc;
}

/* ---- watch ---- */

struct etcd_watch *
etcd_watch_start(struct etcd *e, const char *prefix, int64_t start_rev, char *err,
		 size_t errlen)
{
	struct etcd_watch *w = calloc(1, sizeof(*w));
	json_t *req = json_object(), *cr = json_object();
	char *end = etcd_prefix_end(prefix);

	if (w == NULL || req == NULL || cr == NULL || end == NULL ||
	    etcd_set_b64(cr, "key", prefix, strlen(prefix)) < 0 ||
	    etcd_set_b64(cr, "range_end", end, strlen(end)) < 0)
		goto nomem;
	json_object_set_new(cr, "start_revision", etcd_int_json(start_rev));
	json_object_set_new(req, "create_request", cr);
	cr = NULL;
	w->e = e;
	w->body = json_dumps(req, JSON_COMPACT);
	w->m = curl_multi_init();
	w->h = curl_easy_init();
	if (w->body == NULL || w->m == NULL || w->h == NULL)
		goto nomem;
	etcd_setup(e, w->h, "/v3/watch", w->body, &w->buf);
	if (curl_multi_add_handle(w->m, w->h) != CURLM_OK)
		goto nomem;
	json_decref(req);
	free(end);
	return w;
nomem:
	snprintf(err, errlen, "out of memory");
	json_decref(cr);
	json_decref(req);
	free(end);
	etcd_watch_stop(w);
	return NULL;
}

void
etcd_watch_stop(struct etcd_watch *w)
{
	if (w == NULL)
		return;
	if (w->m != NULL && w->h != NULL)
		curl_multi_remove_handle(w->m, w->h);
	if (w->h != NULL)
		curl_easy_cleanup(w->h);
	if (w->m != NULL)
		curl_multi_cleanup(w->m);
	free(w->body);
	free(w->buf.data);
	free(w);
}

/* One watch response: its events to fn. */
static int
etcd_watch_object(json_t *doc, etcd_event_fn fn, void *arg, int64_t *revision, char *err,
		  size_t errlen)
{
	json_t *r = json_object_get(doc, "result"), *evs, *ev;
	size_t i;

	if (!json_is_object(r)) {
		etcd_error_text(doc, 200, err, errlen);
		return -ECONNRESET;
	}
	if (json_is_true(json_object_get(r, "canceled"))) {
		snprintf(err, errlen, "watch cancelled by etcd (compacted at revision %lld)",
			 (long long)etcd_json_int(r, "compact_revision", 0));
		return -ESTALE;
	}
	evs = json_object_get(r, "events");
	json_array_foreach(evs, i, ev) {
		struct etcd_event e = { 0 };
		const char *type = json_string_value(json_object_get(ev, "type"));

		if (etcd_kv_decode(json_object_get(ev, "kv"), &e.kv) < 0)
			continue;
		e.deleted = type != NULL && strcmp(type, "DELETE") == 0;
		fn(arg, &e);
		etcd_kv_clear(&e.kv);
	}
	if (json_array_size(evs) > 0 && json_is_object(json_object_get(r, "header")))
		*revision = etcd_json_int(json_object_get(r, "header"), "revision", *revision);
	return 0;
}

/* Hand every complete object in the buffer to etcd_watch_object; keep the rest. */
static int
etcd_watch_drain(struct etcd_watch *w, etcd_event_fn fn, void *arg, int64_t *revision,
		 char *err, size_t errlen)
{
	size_t start, end;
	json_t *doc;
	int rc = 0, got;

	while (rc == 0 && w->buf.len > 0 &&
	       (got = etcd_json_split(w->buf.data, w->buf.len, &start, &end, &doc)) != 0) {
		if (got < 0) {
			snprintf(err, errlen, "watch: bad JSON from etcd");
			return -ECONNRESET;
		}
		rc = etcd_watch_object(doc, fn, arg, revision, err, errlen);
		json_decref(doc);
		memmove(w->buf.data, w->buf.data + end, w->buf.len - end);
		w->buf.len -= end;
		w->buf.data[w->buf.len] = '\0';
	}
	return rc;
}

int
etcd_watch_poll(struct etcd_watch *w, int timeout_ms, etcd_event_fn fn, void *arg,
		int64_t *revision, char *err, size_t errlen)
{
	int running = 0, rc;
	CURLMsg *msg;
	int left;

	if (curl_multi_perform(w->m, &running) != CURLM_OK)
		running = 0;
	rc = etcd_watch_drain(w, fn, arg, revision, err, errlen);
	if (rc < 0)
		return rc;
	if (running) {
		curl_multi_poll(w->m, NULL, 0, timeout_ms, NULL);
		if (curl_multi_perform(w->m, &running) != CURLM_OK)
			running = 0;
		rc = etcd_watch_drain(w, fn, arg, revision, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (w->e->stop != NULL && atomic_load(w->e->stop)) {
		snprintf(err, errlen, "stopped");
		return -ECANCELED;
	}
	if (running)
		return 0;
	snprintf(err, errlen, "watch stream from %s ended", etcd_endpoint(w->e));
	while ((msg = curl_multi_info_read(w->m, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && msg->data.result != CURLE_OK) {
			snprintf(err, errlen, "watch stream from %s: %s", etcd_endpoint(w->e),
				 curl_easy_strerror(msg->data.result));
			if (msg->data.result == CURLE_COULDNT_CONNECT)
				w->e->cur = (w->e->cur + 1) % w->e->n_urls;
		}
	return -ECONNRESET;
}
