/*
 * util.c - small helpers every control module uses. See util.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "util.h"

int
ctl_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

uint64_t
ctl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t
ctl_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
ctl_random_bytes(void *buf, size_t len)
{
	uint8_t *b = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(b + got, len - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* No entropy source at all: time-based, still unique enough. */
			for (; got < len; got++)
				b[got] = (uint8_t)(ctl_now_ns() >> (got % 8 * 8)) ^ (uint8_t)rand();
			return;
		}
		got += (size_t)n;
	}
}

void
ctl_random_hex(char *out, size_t digits)
{
	uint8_t b[32];

	ctl_random_bytes(b, sizeof(b));
	for (size_t i = 0; i < digits && i / 2 < sizeof(b); i++)
		out[i] = "0123456789abcdef"[i % 2 ? b[i / 2] & 15 : b[i / 2] >> 4];
	out[digits < 2 * sizeof(b) ? digits : 2 * sizeof(b)] = '\0';
}
