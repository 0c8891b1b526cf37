/* tests/tools/bench_decode.c - decoder throughput for `make bench`: whole
 * polls (framer + decoder + register encoding) per second, per driver, on
 * the recorded frames of a full answer. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "../../registers/regmap.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Feed `wire` (all answers back to back) through one poll; returns 0 if the
 * poll completed and finish() accepted it. */
static int run_poll(const struct bms_driver *d, const uint8_t *wire, size_t n, struct bms_poll *poll)
{
	static struct bms_rx rx;
	uint8_t req[64];
	size_t off = 0;
	bms_poll_begin(poll, 1, 0, false);
	bms_rx_clear(&rx);
	while (d->next_request(poll, req, sizeof(req)) > 0) {
		int rc = BMS_MORE;
		while (rc != BMS_OK) {
			size_t fl = 0;
			enum bms_scan s = d->scan(poll, rx.buf, rx.len, &fl);
			if (s == BMS_SCAN_NEED) {
				if (off >= n)
					return -1;
				size_t chunk = n - off < 13 ? n - off : 13;
				bms_rx_feed(&rx, wire + off, chunk);
				off += chunk;
				continue;
			}
			if (s == BMS_SCAN_SKIP || s == BMS_SCAN_BADSUM) {
				bms_rx_consume(&rx, fl);
				continue;
			}
			rc = d->handle(poll, rx.buf, fl);
			bms_rx_consume(&rx, fl);
			if (rc < 0 && rc != BMS_E_UNEXPECTED)
				return -1;
		}
	}
	return d->finish ? d->finish(poll) : 0;
}

static size_t hex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;
	while (n < cap && sscanf(h, "%2x", &v) == 1) {
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

int main(void)
{
	/* a 16S Daly: 0x90..0x94, 6 cell frames, 1 temperature frame, 0x97, 0x98 */
	static const char *daly =
		"a5019008021400007545037889" "a50191080d000f0cfe010378e1" "a501920837013701fe0103782a"
		"a5019308020101780003cb40cb" "a5019408100100000000034096"
		"a5019508010cfd0cfe0cfe40a1a5019508020cfe0cfe0cfe40a3a5019508030cfe0cfe0cfe40a4"
		"a5019508040cfe0cfc0cfe40a3a5019508050cfe0cff0cfe40a7a5019508060cfc000000004091"
		"a501960801370000000000007c" "a5019708000000000000000045" "a5019808000000000000000046";
	uint8_t wire[512];
	size_t n = hex(daly, wire, sizeof(wire));
	struct bms_poll poll;
	memset(&poll, 0, sizeof(poll));
	uint16_t regs[REG_MAP_SIZE];
	if (run_poll(&bms_daly_driver, wire, n, &poll) != 0) {
		fprintf(stderr, "bench_decode: the recorded daly poll does not decode\n");
		return 1;
	}
	long iters = 0;
	double t0 = now(), t;
	do {
		for (int i = 0; i < 1000; i++) {
			run_poll(&bms_daly_driver, wire, n, &poll);
			bms_snapshot_derive(&poll.snap);
			reg_encode_data(&poll.snap, REG_FLOAT_CDAB, regs);
		}
		iters += 1000;
		t = now();
	} while (t - t0 < 2.0);
	printf("daly: %.0f complete polls/s decoded and encoded (%zu wire bytes each, %.2f us per poll)\n",
	       iters / (t - t0), n, (t - t0) / iters * 1e6);
	return 0;
}
