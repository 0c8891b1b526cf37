/* SPDX-License-Identifier: MIT */
/* tests/unit/test_c4s.c - the C4S100 E-BMS over Bluetooth LE (c4s,
 * bms/c4s.c, bms/base/vatrermap.c): the C4S rows of
 * tests/fixtures/vectors.tsv (the one read 0x0000 x 0x46 at slave 2 and
 * aiobmsble's real answer of a 4S pack) through scan() + handle() fed in
 * every chunking, the request (that one read and no other), whole polls
 * through finish(), built answers (a charging current, sub-zero
 * temperatures, forced cells) and broken input (mb_check.h's: bad CRC,
 * truncated, impossible byte counts, another function code, echo and
 * garbage before it; SOC or SOH over 100, a cell count beyond the slots,
 * a short table).  Protocol facts: bms/PROTOCOLS.md §81, §50. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdint.h>

static const struct bms_driver *const drv = &bms_c4s_driver;

#define MB_BLE_SLAVE 0x02
#include "mb_check.h"

/* tests/fixtures/vectors.tsv, family modbus */
#define C4S_REQ_01 "020300000046c40b"
#define C4S_01 \
	"02038c0535fffffeaa006224012710006b00620001000000000d0b0d01000a00040003001c001b00010000000000040d090d" \
	"020d010d0b000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"000000000000000002001b001c00000000001b001c00000000000000000000000000000032000000000000f42f"

/* aiobmsble's asserted values: 13.33 V, -3.42 A, 98 %, SOH 98, 92.17 Ah of
 * 100 Ah, 107 cycles, cells 3337 / 3330 / 3329 / 3339 mV, MOSFET 28 degC,
 * ambient 27 degC */
static void c4s_ok(const struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	static const uint16_t c[4] = { 3337, 3330, 3329, 3339 };
	drive_check_cells(s, c, 4);
	CHECK_NEAR(s->voltage, 13.33, 1e-4);
	CHECK_NEAR(s->current, -3.42, 1e-4);
	CHECK_NEAR(s->soc, 98.0, 1e-6);
	CHECK_NEAR(s->soh, 98.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 92.17, 1e-4);
	CHECK_NEAR(s->full_ah, 100.0, 1e-4);
	CHECK_EQ_INT(s->cycles, 107);
	CHECK_EQ_INT(s->ntemps, 1);
	CHECK_NEAR(s->temp_c[0], 27.0, 1e-6);
	CHECK_NEAR(s->mos_temp_c, 28.0, 1e-6);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
					 BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP);
}

static void begin(struct bms_poll *poll, struct bms_rx *rx, uint8_t forced)
{
	drive_begin(poll, rx, 0, forced, false);
	poll->link = BMS_LINK_BLE;
}

static void test_table(void)
{
	CHECK_STR(drv->name, "c4s");
	CHECK_EQ_INT(drv->protocol_id, 71);
	CHECK(bms_find("c4s") == drv);
	CHECK(drv->listen == NULL && drv->writer == NULL);
	drive_check_ble("6e400001-b5a3-f393-e0a9-e50e24dcca9e", "6e400003-b5a3-f393-e0a9-e50e24dcca9e",
			"6e400002-b5a3-f393-e0a9-e50e24dcca9e");
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h[0].kind == BMS_BLE_NAME && h[0].name_ok && h[1].why == NULL);
	if (h[0].name_ok) {
		CHECK(h[0].name_ok("C4S100IE06007"));
		CHECK(h[0].name_ok("C4S100IEABCDE"));
		CHECK(!h[0].name_ok("C4S100IE0600"));
		CHECK(!h[0].name_ok("C4S100IE060077"));
		CHECK(!h[0].name_ok("C4S200IE06007"));
		CHECK(!h[0].name_ok("240612512100001")); /* Vatrer's */
		CHECK(!h[0].name_ok(""));
	}
	/* Vatrer's names are not C4S's, and C4S's not Vatrer's */
	const struct bms_ble_hint *v = bms_vatrer_driver.ble->hints;
	CHECK(!v[0].name_ok("C4S100IE06007"));
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	static const uint16_t documented[][3] = { { 0x03, 0x0000, 0x46 } };
	begin(&poll, &rx, 0);
	CHECK(mb_req_is(&poll, C4S_REQ_01));
	mb_reads_only(&poll, documented, 1);
}

static void test_capture(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	size_t n = mb_hex(C4S_01, f);
	CHECK_EQ_INT(n, 145);
	begin(&poll, &rx, 0);
	mb_every_chunking(&poll, f, n, c4s_ok);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	begin(&poll, &rx, 0);
	mb_broken(&poll, f, n);
	/* an answer of another slave: the one BMS on the link's */
	uint8_t g[MB_MAX_FRAME];
	memcpy(g, f, n);
	g[0] = 0x01;
	mb_put_crc(g, n - 2);
	begin(&poll, &rx, 0);
	struct drive_res r = FEED_BYTES(&poll, &rx, g, n, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
}

/* The table built here: a charging current, sub-zero temperatures, forced
 * cells; SOC / SOH over 100, a cell count beyond the slots, a poll without
 * an answer. */
static void test_built(void)
{
	uint16_t v[0x46];
	uint8_t f[MB_MAX_FRAME];
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	memset(v, 0, sizeof(v));
	v[0x00] = 2662;
	v[0x01] = 0;
	v[0x02] = 1234; /* +12.34 A */
	v[0x03] = 50;
	v[0x04] = 5000;
	v[0x05] = 10000;
	v[0x07] = 100;
	v[0x10] = (uint16_t)-5;
	v[0x11] = (uint16_t)-12;
	v[0x15] = 8;
	for (int i = 0; i < 8; i++)
		v[0x16 + i] = (uint16_t)(3320 + i);
	size_t n = mb_answer(f, 2, 0x03, v, 0x46);
	begin(&poll, &rx, 0);
	struct drive_res r = FEED_BYTES(&poll, &rx, f, n, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_NEAR(poll.snap.current, 12.34, 1e-4);
	CHECK_NEAR(poll.snap.mos_temp_c, -5.0, 1e-6);
	CHECK_NEAR(poll.snap.temp_c[0], -12.0, 1e-6);
	CHECK_EQ_INT(poll.snap.ncells, 8);
	CHECK_EQ_INT(poll.snap.cell_mv[7], 3327);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	begin(&poll, &rx, 5);
	r = FEED_BYTES(&poll, &rx, f, n, chunks_big);
	CHECK_EQ_INT(poll.snap.ncells, 5);
	/* out of range: SOC, SOH, the cell count */
	static const struct { int reg; uint16_t val; } bad[] = { { 0x03, 101 }, { 0x07, 101 }, { 0x15, 31 } };
	for (size_t i = 0; i < DRIVE_NCH(bad); i++) {
		uint16_t w[0x46];
		memcpy(w, v, sizeof(w));
		w[bad[i].reg] = bad[i].val;
		n = mb_answer(f, 2, 0x03, w, 0x46);
		begin(&poll, &rx, 0);
		r = FEED_BYTES(&poll, &rx, f, n, chunks_big);
		CHECK_EQ_INT(r.ok, 0);
		CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	}
	/* no answer: no sample */
	begin(&poll, &rx, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

int main(void)
{
	test_table();
	test_requests();
	test_capture();
	test_built();
	return check_report();
}
