/* tests/tools/bench_decode.c - decoder throughput for `make bench`: whole
 * polls (framer + decoder + register encoding) per second, per driver, on
 * the recorded frames of a full answer (tests/fixtures/vectors.tsv; built
 * answers where no capture of a block exists), and the cost of one poll.
 * pylon-can, a listening driver, twice: its cycle as the CAN transport hands
 * it over (records), and from the slcan adapter's lines up (the line
 * parser of gateway/wire/slcan.c, the records, the decoder). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "../../gateway/wire/slcan.h"
#include "../../registers/regmap.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One step: feed wire from *off until handle() says BMS_OK; 0, or -1. */
static int run_step(const struct bms_driver *d, struct bms_poll *poll, struct bms_rx *rx, const uint8_t *wire,
		    size_t n, size_t *off)
{
	int rc = BMS_MORE;
	while (rc != BMS_OK) {
		size_t fl = 0;
		enum bms_scan s = d->scan(poll, rx->buf, rx->len, &fl);
		if (s == BMS_SCAN_NEED) {
			if (*off >= n)
				return -1;
			size_t chunk = n - *off < 13 ? n - *off : 13;
			bms_rx_feed(rx, wire + *off, chunk);
			*off += chunk;
			continue;
		}
		if (s == BMS_SCAN_SKIP || s == BMS_SCAN_BADSUM) {
			bms_rx_consume(rx, fl);
			continue;
		}
		rc = d->handle(poll, rx->buf, fl);
		bms_rx_consume(rx, fl);
		if (rc < 0 && rc != BMS_E_UNEXPECTED)
			return -1;
	}
	return 0;
}

/* Feed `wire` (all answers back to back) through one poll of the pack at
 * addr; returns 0 if the poll completed and finish() accepted it.  A
 * listening driver's poll is one step. */
static int run_poll(const struct bms_driver *d, uint8_t addr, const uint8_t *wire, size_t n, struct bms_poll *poll)
{
	static struct bms_rx rx;
	uint8_t req[64];
	size_t off = 0;
	bms_poll_begin(poll, addr, 0, false);
	bms_rx_clear(&rx);
	if (d->listen_only) {
		if (run_step(d, poll, &rx, wire, n, &off) != 0)
			return -1;
	} else {
		while (d->next_request(poll, req, sizeof(req)) > 0)
			if (run_step(d, poll, &rx, wire, n, &off) != 0)
				return -1;
	}
	return d->finish ? d->finish(poll) : 0;
}

/* The slcan adapter's lines of one cycle to records, as can.c and
 * canlink.c pass them on; the records' length. */
static size_t slcan_records(const char *lines, size_t n, uint8_t *out, size_t cap)
{
	static struct slcan_rx rx;
	struct slcan_rx_event ev;
	size_t len = 0;
	const uint8_t *p = (const uint8_t *)lines;
	slcan_rx_init(&rx);
	while (n) {
		size_t used = slcan_rx_feed(&rx, p, n, &ev);
		if (ev.kind == SLCAN_EV_FRAME)
			len += bms_can_record(out + len, cap - len, ev.frame.id, ev.frame.ext, ev.frame.rtr, ev.frame.dlc,
					      ev.frame.data);
		p += used;
		n -= used;
	}
	return len;
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

/* One driver's poll: the answers of its live requests, in order (the
 * identity is taken as known, as after the first poll). */
struct bench_case {
	const char *name;
	const struct bms_driver *drv;
	uint8_t addr;
	bool text; /* ASCII frames as they are, else hex */
	const char *wire;
	bool slcan; /* text: an slcan adapter's lines, made records first (every poll) */
};

static const struct bench_case cases[] = {
	/* a 16S Daly: 0x90..0x94, 6 cell frames, 1 temperature frame, 0x97, 0x98 */
	{ "daly", &bms_daly_driver, 1, false,
		"a5019008021400007545037889" "a50191080d000f0cfe010378e1" "a501920837013701fe0103782a"
		"a5019308020101780003cb40cb" "a5019408100100000000034096"
		"a5019508010cfd0cfe0cfe40a1a5019508020cfe0cfe0cfe40a3a5019508030cfe0cfe0cfe40a4"
		"a5019508040cfe0cfc0cfe40a3a5019508050cfe0cff0cfe40a7a5019508060cfc000000004091"
		"a501960801370000000000007c" "a5019708000000000000000045" "a5019808000000000000000046", false },
	/* PACE25-01, -02: 0x42 + 0x44 */
	{ "pace", &bms_pace_driver, 1, true,
		"~25014600F07A0001100CC70CC80CC70CC70CC70CC50CC60CC70CC70CC60CC70CC60CC60CC70CC60CC70"
		"60B9B0B990B990B990BB30BBCFF1FCCCD12D303286A008C2710E1E4\r~25014600004C00011000000000"
		"0000000000000000000000000600000000000000000000000E000000000000EF3A\r", false },
	/* EG4LP4-01, -02: 0x42 + 0x44 */
	{ "eg4-lp4", &bms_eg4_lp4_driver, 1, true,
		"~20014A00A0CA1001100D2F0D2C0D2C0D2D0D2D0D2F0D2F0D2F0D2C0D2D0D2D0D2F0D300D2C0D300D2C0"
		"40B9B0BA50B9B0B9B0BB90BAF029D151521A9268400540F005700620D300D2C00040BA50B9B000ADAC00"
		"00A54550005D473000570A600000680000004CA56897E24D1A5\r~20014A007054100110000000000000"
		"000000000000000000000400000000000000000900000000000003020000000000EDC3\r", false },
	/* DAREN-01: 0x42 */
	{ "daren", &bms_daren_driver, 1, true,
		"~22014A00E0C6001A2C14C0100D010D010CDB0D010D010D000D020CE60CF80D020D010CDF0D020D020D0"
		"00CE0010E0104010E040104010401040104000000000050011F4014F000CC00000000000000000023000"
		"0000000000000000000000000000000000000000000D582\r", false },
	/* SEPLOS3-01, -02 and a PIC answer */
	{ "seplos3", &bms_seplos3_driver, 1, false,
		"01042214cdff776b4080e80122034003e7000a0cff0b7f0d000cff0b810b7e000000b400b4d32e010434"
		"0cff0cff0d000d000d000cff0d000cff0d000d000d000d000d000cff0cff0d000b820b7f0b810b7e0aab"
		"0aab0aab0aab0b8c0b7f01130101120000000000000000010000000000000300002aa5", false },
	/* EG4LL-01 */
	{ "eg4-ll", &bms_eg4_ll_driver, 2, false,
		"02034e14f600780d1a0d190d1b0d1b0d1a0d1b0d1a0d1b0d1a0d1b0d1a0d1a0d1a0d1b0d1a0d1a001900"
		"1b0018006100640064006100010000000000000000000b15752a00181818180000001003e800004e71", false },
	/* RENOGY-01 and built 5042 / 5100 answers */
	{ "renogy", &bms_renogy_driver, 48, false,
		"30034400040023002100210021000000000000000000000000000000000000000000000000000200aa00"
		"aa00000000000000000000000000000000000000000000000000000000257430030e00fa008800015f90"
		"000186a00003fd9d300310000000000000000000000000000680001760", false },
	/* PYLONCAN-01 as the CAN transport's records (BMS_CAN_MAGIC0 ...) */
	{ "pylon-can", &bms_pylon_can_driver, 0, false,
		"ca4e0051030000081402c012c012c201" "ca4e00550300000458005e00" "ca4e0056030000067a13f2fe6b01"
		"ca4e0059030000070000000006504e" "ca4e005c03000002c000" "ca4e005e0300000850594c4f4e202020", false },
	/* the same from the slcan adapter's lines */
	{ "pylon-can/sl", &bms_pylon_can_driver, 0, true,
		"t35181402C012C012C201\rt355458005E00\rt35667A13F2FE6B01\rt35970000000006504E\rt35C2C000\r"
		"t35E850594C4F4E202020\r", true },
	/* a built 0 x 37 answer (no capture exists) */
	{ "pace-modbus", &bms_pace_modbus_driver, 1, false,
		"01034afb2e14c8004c00631db02710271001410000000000000e000003000000000cf80cf90cfa0cfb0c"
		"fc0cfd0cfe0cff0d000d010d020d030d040d050d060d0700fb00fcffcb00fe013100dd4170", false },
};

/* Polls per second of c for about `seconds`; 0 if its poll does not decode. */
static int bench(const struct bench_case *c, double seconds)
{
	static uint8_t wire[2048];
	size_t n = c->text ? strlen(c->wire) : hex(c->wire, wire, sizeof(wire));
	if (c->text)
		memcpy(wire, c->wire, n);
	if (c->slcan)
		n = slcan_records(c->wire, strlen(c->wire), wire, sizeof(wire));
	struct bms_poll poll;
	memset(&poll, 0, sizeof(poll));
	poll.kept.ident_state = BMS_IDENT_NONE;
	uint16_t regs[REG_MAP_SIZE];
	if (run_poll(c->drv, c->addr, wire, n, &poll) != 0) {
		fprintf(stderr, "bench_decode: the %s poll does not decode\n", c->name);
		return 1;
	}
	long iters = 0;
	double t0 = now(), t;
	do {
		for (int i = 0; i < 1000; i++) {
			if (c->slcan)
				n = slcan_records(c->wire, strlen(c->wire), wire, sizeof(wire));
			run_poll(c->drv, c->addr, wire, n, &poll);
			bms_snapshot_derive(&poll.snap);
			reg_encode_data(&poll.snap, REG_FLOAT_CDAB, regs);
		}
		iters += 1000;
		t = now();
	} while (t - t0 < seconds);
	printf("%-12s %9.0f polls/s decoded and encoded (%4zu wire bytes, %6.2f us per poll)\n", c->name,
	       iters / (t - t0), c->slcan ? strlen(c->wire) : n, (t - t0) / iters * 1e6);
	return 0;
}

int main(void)
{
	int rc = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		rc |= bench(&cases[i], i == 0 ? 2.0 : 1.0);
	return rc;
}
