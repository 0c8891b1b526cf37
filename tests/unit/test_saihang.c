/* SPDX-License-Identifier: MIT */
/* tests/unit/test_saihang.c - Saihang / Anenji BMSs over Bluetooth LE
 * (saihang): the SAIHANG row of tests/fixtures/vectors.tsv (A5 A5 and the
 * answer to FC03 0x0000 x 0x48 of an 8S pack at slave 0) through scan() +
 * handle() fed in every chunking, the request (A5 A5 and the one read, at
 * slave 0), whole polls through finish(), built answers for what the
 * capture does not show (a current each way and inverted, a problem, the
 * MOSFETs one at a time, balancing, sub-zero sensors, no MOSFET or ambient
 * sensor, 20 cells and 10 sensors, a forced cell count) and broken input
 * (bad CRC, truncated, no prefix, impossible byte, cell and sensor counts,
 * SOC or SOH over 100).  Protocol facts: bms/PROTOCOLS.md §53. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_saihang_driver;

#define MB_BLE_SLAVE 0x00
#define MB_BLE_PREFIX "\xA5\xA5"
#include "mb_check.h"

/* tests/fixtures/vectors.tsv, family saihang */
#define SAIHANG_REQ_01 "a5a5000300000048442d"
#define SAIHANG_01 "a5a50003900000000000000aa800600064000025a600002710000027100002ffff000100000600000000000008" \
	"0da90d6a0d280d3d0d2c0d6b0d4d0d38ffffffffffffffffffffffffffffffffffffffffffffffff00020b430b46ffff" \
	"ffffffffffffffffffffffffffff0b560ba4ffffffffffffffffffffffffffff00006d600000721000006810000a0dac" \
	"0e420d02000a00009a5a"

/* aiobmsble's asserted values: 27.28 V, 0 A, 96 %, SOH 100, 96.38 Ah
 * remaining, 100 Ah design, 2 cycles, 8 cells, cells 15.3 and 15.6 degC,
 * MOSFET 17.2, ambient 25.0, both MOSFETs on, no balancing, no problem */
static void status_ok(const struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	static const uint16_t cells[8] = { 3497, 3434, 3368, 3389, 3372, 3435, 3405, 3384 };
	CHECK_NEAR(s->voltage, 27.28, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	CHECK_NEAR(s->soc, 96.0, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 96.38, 1e-3);
	CHECK_NEAR(s->full_ah, 100.0, 1e-3);
	CHECK_EQ_INT(s->cycles, 2);
	drive_check_cells(s, cells, 8);
	CHECK_EQ_INT(s->ntemps, 3);
	CHECK_NEAR(s->temp_c[0], 15.3, 1e-4);
	CHECK_NEAR(s->temp_c[1], 15.6, 1e-4);
	CHECK_NEAR(s->temp_c[2], 25.0, 1e-4);
	CHECK(s->present & BMS_HAS_MOS_TEMP);
	CHECK_NEAR(s->mos_temp_c, 17.2, 1e-4);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK(s->present & BMS_HAS_BALANCING);
	CHECK(!s->balancing);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 1);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
	CHECK(!(s->present & BMS_HAS_BALANCE));
}

static void begin(struct bms_poll *poll, struct bms_rx *rx)
{
	drive_begin(poll, rx, 0, 0, false);
	poll->link = BMS_LINK_BLE;
}

static void test_table(void)
{
	CHECK_STR(drv->name, "saihang");
	CHECK_EQ_INT(drv->protocol_id, 44);
	CHECK(drv->ble->hints != NULL && drv->listen == NULL);
	CHECK(bms_find("saihang") == drv);
	drive_check_ble16("fffa", "fffc", "fffb");
	/* aiobmsble's name pattern SH* */
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h->name_ok != NULL);
	if (h->name_ok) {
		CHECK(h->name_ok("SH-24100"));
		CHECK(h->name_ok("SH"));
		CHECK(!h->name_ok("S"));
		CHECK(!h->name_ok("XSH"));
		CHECK(!h->name_ok("BMS-1234"));
	}
	CHECK(h[1].why == NULL);
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	static const uint16_t documented[][3] = { { 0x03, 0x0000, 0x48 } };
	begin(&poll, &rx);
	CHECK(mb_req_is(&poll, SAIHANG_REQ_01));
	mb_reads_only(&poll, documented, 1);
	/* whatever address the poll has: slave 0 */
	drive_begin(&poll, &rx, 7, 0, false);
	CHECK(mb_req_is(&poll, SAIHANG_REQ_01));
	/* no room for the prefix and the read */
	uint8_t out[9];
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->next_request(&poll, out, sizeof(out)), BMS_E_NOSPACE);
	CHECK_EQ_INT(drv->next_request(&poll, out, 1), BMS_E_NOSPACE);
}

static void test_captures(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	begin(&poll, &rx);
	mb_every_chunking(&poll, f, mb_hex(SAIHANG_01, f), status_ok);
	CHECK_EQ_INT(mb_cur(&poll), -1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	status_ok(&poll);
	/* a forced cell count: the first cells only */
	drive_begin(&poll, &rx, 0, 3, false);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_hex(SAIHANG_01, f)), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 3);
	/* the frame without its prefix, or another prefix: not the answer */
	begin(&poll, &rx);
	size_t n = mb_hex(SAIHANG_01, f);
	CHECK_EQ_INT(mb_not_taken(&poll, f + 2, n - 2), 0);
	f[1] = 0x5A;
	CHECK_EQ_INT(mb_not_taken(&poll, f, n), 0);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drv->handle(&poll, f, 1), BMS_E_SHORT);
	/* a prefix's first byte doubled: the frame after it taken */
	uint8_t g[MB_MAX_FRAME + 1];
	g[0] = 0xA5;
	CHECK_EQ_INT(mb_hex(SAIHANG_01, g + 1), n);
	struct drive_res r = FEED_BYTES(&poll, &rx, g, n + 1, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.skipped, 1);
}

/* The block built: current (s32 0.01 A), n cells of 3300 + i mV, nt
 * sensors of -5.0 + i degC, the MOSFET and ambient sensors (0.1 K, 0xFFFF:
 * none), the MOSFET word, the problem word, balancing. */
static size_t mk_status(uint8_t *f, int32_t amps, unsigned n, unsigned nt, uint16_t mos_t, uint16_t amb_t,
			uint16_t mos, uint16_t prob, uint16_t bal)
{
	uint16_t v[0x48] = { (uint16_t)((uint32_t)amps >> 16), (uint16_t)amps, 0, 2640, 50, 98, 0, 5000, 0, 10000,
			     0, 10000, 7, prob };
	v[16] = mos;
	v[18] = bal;
	v[19] = (uint16_t)n;
	for (unsigned i = 0; i < 20; i++)
		v[20 + i] = i < n ? (uint16_t)(3300 + i) : 0xFFFF;
	v[40] = (uint16_t)nt;
	for (unsigned i = 0; i < 10; i++)
		v[41 + i] = i < nt ? (uint16_t)(2730 - 50 + 10 * (int)i) : 0xFFFF;
	v[51] = mos_t;
	v[52] = amb_t;
	return mb_prefixed(f, mb_answer(f, 0x00, 0x03, v, 0x48));
}

static void test_built(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	const struct bms_snapshot *s = &poll.snap;
	/* discharging 123.45 A (more than an s16 holds), 2 sensors below
	 * zero, no MOSFET or ambient sensor, the MOSFETs one at a time, a
	 * problem, balancing */
	for (int k = 0; k < 3; k++) {
		begin(&poll, &rx);
		uint16_t mos = k == 1 ? 0x0200 : k == 2 ? 0x0400 : 0;
		CHECK_EQ_INT(drv->handle(&poll, f, mk_status(f, -12345, 4, 2, 0xFFFF, 0xFFFF, mos, 0xFFFE, 4)), BMS_OK);
		CHECK_NEAR(s->current, -123.45, 1e-3);
		CHECK_NEAR(s->voltage, 26.40, 1e-4);
		CHECK_EQ_INT(s->alarms, BMS_AL_OTHER);
		CHECK_EQ_INT(s->raw_alarms[0], 0x0001);
		CHECK(s->chg_mos == (k == 1) && s->dsg_mos == (k == 2));
		CHECK(s->balancing);
		CHECK(!(s->present & BMS_HAS_MOS_TEMP));
		CHECK_EQ_INT(s->ntemps, 2);
		CHECK_NEAR(s->temp_c[0], -5.0, 1e-4);
		CHECK_NEAR(s->temp_c[1], -4.0, 1e-4);
		CHECK_NEAR(s->remain_ah, 50.0, 1e-4);
		CHECK_NEAR(s->full_ah, 100.0, 1e-4);
		CHECK_EQ_INT(s->cycles, 7);
	}
	/* a charging current, a MOSFET sensor below zero, the ambient alone */
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_status(f, 2500, 4, 0, 2730 - 35, 2730 + 212, 0x0600, 0xFFFF, 0)), BMS_OK);
	CHECK_NEAR(s->current, 25.0, 1e-4);
	CHECK_NEAR(s->mos_temp_c, -3.5, 1e-4);
	CHECK_EQ_INT(s->ntemps, 1);
	CHECK_NEAR(s->temp_c[0], 21.2, 1e-4);
	CHECK(!s->balancing);
	CHECK_EQ_INT(s->alarms, 0);
	/* no sensor at all */
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_status(f, 0, 4, 0, 0xFFFF, 0xFFFF, 0, 0xFFFF, 0)), BMS_OK);
	CHECK_EQ_INT(s->ntemps, 0);
	CHECK(!(s->present & BMS_HAS_TEMPS));
	/* the inverted current */
	begin(&poll, &rx);
	poll.invert_current = true;
	CHECK_EQ_INT(drv->handle(&poll, f, mk_status(f, 2500, 4, 0, 0, 0, 0, 0xFFFF, 0)), BMS_OK);
	CHECK_NEAR(s->current, -25.0, 1e-4);
	/* the most the block holds: 20 cells, 10 sensors and the ambient, all
	 * kept */
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_status(f, 0, 20, 10, 2980, 2990, 0, 0xFFFF, 0)), BMS_OK);
	CHECK_EQ_INT(s->ncells, 20);
	CHECK_EQ_INT(s->cell_mv[19], 3319);
	CHECK_EQ_INT(s->ntemps, 11);
	CHECK_NEAR(s->temp_c[7], 2.0, 1e-4);
	CHECK_NEAR(s->temp_c[10], 26.0, 1e-4);
	CHECK_NEAR(s->mos_temp_c, 25.0, 1e-4);
	/* 7 sensors and the ambient */
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_status(f, 0, 20, 7, 2980, 2990, 0, 0xFFFF, 0)), BMS_OK);
	CHECK_EQ_INT(s->ntemps, 8);
	CHECK_NEAR(s->temp_c[7], 26.0, 1e-4);
	begin(&poll, &rx);
	mb_broken(&poll, f, mk_status(f, 0, 20, 10, 2980, 2990, 0, 0xFFFF, 0));
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	begin(&poll, &rx);
	mb_broken(&poll, f, mb_hex(SAIHANG_01, f));
	/* 21 cells, 11 sensors do not fit the block */
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_status(f, 0, 21, 1, 0, 0, 0, 0xFFFF, 0)), BMS_E_RANGE);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_status(f, 0, 4, 11, 0, 0, 0, 0xFFFF, 0)), BMS_E_RANGE);
	CHECK_EQ_INT(mb_cur(&poll), 0x0000);
	/* SOC or SOH over 100 */
	uint16_t v[0x48] = { 0, 0, 0, 1330, 101, 100 };
	CHECK_EQ_INT(drv->handle(&poll, f, mb_prefixed(f, mb_answer(f, 0x00, 0x03, v, 0x48))), BMS_E_RANGE);
	v[4] = 100;
	v[5] = 101;
	CHECK_EQ_INT(drv->handle(&poll, f, mb_prefixed(f, mb_answer(f, 0x00, 0x03, v, 0x48))), BMS_E_RANGE);
	/* an exception to the read fails the try */
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_prefixed(f, mb_exception(f, 0x00, 0x03, 0x02))), BMS_E_REFUSED);
	/* an answer without cells is no sample */
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_status(f, 0, 0, 1, 0, 0, 0, 0xFFFF, 0)), BMS_OK);
	CHECK_EQ_INT(mb_cur(&poll), -1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* a timeout fails the try: the one read is live */
	begin(&poll, &rx);
	CHECK(!drv->timeout(&poll));
}

static void test_full_poll(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t a1[MB_MAX_FRAME];
	struct drive_answer ans[] = {
		{ a1, mb_hex(SAIHANG_01, a1), chunks_odd, DRIVE_NCH(chunks_odd), 0, 10 },
	};
	struct drive_res r = { 0 };
	begin(&poll, &rx);
	CHECK_EQ_INT(drive_poll(&poll, &rx, ans, 1, &r), BMS_OK);
	status_ok(&poll);
	begin(&poll, &rx);
	ans[0].chunks = chunks_rand;
	ans[0].nchunks = DRIVE_NCH(chunks_rand);
	CHECK_EQ_INT(drive_poll(&poll, &rx, ans, 1, &r), BMS_OK);
	status_ok(&poll);
}

int main(void)
{
	test_table();
	test_requests();
	test_captures();
	test_built();
	test_broken();
	test_full_poll();
	return check_report();
}
