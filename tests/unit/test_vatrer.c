/* SPDX-License-Identifier: MIT */
/* tests/unit/test_vatrer.c - Vatrer (non-JBD) batteries over Bluetooth LE
 * (vatrer): the VATRER rows of tests/fixtures/vectors.tsv (status, cells,
 * temperatures of a 16S pack at slave 2) through scan() + handle() fed in
 * every chunking, the requests (the three reads, at slave 2), a whole poll
 * through finish(), built answers for the bits no capture shows (problems,
 * MOSFETs, balancing), and broken input (bad CRC, truncated, impossible
 * byte, cell and sensor counts, SOC over 100).  Protocol facts:
 * bms/PROTOCOLS.md §50. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_vatrer_driver;

#define MB_BLE_SLAVE 0x02
#include "mb_check.h"

/* tests/fixtures/vectors.tsv, family modbus */
#define VATRER_REQ_01 "02030000001445f6"
#define VATRER_01 "0203281493fffffe1000280f822710001b00640001000000010ce00cdd0003000f00100014001200020004e4e5"
#define VATRER_REQ_02 "02030015001f15f5"
#define VATRER_02 "02033e00100cdf0cdf0ce00ce00ce00ce00ce00ce00ce00ce00ce00ce00ce00ce00ce00cdd00000000000000" \
	"000000000000000000000000000000000000000000cb54"
#define VATRER_REQ_03 "020300340012843a"
#define VATRER_03 "0203240004001200140013001400140014000000000000000000000000000000340240000000004643"

static void status_ok(const struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	CHECK_NEAR(s->voltage, 52.67, 1e-4);
	CHECK_NEAR(s->current, -4.96, 1e-4);
	CHECK_NEAR(s->soc, 40.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 39.70, 1e-4);
	CHECK_EQ_INT(s->cycles, 27);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK(!(s->present & BMS_HAS_FULL));
}

static const uint16_t cells_02[16] = { 3295, 3295, 3296, 3296, 3296, 3296, 3296, 3296,
				       3296, 3296, 3296, 3296, 3296, 3296, 3296, 3293 };

static void cells_ok(const struct bms_poll *poll)
{
	drive_check_cells(&poll->snap, cells_02, 16);
}

/* 4 cell sensors 18, 20, 19, 20, the generic one 20, the MOSFET 20 */
static void temps_ok(const struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	static const float want[5] = { 18, 20, 19, 20, 20 };
	CHECK_EQ_INT(s->ntemps, 5);
	for (int i = 0; i < 5; i++)
		CHECK_NEAR(s->temp_c[i], want[i], 1e-6);
	CHECK_NEAR(s->mos_temp_c, 20.0, 1e-6);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->balance, 0);
}

static void begin(struct bms_poll *poll, struct bms_rx *rx)
{
	drive_begin(poll, rx, 0, 0, false);
	poll->link = BMS_LINK_BLE;
}

static void test_table(void)
{
	CHECK_STR(drv->name, "vatrer");
	CHECK_EQ_INT(drv->protocol_id, 41);
	CHECK(drv->ble->hints != NULL && drv->listen == NULL);
	CHECK(bms_find("vatrer") == drv);
	drive_check_ble("6e400001-b5a3-f393-e0a9-e50e24dcca9e",
			"6e400003-b5a3-f393-e0a9-e50e24dcca9e",
			"6e400002-b5a3-f393-e0a9-e50e24dcca9e");
	/* aiobmsble's name pattern [2-9]???[0-3]?512??00?? */
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h->name_ok != NULL);
	if (h->name_ok) {
		CHECK(h->name_ok("240612512100001"));
		CHECK(h->name_ok("931239512ab00zz"));
		CHECK(!h->name_ok("140612512100001"));
		CHECK(!h->name_ok("240642512100001"));
		CHECK(!h->name_ok("240612482100001"));
		CHECK(!h->name_ok("240612512101001"));
		CHECK(!h->name_ok("24061251210000"));
		CHECK(!h->name_ok("DWCK-240612"));
	}
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	static const uint16_t documented[][3] = { { 0x03, 0x00, 0x14 }, { 0x03, 0x15, 0x1F }, { 0x03, 0x34, 0x12 } };
	begin(&poll, &rx);
	CHECK(mb_req_is(&poll, VATRER_REQ_01));
	CHECK(mb_goto(&poll, 0x03, 0x15));
	CHECK(mb_req_is(&poll, VATRER_REQ_02));
	CHECK(mb_goto(&poll, 0x03, 0x34));
	CHECK(mb_req_is(&poll, VATRER_REQ_03));
	mb_reads_only(&poll, documented, 3);
}

static void test_captures(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	begin(&poll, &rx);
	mb_every_chunking(&poll, f, mb_hex(VATRER_01, f), status_ok);
	CHECK_EQ_INT(mb_cur(&poll), 0x15);
	mb_every_chunking(&poll, f, mb_hex(VATRER_02, f), cells_ok);
	CHECK_EQ_INT(mb_cur(&poll), 0x34);
	mb_every_chunking(&poll, f, mb_hex(VATRER_03, f), temps_ok);
	CHECK_EQ_INT(mb_cur(&poll), -1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	/* the inverted current */
	begin(&poll, &rx);
	poll.invert_current = true;
	CHECK_EQ_INT(drv->handle(&poll, f, mb_hex(VATRER_01, f)), BMS_OK);
	CHECK_NEAR(poll.snap.current, 4.96, 1e-4);
}

/* 0x34 x 0x12 with n cell sensors, a problem byte, the MOSFET byte, balancing */
static size_t mk_temps(uint8_t *f, unsigned n, uint8_t problem_at, uint8_t mos, uint32_t bal)
{
	uint16_t v[18] = { 0 };
	v[0] = (uint16_t)n;
	for (unsigned i = 0; i < n + 2 && i < 17; i++)
		v[1 + i] = (uint16_t)(int16_t)(-5 + (int)i);
	uint8_t b[36];
	for (int i = 0; i < 18; i++) {
		b[2 * i] = (uint8_t)(v[i] >> 8);
		b[2 * i + 1] = (uint8_t)v[i];
	}
	if (problem_at)
		b[problem_at] = 0x01;
	b[29] = mos;
	b[32] = (uint8_t)(bal >> 24);
	b[33] = (uint8_t)(bal >> 16);
	b[34] = (uint8_t)(bal >> 8);
	b[35] = (uint8_t)bal;
	for (int i = 0; i < 18; i++)
		v[i] = (uint16_t)(b[2 * i] << 8 | b[2 * i + 1]);
	return mb_answer(f, 0x02, 0x03, v, 18);
}

static void test_built(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	const struct bms_snapshot *s = &poll.snap;
	/* a problem byte anywhere in 14..28: OTHER; 29 is the MOSFET byte */
	static const uint8_t at[] = { 14, 21, 28 };
	for (size_t k = 0; k < sizeof(at); k++) {
		begin(&poll, &rx);
		CHECK(mb_goto(&poll, 0x03, 0x34));
		CHECK_EQ_INT(drv->handle(&poll, f, mk_temps(f, 2, at[k], 0x10, 0)), BMS_OK);
		CHECK_EQ_INT(s->alarms, BMS_AL_OTHER);
		CHECK(s->chg_mos && !s->dsg_mos);
	}
	begin(&poll, &rx);
	CHECK(mb_goto(&poll, 0x03, 0x34));
	CHECK_EQ_INT(drv->handle(&poll, f, mk_temps(f, 2, 0, 0x20, 0x00008001)), BMS_OK);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK(!s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->balance, 0x8001);
	CHECK_EQ_INT(s->ntemps, 3);
	CHECK_NEAR(s->temp_c[0], -5.0, 1e-6);
	CHECK_NEAR(s->mos_temp_c, -2.0, 1e-6);
	/* the most sensors the block holds: 13 and the generic one, all kept */
	begin(&poll, &rx);
	CHECK(mb_goto(&poll, 0x03, 0x34));
	CHECK_EQ_INT(drv->handle(&poll, f, mk_temps(f, 13, 0, 0, 0)), BMS_OK);
	CHECK_EQ_INT(s->ntemps, 14);
	CHECK(mb_goto(&poll, 0x03, 0x34));
	CHECK_EQ_INT(drv->handle(&poll, f, mk_temps(f, 14, 0, 0, 0)), BMS_E_RANGE);
	mb_broken(&poll, f, mk_temps(f, 2, 0, 0x30, 0));
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	begin(&poll, &rx);
	mb_broken(&poll, f, mb_hex(VATRER_01, f));
	CHECK(mb_goto(&poll, 0x03, 0x15));
	mb_broken(&poll, f, mb_hex(VATRER_02, f));
	CHECK(mb_goto(&poll, 0x03, 0x34));
	mb_broken(&poll, f, mb_hex(VATRER_03, f));
	/* 31 cells do not fit the block; SOC or SOH over 100 */
	uint16_t v[31] = { 31 };
	begin(&poll, &rx);
	CHECK(mb_goto(&poll, 0x03, 0x15));
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, 0x02, 0x03, v, 31)), BMS_E_RANGE);
	v[0] = 30;
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, 0x02, 0x03, v, 31)), BMS_OK);
	uint16_t st[20] = { 5267, 0, 0, 101 };
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, 0x02, 0x03, st, 20)), BMS_E_RANGE);
	st[3] = 100;
	st[7] = 101;
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, 0x02, 0x03, st, 20)), BMS_E_RANGE);
	/* an exception to a live read fails the try */
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_exception(f, 0x02, 0x03, 0x02)), BMS_E_REFUSED);
}

static void test_full_poll(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t a1[MB_MAX_FRAME], a2[MB_MAX_FRAME], a3[MB_MAX_FRAME];
	struct drive_answer ans[] = {
		{ a1, mb_hex(VATRER_01, a1), chunks_odd, DRIVE_NCH(chunks_odd), 0, 8 },
		{ a2, mb_hex(VATRER_02, a2), chunks_one, 1, 0, 8 },
		{ a3, mb_hex(VATRER_03, a3), chunks_rand, DRIVE_NCH(chunks_rand), 0, 8 },
	};
	struct drive_res r = { 0 };
	begin(&poll, &rx);
	CHECK_EQ_INT(drive_poll(&poll, &rx, ans, 3, &r), BMS_OK);
	status_ok(&poll);
	cells_ok(&poll);
	temps_ok(&poll);
	/* a poll without its cells is not taken */
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, a1, ans[0].len), BMS_OK);
	CHECK(!drv->timeout(&poll));
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
