/* SPDX-License-Identifier: MIT */
/* tests/unit/test_retry.c - the reconnect policy's outage log (core/retry.c):
 * an outage logged once when it starts and once when it ends, and an
 * outage covered by another's line (each link through an ESPHome proxy,
 * whose session logs one line naming every pack behind it: issue 62 had
 * one line for the proxy and one for each pack) logged neither at its
 * start nor at its end, unless the link then fails for a reason of its own.
 */
#include <stdio.h>
#include <string.h>

#include "../../gateway/core/log.h"
#include "../../gateway/core/retry.h"
#include "check.h"

static FILE *sink;

/* The lines logged at info level or above since the last call. */
static int lines(const char *want)
{
	static long at;
	char buf[512];
	int n = 0;
	fflush(sink);
	fseek(sink, at, SEEK_SET);
	while (fgets(buf, sizeof(buf), sink)) {
		if (!strstr(buf, " debug: ")) {
			n++;
			if (want && !strstr(buf, want)) {
				fprintf(stderr, "  line \"%s\" lacks \"%s\"\n", buf, want);
				n += 100;
			}
		}
	}
	at = ftell(sink);
	return n;
}

static void test_plain(void)
{
	struct gw_retry r;
	gw_retry_init(&r);
	CHECK_NEAR(gw_retry_failed(&r, "link a", "refused"), 1, 1e-9);
	CHECK_EQ_INT(lines("link a: refused; retrying"), 1);
	CHECK_NEAR(gw_retry_failed(&r, "link a", "refused"), 2, 1e-9);
	CHECK_NEAR(gw_retry_failed(&r, "link a", "refused"), 4, 1e-9);
	CHECK_EQ_INT(lines(NULL), 0); /* the rest of the outage at debug */
	CHECK(!gw_retry_was_covered(&r));
	CHECK(gw_retry_up(&r) >= 0);  /* its end is the caller's line */
	CHECK_NEAR(r.backoff, GW_RETRY_MIN, 1e-9);
	CHECK(gw_retry_up(&r) < 0);   /* no outage: none to end */
}

static void test_covered(void)
{
	struct gw_retry r;
	gw_retry_init(&r);
	/* the proxy's outage: the link's failures at debug, the backoff as ever */
	CHECK_NEAR(gw_retry_failed_covered(&r, "link b", "proxy shed: closed"), 1, 1e-9);
	CHECK_NEAR(gw_retry_failed_covered(&r, "link b", "proxy shed: refused"), 2, 1e-9);
	CHECK_EQ_INT(lines(NULL), 0);
	CHECK(gw_retry_was_covered(&r));
	CHECK(gw_retry_up(&r) < 0);   /* back with its proxy: no line of its own */
	CHECK(!gw_retry_was_covered(&r));
	CHECK_NEAR(r.backoff, GW_RETRY_MIN, 1e-9);

	/* the proxy is back, the pack's device is not: logged on its own */
	gw_retry_failed_covered(&r, "link b", "proxy shed: closed");
	CHECK_EQ_INT(lines(NULL), 0);
	gw_retry_failed(&r, "link b", "device not seen");
	CHECK_EQ_INT(lines("link b: device not seen; retrying"), 1);
	CHECK(!gw_retry_was_covered(&r));
	gw_retry_failed(&r, "link b", "device not seen");
	gw_retry_failed_covered(&r, "link b", "proxy shed: closed"); /* its own outage stays logged */
	CHECK_EQ_INT(lines(NULL), 0);
	CHECK(!gw_retry_was_covered(&r));
	CHECK(gw_retry_up(&r) >= 0);  /* ... and its end is logged */

	/* an outage of its own first: the proxy's later failure changes nothing */
	gw_retry_failed(&r, "link b", "GATT error");
	gw_retry_failed_covered(&r, "link b", "proxy shed: closed");
	CHECK_EQ_INT(lines("link b: GATT error"), 1);
	CHECK(gw_retry_up(&r) >= 0);
}

int main(void)
{
	sink = tmpfile();
	if (!sink)
		return 2;
	gw_log_set_output(sink);
	test_plain();
	test_covered();
	return check_report();
}
