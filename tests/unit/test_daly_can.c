/* SPDX-License-Identifier: MIT */
/* tests/unit/test_daly_can.c - a Daly on its CAN port (bms/daly_can.c,
 * experimental): every request of a poll is a read, 0x18 cmd 01 40 with 8
 * zero bytes, one record; no real CAN answer is published, so the answers
 * are the data bytes of real UART answers (the DALY rows of
 * tests/fixtures/vectors.tsv, which test_daly.c runs through the UART
 * driver) in frames 0x18 cmd 40 01, as Daly's CAN protocol puts them:
 * they must decode as over the UART; other frames of the bus (another
 * board, a host's request, standard and remote frames) are passed over;
 * short and impossible answers refused.  Protocol facts:
 * bms/PROTOCOLS.md §41. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static const struct bms_driver *const drv = &bms_daly_can_driver;

#include "can_recs.h"
#include "drive.h"

/* UART answers of tests/fixtures/vectors.tsv (DALY_01 = row DALY-01) */
#define DALY_01 "a5019008021400007545037889"
#define DALY_16 "a5019308020101780003cb40cb"
#define DALY_20 "a5019408100100000000034096"
#define DALY_23 "a5019508010cfd0cfe0cfe40a1a5019508020cfe0cfe0cfe40a3a5019508030cfe0cfe0cfe40a4" \
	"a5019508040cfe0cfc0cfe40a3a5019508050cfe0cff0cfe40a7a5019508060cfc000000004091"
#define DALY_26 "a501960801370000000000007ca5019608020000000000000046"
#define DALY_29 "a5019708000000000000000045"
#define DALY_30 "a5019808000000000000000046"

static const size_t chunks_odd[] = { 1, 3, 2, 7, 5, 11 };

/* The UART answers in hex as the CAN frames of board 1's answers: one
 * record per 13-byte frame, id 0x18 cmd 40 01, its bytes 4..11. */
static size_t uart_recs(uint8_t *out, size_t cap, const char *hex)
{
	uint8_t uart[512];
	int n = drive_hex(hex, uart, sizeof(uart));
	size_t k = 0;
	CHECK(n > 0 && n % 13 == 0);
	for (int i = 0; i + 13 <= n; i += 13) {
		size_t m = bms_can_record(out + k, cap - k, 0x18004001u | (uint32_t)uart[i + 2] << 16, true, false, 8,
					  uart + i + 4);
		CHECK(m == 16);
		k += m;
	}
	return k;
}

/* The request of the current step: its command, after checking it is a
 * read (one extended frame 0x18 cmd 01 40, 8 zero bytes); 0 at the end. */
static int request_cmd(struct bms_poll *poll)
{
	uint8_t out[64];
	int n = drv->next_request(poll, out, sizeof(out));
	if (n == 0)
		return 0;
	struct bms_can_msg m;
	CHECK_EQ_INT(n, 16);
	CHECK_EQ_INT(bms_can_parse(out, (size_t)n, &m), BMS_OK);
	CHECK(m.ext && !m.rtr && m.dlc == 8);
	CHECK_EQ_INT(m.id & 0xFF00FFFFu, 0x18000140u);
	for (int i = 0; i < 8; i++)
		CHECK_EQ_INT(m.data[i], 0);
	int cmd = (int)((m.id >> 16) & 0xFF);
	CHECK(cmd >= 0x90 && cmd <= 0x98);
	return cmd;
}

static struct drive_res answer(struct bms_poll *poll, struct bms_rx *rx, const char *uart_hex)
{
	uint8_t buf[1024];
	size_t n = uart_recs(buf, sizeof(buf), uart_hex);
	return FEED_BYTES(poll, rx, buf, n, chunks_odd);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "daly-can");
	CHECK_EQ_INT(drv->protocol_id, 33);
	CHECK(bms_find("daly-can") == drv);
	CHECK(!drv->listen_only && drv->next_request != NULL);
	CHECK_EQ_INT(drv->can->bitrate, 250000);
	CHECK(drv->min_address == 1 && drv->max_address == 1 && !drv->probe);
	CHECK(drv->control == NULL && !drv->ble);
	/* its answers pass the filter, the host's requests do not */
	CHECK((0x18904001u & drv->can->ext_mask) == (drv->can->ext_id & drv->can->ext_mask));
	CHECK((0x18984001u & drv->can->ext_mask) == (drv->can->ext_id & drv->can->ext_mask));
	CHECK((0x18900140u & drv->can->ext_mask) != (drv->can->ext_id & drv->can->ext_mask));
}

/* A whole poll: the reads in order, the values as the UART gives them. */
static void test_poll(void)
{
	static const struct {
		int cmd;
		const char *hex;
	} steps[] = {
		{ 0x90, DALY_01 }, { 0x93, DALY_16 }, { 0x94, DALY_20 }, { 0x95, DALY_23 },
		{ 0x96, DALY_26 }, { 0x97, DALY_29 }, { 0x98, DALY_30 },
	};
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	for (int inv = 0; inv < 2; inv++) {
		drive_begin(&poll, &rx, 1, 0, inv);
		for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			CHECK_EQ_INT(request_cmd(&poll), steps[k].cmd);
			struct drive_res r = answer(&poll, &rx, steps[k].hex);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(r.err + r.bad_scan, 0);
		}
		CHECK_EQ_INT(request_cmd(&poll), 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		const struct bms_snapshot *s = &poll.snap;
		CHECK_NEAR(s->voltage, 53.2, 1e-4);
		CHECK_NEAR(s->current, inv ? 2.1 : -2.1, 1e-4);
		CHECK_NEAR(s->soc, 88.8, 1e-4);
		CHECK_NEAR(s->remain_ah, 248.64, 1e-3);
		CHECK_EQ_INT(s->cycles, 3);
		CHECK_EQ_INT(s->ncells, 16);
		CHECK_EQ_INT(s->cell_mv[0], 3325);
		CHECK_EQ_INT(s->cell_mv[15], 3324);
		CHECK_EQ_INT(s->ntemps, 1);
		CHECK_NEAR(s->temp_c[0], 15.0, 1e-6);
		CHECK_EQ_INT(s->alarms, 0);
	}
}

/* Frames that are no answer of board 1 to the host; short and impossible
 * answers. */
static void test_other_frames(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	static const char *const others[] = {
		"18900140#0000000000000000", /* a host's request (another host's, or an echo) */
		"18904002#0214000075450378",/* board 2's answer */
		"18FF4001#0214000075450378", /* no Daly command */
		"10904001#0214000075450378", /* another priority */
		"351#1402C012C012C201",      /* a standard frame */
		"18904001r#8",               /* a remote frame */
	};
	for (size_t k = 0; k < sizeof(others) / sizeof(others[0]); k++) {
		drive_begin(&poll, &rx, 1, 0, false);
		uint8_t buf[64];
		size_t n = recs(buf, sizeof(buf), others[k]);
		struct drive_res r = FEED_BYTES(&poll, &rx, buf, n, chunks_odd);
		CHECK_EQ_INT(r.frames, 1);
		CHECK_EQ_INT(r.unexpected, 1);
		CHECK_EQ_INT(poll.snap.present, 0);
	}
	/* an answer to another command than the one asked: passed over */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(request_cmd(&poll), 0x90);
	struct drive_res r = answer(&poll, &rx, DALY_16);
	CHECK_EQ_INT(r.unexpected, 1);
	/* short: refused */
	uint8_t buf[64];
	size_t n = recs(buf, sizeof(buf), "18904001#02140000");
	r = FEED_BYTES(&poll, &rx, buf, n, chunks_odd);
	CHECK_EQ_INT(r.last_err, BMS_E_SHORT);
	CHECK(!(poll.snap.present & BMS_HAS_VOLTAGE));
	/* impossible: 0x94 with 200 cells */
	drive_begin(&poll, &rx, 1, 0, false);
	answer(&poll, &rx, DALY_01);
	answer(&poll, &rx, DALY_16);
	CHECK_EQ_INT(request_cmd(&poll), 0x94);
	n = recs(buf, sizeof(buf), "18944001#C801000000000340");
	r = FEED_BYTES(&poll, &rx, buf, n, chunks_odd);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	/* a broken record */
	n = uart_recs(buf, sizeof(buf), DALY_20);
	CHECK_EQ_INT(drv->handle(&poll, buf, n - 1), BMS_E_SHORT);
}

int main(void)
{
	test_table();
	test_poll();
	test_other_frames();
	return check_report();
}
