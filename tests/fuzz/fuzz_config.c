/*
 * fuzz_config.c - libFuzzer target: the YAML configuration loader, cfg_parse()
 * on the input as a file's text (not NUL-terminated: the buffer is exactly the
 * input). A failure must come with a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfg c;
	char err[1024];
	int rc;

	err[0] = '\0';
	rc = cfg_parse("fuzz.yaml", (const char *)data, size, &c, err, sizeof(err));
	if (rc < 0 && err[0] == '\0') {
		fprintf(stderr, "cfg_parse failed (%d) without a message\n", rc);
		abort();
	}
	if (rc > 0) {
		fprintf(stderr, "cfg_parse returned %d\n", rc);
		abort();
	}
	return 0;
}
