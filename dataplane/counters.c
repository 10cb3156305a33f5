/*
 * counters.c - the user-visible names of the drop reasons and stages.
 *
 * The tables are generated from the X-macro lists in counters.h, so adding a
 * drop reason or a stage there is the only edit needed: the enum, the names
 * that `dpctl stats` prints and the JSON keys cannot drift apart. The tables
 * are constant and may be read from any thread.
 */
#include "counters.h"

const char *const dp_drop_names[DP_DROP_MAX] = {
#define DP_DROP_NAME(e, n, d) [DP_DROP_##e] = n,
	DP_DROP_REASONS(DP_DROP_NAME)
#undef DP_DROP_NAME
};

const char *const dp_drop_descs[DP_DROP_MAX] = {
#define DP_DROP_DESC(e, n, d) [DP_DROP_##e] = d,
	DP_DROP_REASONS(DP_DROP_DESC)
#undef DP_DROP_DESC
};

const char *const dp_stage_names[DP_STAGE_MAX] = {
#define DP_STAGE_NAME(e, n) [DP_STAGE_##e] = n,
	DP_STAGES(DP_STAGE_NAME)
#undef DP_STAGE_NAME
};
