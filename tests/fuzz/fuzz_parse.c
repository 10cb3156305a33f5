/*
 * fuzz_parse.c - libFuzzer target: the packet parser (parse_one) on one frame.
 *
 * Input: [ctl][frame]; ctl & FZ_C_SPLIT splits the frame into two segments at
 * the byte given by ctl's low nibble times 4 (the parser must read nothing past
 * the first segment). Besides memory safety (the frame sits in a buffer of its
 * exact size), the offsets the parser reports must lie inside the first segment,
 * and parse_one (with its fast path for the common frame) must give the same
 * result and metadata as the generic parse (parse_one_generic).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/pipeline.h"
#include "dataplane/pkt.h"
#include "fuzz_dp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_dp_init("fuzz_parse", 0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rte_mbuf *m;
	struct pkt_meta *meta;
	size_t split = 0;
	int rc;

	if (size < 2)
		return 0;
	if (data[0] & FZ_C_SPLIT)
		split = (size_t)(data[0] & 0x0f) * 4 + 1;
	m = fz_mbuf(data + 1, size - 1, split);
	if (m == NULL)
		return 0;
	meta = pkt_meta(m);
	memset(meta, 0xa5, sizeof(*meta));
	rc = parse_one(m);
	if (rc == 0) {
		uint16_t dl = rte_pktmbuf_data_len(m);

		if ((meta->l3_off != PKT_OFF_NONE && meta->l3_off >= dl) ||
		    (meta->l4_off != PKT_OFF_NONE && meta->l4_off >= dl) ||
		    (meta->l4_off != PKT_OFF_NONE && meta->l3_off == PKT_OFF_NONE) ||
		    (meta->l3_off != PKT_OFF_NONE && meta->l3_off + (uint32_t)meta->l3_len >
		     rte_pktmbuf_pkt_len(m) && (meta->flags & (PKT_F_IPV4 | PKT_F_IPV6)))) {
			fprintf(stderr, "parse_one: offsets outside the frame: l3 %u l4 %u "
				"l3_len %u data_len %u pkt_len %u\n", meta->l3_off, meta->l4_off,
				meta->l3_len, dl, rte_pktmbuf_pkt_len(m));
			abort();
		}
	} else if (meta->next != PL_NEXT_DROP) {
		fprintf(stderr, "parse_one failed but did not drop the frame\n");
		abort();
	}
	/* The same frame through the generic parse alone. */
	{
		struct rte_mbuf *g = fz_mbuf(data + 1, size - 1, split);

		if (g != NULL) {
			memset(pkt_meta(g), 0xa5, sizeof(*meta));
			if (parse_one_generic(g) != rc ||
			    memcmp(pkt_meta(g), meta, sizeof(*meta)) != 0) {
				fprintf(stderr, "parse_one and parse_one_generic disagree\n");
				abort();
			}
			rte_pktmbuf_free(g);
		}
	}
	rte_pktmbuf_free(m);
	return 0;
}
