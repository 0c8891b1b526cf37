/* SPDX-License-Identifier: MIT */
/* tests/unit/test_jbd.c - JBD / Xiaoxiang (0xDD) driver: the jbd rows of
 * tests/fixtures/vectors.tsv through scan() + handle() in a simulated poll,
 * whole polls, long 0x03 frames of newer firmware, broken input, and the
 * same frames over Bluetooth LE as notifications (20 + 16 bytes, split at
 * every boundary).  Protocol facts: bms/PROTOCOLS.md §7, §13. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdint.h>

static void test_factory_read(void);

static const struct bms_driver *const drv = &bms_jbd_driver;

/* a frame is DD reg status len ... chk chk 77: exactly len + 7 bytes; the
 * PIN's FF AA 15 len ... sum len + 5 */
#define DRIVE_FRAME_OK(f, n) ((n) == (size_t)(f)[3] + ((f)[0] == 0xFF ? 5 : 7))
#include "drive.h"
#include "jbd_check.h"

/* tests/fixtures/vectors.tsv, family jbd: each macro is the row of the id it
 * spells (JBD_01 = JBD-01, JBD_MOS_1 = JBD-MOS-1, JBD_ACK_E1 = JBD-ACK-E1) */
#define JBD_01 "dd03001d0618000001f201f400002c7c00000000000080640304030b8b0b8a0b84fa8d77"
#define JBD_02 "dd03001d0618000001f201f400002c7c00000000000080640304030b8b0b890b84fa8e77"
#define JBD_03 "dd0400080f450f3d0f370f3dfec677"
#define JBD_04 "dd0400080f450f3e0f370f3dfec577"
#define JBD_05 "dd030017000000000000271000002c500000000000002000011000ff0577"
#define JBD_06 "dd0400200e100e100e100e100e100e100e100e100e100e100e100e100e100e100e100000fe1e77"
#define JBD_07 "dd03001b1700000002d003e8000020780000000000001048030f020b760b82fbff77"
#define JBD_08 "dd04001e0f660f630f630f640f3e0f630f370f5b0f650f3b0f630f630f3c0f660f3df9f977"
#define JBD_12 "dd0500194a42442d53503034533033342d4c34532d323030412d422d55fa0877"
#define JBD_13 "ddaa0018000000000000007a00020000000000000000000000000001ff6b77"
#define JBD_REQ_03 "dda50300fffd77"
#define JBD_REQ_04 "dda50400fffc77"
#define JBD_REQ_05 "dda50500fffb77"
#define JBD_MOS_1 "dd5ae1020001ff1c77"
#define JBD_MOS_2 "dd5ae1020002ff1b77"
#define JBD_MOS_3 "dd5ae1020000ff1d77"
#define JBD_EXITFAC "dd5a01020000fffd77"
#define JBD_ACK_E1 "dde10000000077"
/* Bluetooth LE captures (JBD-BLE-01: the 0x03 answer, notified as 20 + 16
 * bytes; JBD-BLE-02: the 0x04 answer in one notification) */
#define JBD_BLE_01 "dd03001d055a00006d5e6d6000002c7c00000000" "000080640304030b6e0b6e0b6afaef77"
#define JBD_BLE_02 "dd0400080d660d610d680d59fe3c77"
/* Not a fixture row (tests/fixtures/README.md, "Frames that are not rows"):
 * aiobmsble's test frame, JBD-01 with -2.87 A and 42 cycles (edited by its
 * author, checksum recomputed: synthetic); its 4-cell 0x04 is JBD-BLE-02 */
#define JBD_EDITED "dd03001d0618fee101f201f4002a2c7c00000000000080640304030b8b0b8a0b84f88477"
#define JBD_AIO_04 JBD_BLE_02 /* the same frame */
/* the Bluetooth module's PIN (§7.9, aiobmsble's JBD test): PIN
 * 000000, taken, refused */
#define JBD_PIN_REQ_1 "ffaa15063030303030303b"
#define JBD_PIN_01 "ffaa15010016"
#define JBD_PIN_02 "ffaa15010117"

static const uint16_t cells_03[4] = { 3909, 3901, 3895, 3901 };
static const uint16_t cells_04[4] = { 3909, 3902, 3895, 3901 };
static const uint16_t cells_08[15] = {
	3942, 3939, 3939, 3940, 3902, 3939, 3895, 3931, 3941, 3899, 3939, 3939, 3900, 3942, 3901,
};

/* Chunk sizes the simulated read() returns, cycled. */
static const size_t chunks_odd[] = { 1, 2, 1, 5, 3, 7, 13, 1, 26, 3, 11, 1, 40 };
static const size_t chunks_rnd[] = { 4, 9, 2, 17, 6, 1, 33, 8, 5, 60, 2 };

static int request(struct bms_poll *poll, uint8_t *req)
{
	return drv->next_request(poll, req, 16);
}

/* The register of the current step, 0 when the poll is complete. */
static int cur_reg(struct bms_poll *poll)
{
	uint8_t req[16];
	int n = request(poll, req);
	return n == 7 ? req[2] : n;
}

static void check_cells(const struct bms_snapshot *s, const uint16_t *want, int n)
{
	CHECK_EQ_INT(s->ncells, n);
	for (int i = 0; i < n && i < s->ncells; i++)
		CHECK_EQ_INT(s->cell_mv[i], want[i]);
}

static void hex_frame(const char *hex, uint8_t *f, size_t *n)
{
	int k = check_hex(hex, f, 300);
	CHECK(k > 0);
	*n = k > 0 ? (size_t)k : 0;
}

/* ---- requests ------------------------------------------------------------ */

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t req[16], want[16], f[300];
	size_t n;

	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(request(&poll, req), 7);
	CHECK_EQ_INT(check_hex(JBD_REQ_03, want, 16), 7);
	CHECK(memcmp(req, want, 7) == 0);
	CHECK_EQ_INT(drv->next_request(&poll, req, 6), BMS_E_NOSPACE);
	hex_frame(JBD_01, f, &n);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(request(&poll, req), 7);
	CHECK_EQ_INT(check_hex(JBD_REQ_04, want, 16), 7);
	CHECK(memcmp(req, want, 7) == 0);
	hex_frame(JBD_03, f, &n);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(request(&poll, req), 0);
	/* our request is never a frame: the echo is skipped whole */
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(request(&poll, req), 7);
	CHECK_EQ_INT(drv->scan(&poll, req, 7, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 7);
	/* the driver's table */
	CHECK_STR(drv->name, "jbd");
	CHECK_EQ_INT(drv->protocol_id, 6);
	CHECK_EQ_INT(drv->default_baud, 9600);
	CHECK_EQ_INT(drv->max_address, 0);
	CHECK(!drv->listen_only);
	CHECK(bms_find("jbd") == drv);
}

/* ---- every vector through the framer ------------------------------------- */

static void test_vectors_scan(void)
{
	static const struct {
		const char *hex;
		enum bms_scan want;
	} v[] = {
		{ JBD_01, BMS_SCAN_FRAME }, { JBD_02, BMS_SCAN_FRAME }, { JBD_03, BMS_SCAN_FRAME },
		{ JBD_04, BMS_SCAN_FRAME }, { JBD_05, BMS_SCAN_FRAME }, { JBD_06, BMS_SCAN_FRAME },
		{ JBD_07, BMS_SCAN_FRAME }, { JBD_08, BMS_SCAN_FRAME }, { JBD_12, BMS_SCAN_FRAME },
		{ JBD_13, BMS_SCAN_FRAME }, { JBD_EDITED, BMS_SCAN_FRAME }, { JBD_AIO_04, BMS_SCAN_FRAME },
		{ JBD_ACK_E1, BMS_SCAN_FRAME },
		/* requests (an echo, or another master on the wire): never frames */
		{ JBD_REQ_03, BMS_SCAN_SKIP }, { JBD_REQ_04, BMS_SCAN_SKIP }, { JBD_REQ_05, BMS_SCAN_SKIP },
		{ JBD_MOS_1, BMS_SCAN_SKIP }, { JBD_MOS_2, BMS_SCAN_SKIP }, { JBD_MOS_3, BMS_SCAN_SKIP },
		{ JBD_EXITFAC, BMS_SCAN_SKIP },
	};
	struct bms_poll poll = { 0 };
	uint8_t f[300];
	size_t n, len;

	bms_poll_begin(&poll, 0, 0, false);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		hex_frame(v[i].hex, f, &len);
		for (size_t k = 0; k < len; k++)
			CHECK_EQ_INT(drv->scan(&poll, f, k, &n), BMS_SCAN_NEED);
		n = 0;
		CHECK_EQ_INT(drv->scan(&poll, f, len, &n), v[i].want);
		CHECK_EQ_INT(n, len);
		/* a wrong checksum: skip one byte and hunt on */
		f[len - 2] ^= 0x40;
		CHECK_EQ_INT(drv->scan(&poll, f, len, &n), BMS_SCAN_BADSUM);
		CHECK_EQ_INT(n, 1);
		if (v[i].want == BMS_SCAN_FRAME)
			CHECK_EQ_INT(drv->handle(&poll, f, len), BMS_E_CHECKSUM);
	}
}

/* ---- 0x03 ---------------------------------------------------------------- */

static void test_basic(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct bms_snapshot *s = &poll.snap;
	struct drive_res r;

	/* JBD-01: 15.60 V, 0 A, 4.98 / 5.00 Ah, 0 cycles, SOC 100, FETs on,
	 * 4 cells, 3 NTC 22.4 / 22.3 / 21.7 */
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED_HEX(&poll, &rx, JBD_01, chunks_one);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_NEAR(s->voltage, 15.60, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 4.98, 1e-4);
	CHECK_NEAR(s->full_ah, 5.00, 1e-4);
	CHECK_EQ_INT(s->cycles, 0);
	CHECK_NEAR(s->soc, 100.0, 1e-6);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->ncells, 4);
	CHECK_EQ_INT(s->ntemps, 3);
	CHECK_NEAR(s->temp_c[0], 22.4, 1e-4);
	CHECK_NEAR(s->temp_c[1], 22.3, 1e-4);
	CHECK_NEAR(s->temp_c[2], 21.7, 1e-4);
	CHECK_EQ_INT(s->balance, 0);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 1);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN |
		     BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_TEMPS | BMS_HAS_MOSFETS | BMS_HAS_BALANCE |
		     BMS_HAS_ALARMS);
	CHECK_EQ_INT(cur_reg(&poll), 0x04);

	/* JBD-02: T2 22.2 */
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED_HEX(&poll, &rx, JBD_02, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_NEAR(s->temp_c[1], 22.2, 1e-4);

	/* JBD-07: 58.88 V, 0 A, 7.20 / 10.00 Ah, SOC 72, FET 3, 15 cells, 2 NTC */
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED_HEX(&poll, &rx, JBD_07, chunks_rnd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_NEAR(s->voltage, 58.88, 1e-3);
	CHECK_NEAR(s->remain_ah, 7.20, 1e-4);
	CHECK_NEAR(s->full_ah, 10.00, 1e-4);
	CHECK_NEAR(s->soc, 72.0, 1e-6);
	CHECK_EQ_INT(s->ncells, 15);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[0], 20.3, 1e-4);
	CHECK_NEAR(s->temp_c[1], 21.5, 1e-4);

	/* JBD-05: 0 NTC, FET 0x01 (charge only), 16 cells, nominal 100 Ah */
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED_HEX(&poll, &rx, JBD_05, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_NEAR(s->voltage, 0.0, 1e-6);
	CHECK_NEAR(s->full_ah, 100.0, 1e-4);
	CHECK_NEAR(s->soc, 0.0, 1e-6);
	CHECK(s->chg_mos && !s->dsg_mos);
	CHECK_EQ_INT(s->ncells, 16);
	CHECK_EQ_INT(s->ntemps, 0);
	CHECK(!(s->present & BMS_HAS_TEMPS));

	/* negative current (discharging) and its inversion */
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED_HEX(&poll, &rx, JBD_EDITED, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_NEAR(s->current, -2.87, 1e-4);
	CHECK_EQ_INT(s->cycles, 42);
	drive_begin(&poll, &rx, 0, 0, true);
	r = FEED_HEX(&poll, &rx, JBD_EDITED, chunks_odd);
	CHECK_NEAR(s->current, 2.87, 1e-4);
}

/* Protection bits (bms/PROTOCOLS.md §7.5) -> normalised alarms; balance
 * words. */
static void test_alarms_balance(void)
{
	static const struct {
		int bit;
		uint32_t al;
	} map[] = {
		{ 0, BMS_AL_CELL_OV | BMS_AL_PROTECTION }, { 1, BMS_AL_CELL_UV | BMS_AL_PROTECTION },
		{ 2, BMS_AL_PACK_OV | BMS_AL_PROTECTION }, { 3, BMS_AL_PACK_UV | BMS_AL_PROTECTION },
		{ 4, BMS_AL_CHG_OT | BMS_AL_PROTECTION },  { 5, BMS_AL_CHG_UT | BMS_AL_PROTECTION },
		{ 6, BMS_AL_DSG_OT | BMS_AL_PROTECTION },  { 7, BMS_AL_DSG_UT | BMS_AL_PROTECTION },
		{ 8, BMS_AL_CHG_OC | BMS_AL_PROTECTION },  { 9, BMS_AL_DSG_OC | BMS_AL_PROTECTION },
		{ 10, BMS_AL_SHORT | BMS_AL_PROTECTION },  { 11, BMS_AL_HW_FAULT },
		{ 12, BMS_AL_OTHER },                      { 13, BMS_AL_OTHER },
		{ 14, 0 },                                 { 15, 0 },
	};
	struct bms_poll poll = { 0 };
	uint8_t d[64], f[80], base[80];
	size_t n;

	hex_frame(JBD_01, base, &n);
	memcpy(d, base + 4, base[3]);
	for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
		bms_poll_begin(&poll, 0, 0, false);
		d[16] = (uint8_t)((1u << map[k].bit) >> 8);
		d[17] = (uint8_t)(1u << map[k].bit);
		n = jbd_frame(f, 0x03, 0, d, base[3]);
		CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
		CHECK_EQ_INT(poll.snap.raw_alarms[0], 1u << map[k].bit);
		CHECK_EQ_INT(poll.snap.alarms, map[k].al);
	}
	/* balance: low word bit 0 = cell 1, high word bit 0 = cell 17 */
	bms_poll_begin(&poll, 0, 0, false);
	d[16] = d[17] = 0;
	d[12] = 0x80; d[13] = 0x01; /* cells 16 and 1 */
	d[14] = 0x00; d[15] = 0x02; /* cell 18 */
	d[21] = 20;
	n = jbd_frame(f, 0x03, 0, d, base[3]);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(poll.snap.balance, 0x00028001u);
	CHECK_EQ_INT(poll.snap.ncells, 20);
	/* finish() drops balance bits beyond the cell count */
	uint8_t c[40];
	for (int i = 0; i < 20; i++) {
		c[2 * i] = 0x0D;
		c[2 * i + 1] = (uint8_t)i;
	}
	n = jbd_frame(f, 0x04, 0, c, 40);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.balance, 0x00028001u);
	CHECK_EQ_INT(poll.snap.cell_mv[19], 0x0D13);
	bms_poll_begin(&poll, 0, 0, false);
	d[21] = 16;
	n = jbd_frame(f, 0x03, 0, d, base[3]);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	n = jbd_frame(f, 0x04, 0, c, 32);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.balance, 0x8001u);
}

/* Newer firmware: 0x03 longer than 23 + 2N; decoded by the announced length. */
static void test_long_basic(void)
{
	struct bms_poll poll = { 0 };
	uint8_t d[300], f[320], base[80];
	size_t n;

	hex_frame(JBD_01, base, &n);
	size_t dlen = base[3]; /* 29 = 23 + 2 * 3 */
	memcpy(d, base + 4, dlen);
	/* len 0x22 style: 1 byte, 2 bytes, full 200.00 Ah, remaining 191.67 Ah, 2 bytes */
	static const uint8_t ext[9] = { 0x00, 0x00, 0x00, 0x4E, 0x20, 0x4A, 0xDF, 0x00, 0x00 };
	memcpy(d + dlen, ext, sizeof(ext));
	for (size_t extra = 0; extra <= sizeof(ext); extra++) {
		bms_poll_begin(&poll, 0, 0, false);
		n = jbd_frame(f, 0x03, 0, d, dlen + extra);
		CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
		CHECK_NEAR(poll.snap.voltage, 15.60, 1e-4);
		CHECK_NEAR(poll.snap.remain_ah, 4.98, 1e-4); /* offsets 4 / 6, not the extension */
		CHECK_NEAR(poll.snap.full_ah, 5.00, 1e-4);
		CHECK_EQ_INT(poll.snap.ntemps, 3);
		CHECK_NEAR(poll.snap.temp_c[2], 21.7, 1e-4);
	}
	/* the longest possible frame (len 255), fed in odd chunks */
	memset(d + dlen, 0xA5, 255 - dlen);
	n = jbd_frame(f, 0x03, 0, d, 255);
	CHECK_EQ_INT(n, 262);
	struct bms_rx rx = { 0 };
	struct drive_res r = { 0 };
	bms_poll_begin(&poll, 0, 0, false);
	drive_feed(&poll, &rx, f, n, chunks_odd, DRIVE_NCH(chunks_odd), &r);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.bad_scan, 0);
	CHECK_EQ_INT(poll.snap.ncells, 4);
	/* 10 NTCs: all kept (a snapshot holds 16), the length must cover all */
	memcpy(d, base + 4, 23);
	d[22] = 10;
	for (int i = 0; i < 10; i++) {
		d[23 + 2 * i] = 0x0B;
		d[24 + 2 * i] = (uint8_t)(0x7B + i); /* 2939.. = 20.8.. degC */
	}
	bms_poll_begin(&poll, 0, 0, false);
	n = jbd_frame(f, 0x03, 0, d, 23 + 20);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(poll.snap.ntemps, 10);
	CHECK_NEAR(poll.snap.temp_c[7], (0x0B82 - 2731) / 10.0, 1e-4);
	CHECK_NEAR(poll.snap.temp_c[9], (0x0B84 - 2731) / 10.0, 1e-4);
	bms_poll_begin(&poll, 0, 0, false);
	n = jbd_frame(f, 0x03, 0, d, 23 + 19);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_SHORT);
	/* negative temperature */
	d[22] = 1;
	d[23] = 0x0A;
	d[24] = 0x83; /* 2691 = -4.0 degC */
	bms_poll_begin(&poll, 0, 0, false);
	n = jbd_frame(f, 0x03, 0, d, 25);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_NEAR(poll.snap.temp_c[0], -4.0, 1e-4);
}

/* ---- 0x04 ---------------------------------------------------------------- */

static void test_cells(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;
	uint8_t d[64], f[80];
	size_t n;

	/* 0x03 says 4 cells */
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED_HEX(&poll, &rx, JBD_01, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	r = FEED_HEX(&poll, &rx, JBD_04, chunks_one);
	CHECK_EQ_INT(r.ok, 1);
	check_cells(&poll.snap, cells_04, 4);
	CHECK(poll.snap.present & BMS_HAS_CELLS);

	/* 15 cells in a 16-slot answer: the 0x03 count wins (PROTOCOLS.md §7.4) */
	hex_frame(JBD_07, f, &n);
	memcpy(d, f + 4, f[3]);
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	hex_frame(JBD_06, f, &n);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 15);
	for (int i = 0; i < 15; i++)
		CHECK_EQ_INT(poll.snap.cell_mv[i], 3600);
	/* JBD-05 with JBD-06 (the same log): that BMS counts 16, the 16th is 0 mV */
	bms_poll_begin(&poll, 0, 0, false);
	hex_frame(JBD_05, f, &n);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	hex_frame(JBD_06, f, &n);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 16);
	CHECK_EQ_INT(poll.snap.cell_mv[14], 3600);
	CHECK_EQ_INT(poll.snap.cell_mv[15], 0);

	/* 0x03 says 0 cells: the slots of 0x04 */
	d[21] = 0;
	bms_poll_begin(&poll, 0, 0, false);
	n = jbd_frame(f, 0x03, 0, d, 27);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(cur_reg(&poll), 0x04);
	r = FEED_HEX(&poll, &rx, JBD_08, chunks_rnd);
	CHECK_EQ_INT(r.ok, 1);
	check_cells(&poll.snap, cells_08, 15);

	/* forced 4 cells over a 15-cell answer; forced 5 over a 4-slot answer */
	drive_begin(&poll, &rx, 0, 4, false);
	r = FEED_HEX(&poll, &rx, JBD_07, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 4);
	r = FEED_HEX(&poll, &rx, JBD_08, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	check_cells(&poll.snap, cells_08, 4);
	drive_begin(&poll, &rx, 0, 5, false);
	r = FEED_HEX(&poll, &rx, JBD_01 JBD_03, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_SHORT);
	CHECK_EQ_INT(cur_reg(&poll), 0x04);
}

/* ---- whole polls ----------------------------------------------------------- */

/* A step of a whole poll: the request for reg is outstanding, its answer clean. */
#define STEP(poll, rx, reg, hex, ch, unexp) DRIVE_STEP(poll, rx, cur_reg, reg, hex, ch, unexp)

static void test_full_poll(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct bms_snapshot *s = &poll.snap;

	/* 4S JBD-SP04S034 */
	drive_begin(&poll, &rx, 0, 0, false);
	STEP(&poll, &rx, 0x03, JBD_01, chunks_odd, 0);
	STEP(&poll, &rx, 0x04, JBD_03, chunks_one, 0);
	CHECK_EQ_INT(cur_reg(&poll), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	bms_snapshot_derive(s);
	CHECK_NEAR(s->voltage, 15.60, 1e-4);
	check_cells(s, cells_03, 4);
	CHECK_NEAR(s->power, 0.0, 1e-6);
	struct bms_cell_stats st;
	bms_cell_stats(s, &st);
	CHECK_EQ_INT(st.max_mv, 3909);
	CHECK_EQ_INT(st.min_mv, 3895);
	CHECK_EQ_INT(st.min_idx, 3);

	/* 15S protocol-document example, with an echo of each request and a
	 * stale answer in front */
	drive_begin(&poll, &rx, 0, 0, false);
	STEP(&poll, &rx, 0x03, JBD_REQ_03 JBD_03 JBD_07, chunks_rnd, 1);
	STEP(&poll, &rx, 0x04, JBD_REQ_04 JBD_08, chunks_odd, 0);
	CHECK_EQ_INT(cur_reg(&poll), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(s->voltage, 58.88, 1e-3);
	check_cells(s, cells_08, 15);
	CHECK_EQ_INT(s->ntemps, 2);

	/* aiobmsble test frames: discharging, inverted */
	drive_begin(&poll, &rx, 0, 0, true);
	STEP(&poll, &rx, 0x03, JBD_EDITED, chunks_big, 0);
	STEP(&poll, &rx, 0x04, "00 ff dd" JBD_AIO_04, chunks_one, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	bms_snapshot_derive(s);
	CHECK_NEAR(s->current, 2.87, 1e-4);
	CHECK_NEAR(s->power, 15.6 * 2.87, 1e-2);
	CHECK_EQ_INT(s->cell_mv[3], 3417);

	/* a finished poll asks for nothing more and takes no more frames */
	uint8_t f[64];
	size_t n;
	CHECK_EQ_INT(cur_reg(&poll), 0);
	hex_frame(JBD_03, f, &n);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_UNEXPECTED);
}

/* ---- Bluetooth LE ---------------------------------------------------------- */

static const uint16_t cells_ble[4] = { 3430, 3425, 3432, 3417 };

static void check_ble01(const struct bms_snapshot *s)
{
	CHECK_NEAR(s->voltage, 13.70, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 279.98, 1e-3);
	CHECK_NEAR(s->full_ah, 280.00, 1e-3);
	CHECK_EQ_INT(s->cycles, 0);
	CHECK_NEAR(s->soc, 100.0, 1e-6);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->ntemps, 3);
	CHECK_NEAR(s->temp_c[0], 19.5, 1e-4);
	CHECK_NEAR(s->temp_c[1], 19.5, 1e-4);
	CHECK_NEAR(s->temp_c[2], 19.1, 1e-4);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->balance, 0);
}

/* The notifications of the captured poll, as the BLE transport hands them
 * on: 0x03 as 20 + 16 bytes (ATT MTU 23), 0x04 whole.  The driver sees
 * bytes, so the frames also arrive split at every other boundary, merged
 * into one read, and in one-byte reads. */
static void test_ble(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[64], g[64];
	size_t n, m;

	CHECK(drv->ble->gatt != NULL);
	CHECK_STR(drv->ble->gatt[0].service, "0000ff00-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].notify, "0000ff01-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].write, "0000ff02-0000-1000-8000-00805f9b34fb");
	/* Eleksol: FF06 / notify FF07 / write FF08, known by its service */
	CHECK_STR(drv->ble->gatt[1].service, "0000ff06-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[1].notify, "0000ff07-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[1].write, "0000ff08-0000-1000-8000-00805f9b34fb");
	CHECK(drv->ble->gatt[2].service == NULL);
	int eleksol = 0;
	for (const struct bms_ble_hint *h = drv->ble->hints; h->why; h++)
		eleksol += h->kind == BMS_BLE_SERVICE && h->value == 0xFF06;
	CHECK_EQ_INT(eleksol, 1);
	CHECK(!bms_ble_only(drv) && drv->ble->company == 0 && drv->listens == NULL);

	hex_frame(JBD_BLE_01, f, &n);
	CHECK_EQ_INT(n, 36);
	hex_frame(JBD_BLE_02, g, &m);
	CHECK_EQ_INT(m, 15);

	/* the notifications as captured: a whole poll over BLE (the link
	 * changes nothing on the wire: the same requests) */
	static const size_t notif[] = { 20, 16 };
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	uint8_t req[16];
	CHECK_EQ_INT(request(&poll, req), 7);
	uint8_t want[8];
	CHECK_EQ_INT(drive_hex(JBD_REQ_03, want, 8), 7);
	CHECK(memcmp(req, want, 7) == 0);
	STEP(&poll, &rx, 0x03, JBD_BLE_01, notif, 0);
	STEP(&poll, &rx, 0x04, JBD_BLE_02, chunks_big, 0);
	CHECK_EQ_INT(cur_reg(&poll), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_ble01(&poll.snap);
	check_cells(&poll.snap, cells_ble, 4);

	/* split at every boundary: two notifications of k and 36 - k bytes */
	for (size_t k = 1; k < n; k++) {
		const size_t two[] = { k, n - k };
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		struct drive_res r = FEED_BYTES(&poll, &rx, f, n, two);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.err + r.unexpected + r.bad_scan + r.badsum, 0);
		CHECK_EQ_INT(rx.len, 0);
		check_ble01(&poll.snap);
	}
	/* every split of both answers' bytes into three notifications (the
	 * 0x04 answer in the same notification as the tail of 0x03): both
	 * steps complete, nothing is lost */
	uint8_t both[64];
	memcpy(both, f, n);
	memcpy(both + n, g, m);
	for (size_t a = 1; a < n + m; a += 3)
		for (size_t b = 1; a + b < n + m; b += 5) {
			const size_t three[] = { a, b, n + m - a - b };
			drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
			struct drive_res r = FEED_BYTES(&poll, &rx, both, n + m, three);
			CHECK_EQ_INT(r.ok, 2);
			CHECK_EQ_INT(r.err + r.unexpected + r.bad_scan + r.badsum, 0);
			CHECK_EQ_INT(cur_reg(&poll), 0);
		}
	/* a notification that lost bytes: the frame never completes whole,
	 * the next good one is found (checksum error counted once) */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	struct drive_res r = { 0 };
	drive_feed(&poll, &rx, f + 20, n - 20, chunks_one, 1, &r); /* a second notification alone */
	CHECK_EQ_INT(r.ok + r.frames, 0);
	drive_feed(&poll, &rx, f, 20, chunks_big, 1, &r); /* a first one, whose second is lost */
	drive_feed(&poll, &rx, f, n, chunks_big, 1, &r);  /* the next answer, whole */
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(r.err, 0);
	check_ble01(&poll.snap);
}

/* ---- broken input ------------------------------------------------------------ */

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;
	uint8_t d[300], f[320];
	size_t n;

	/* garbage with 0xDD bytes and fake headers around a frame */
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED_HEX(&poll, &rx, "00 dd dd 03 7f 1d 77 dd 03 00 05 01 02 " JBD_01 " dd 04", chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(r.bad_scan, 0);
	CHECK_NEAR(poll.snap.voltage, 15.60, 1e-4);
	CHECK_EQ_INT(rx.len, 2); /* a possible frame start waits for more */

	/* bad checksum, then the good frame */
	drive_begin(&poll, &rx, 0, 0, false);
	hex_frame(JBD_01, f, &n);
	f[n - 3] ^= 0x01;
	r = (struct drive_res){ 0 };
	drive_feed(&poll, &rx, f, n, chunks_one, 1, &r);
	CHECK_EQ_INT(r.frames, 0);
	CHECK(r.badsum >= 1); /* the gateway counts it as a checksum error */
	r = FEED_HEX(&poll, &rx, JBD_02, chunks_one);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_NEAR(poll.snap.temp_c[1], 22.2, 1e-4);
	/* wrong end byte */
	hex_frame(JBD_03, f, &n);
	f[n - 1] = 0x78;
	CHECK_EQ_INT(drv->scan(&poll, f, n, &n), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(n, 1);
	hex_frame(JBD_03, f, &n);
	f[n - 1] = 0x78;
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_HEADER);

	/* truncated: a frame cut short, then the full one (the cut frame's
	 * announced length swallows bytes of the next; the rescan finds it) */
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED_HEX(&poll, &rx, "dd03001d0618000001f201f400002c" JBD_01, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.frames, 1);
	hex_frame(JBD_01, f, &n);
	CHECK_EQ_INT(drv->handle(&poll, f, n - 1), BMS_E_SHORT);
	CHECK_EQ_INT(drv->handle(&poll, f, 3), BMS_E_SHORT);

	/* 0x03 shorter than its documented part, or than its NTCs */
	memcpy(d, f + 4, f[3]);
	bms_poll_begin(&poll, 0, 0, false);
	n = jbd_frame(f, 0x03, 0, d, 22);
	CHECK_EQ_INT(drv->scan(&poll, f, n, &n), BMS_SCAN_FRAME);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_SHORT);
	n = jbd_frame(f, 0x03, 0, d, 28); /* 3 NTCs need 29 */
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_SHORT);
	CHECK_EQ_INT(cur_reg(&poll), 0x03);
	CHECK(!(poll.snap.present & BMS_HAS_VOLTAGE));

	/* impossible cell count */
	d[21] = 33;
	n = jbd_frame(f, 0x03, 0, d, 29);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_RANGE);
	bms_poll_begin(&poll, 0, 16, false); /* ... unless the count is forced */
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 16);
	d[21] = 0;
	bms_poll_begin(&poll, 0, 0, false);
	n = jbd_frame(f, 0x03, 0, d, 29);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	memset(d, 0x0D, 66);
	n = jbd_frame(f, 0x04, 0, d, 66); /* 33 slots */
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_RANGE);
	n = jbd_frame(f, 0x04, 0, d, 7); /* odd length */
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_SHORT);
	n = jbd_frame(f, 0x04, 0, d, 0); /* no cells at all */
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_INVALID);
	CHECK_EQ_INT(cur_reg(&poll), 0x04);

	/* wrong register: answers to other requests are ignored */
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED_HEX(&poll, &rx, JBD_03 JBD_12 JBD_13 JBD_ACK_E1 JBD_07, chunks_odd);
	CHECK_EQ_INT(r.unexpected, 4);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(cur_reg(&poll), 0x04);
	r = FEED_HEX(&poll, &rx, JBD_07 JBD_08, chunks_rnd);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(r.ok, 1);

	/* the BMS refuses (status 0x80) */
	drive_begin(&poll, &rx, 0, 0, false);
	n = jbd_frame(f, 0x03, 0x80, d, 0);
	CHECK_EQ_INT(drv->scan(&poll, f, n, &n), BMS_SCAN_FRAME);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_HEADER);
	/* a status byte that is neither: no frame */
	n = jbd_frame(f, 0x03, 0x01, d, 0);
	CHECK_EQ_INT(drv->scan(&poll, f, n, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 1);

	/* echoes of every request, MOSFET writes included, are never frames */
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED_HEX(&poll, &rx, JBD_REQ_03 JBD_REQ_04 JBD_REQ_05 JBD_MOS_1 JBD_MOS_2 JBD_MOS_3 JBD_EXITFAC,
		 chunks_odd);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(r.skipped, 7 * 3 + 9 * 4);
	CHECK_EQ_INT(rx.len, 0);
	hex_frame(JBD_MOS_1, f, &n);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_UNEXPECTED);

	/* rx buffer overflow with garbage: nothing breaks */
	uint8_t junk[3000];
	for (size_t k = 0; k < sizeof(junk); k++)
		junk[k] = (uint8_t)(k * 7 + (k >> 3)) | ((k % 97) == 0 ? 0xDD : 0);
	drive_begin(&poll, &rx, 0, 0, false);
	r = (struct drive_res){ 0 };
	drive_feed(&poll, &rx, junk, sizeof(junk), chunks_rnd, DRIVE_NCH(chunks_rnd), &r);
	CHECK_EQ_INT(r.bad_scan, 0);
	CHECK(rx.len <= 262);

	/* finish() without cells or voltage */
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	hex_frame(JBD_01, f, &n);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* timeout(): the status steps are retried; a step of the settings read ends it */
	bms_poll_begin(&poll, 0, 0, false);
	CHECK(!drv->timeout(&poll));
	poll.step = 1;
	CHECK(!drv->timeout(&poll));
	test_factory_read();
}

/* A pack with bms_settings whose settings are due reads them through
 * factory mode after 0x03 / 0x04 (bms/PROTOCOLS.md §7.8): enter, 0x10,
 * 0x24-0x2B, 0x2D, leave without saving; a refusal inside ends the visit
 * (left); without bms_settings nothing of it is sent. */
static void test_factory_read(void)
{
	/* drv: the file's jbd driver */
	struct bms_poll poll;
	uint8_t req[64];
	memset(&poll, 0, sizeof(poll));
	bms_poll_begin(&poll, 0, 0, false);
	poll.step = 2;
	poll.settings_due = true;
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0); /* no bms_settings: none */
	bms_poll_begin(&poll, 0, 0, false);
	poll.step = 2;
	poll.settings_due = poll.wsettings = true;
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 9);
	static const uint8_t enter[9] = { 0xDD, 0x5A, 0x00, 0x02, 0x56, 0x78, 0xFF, 0x30, 0x77 };
	CHECK(memcmp(req, enter, 9) == 0);
	static const uint8_t ack0[7] = { 0xDD, 0x00, 0x00, 0x00, 0x00, 0x00, 0x77 };
	CHECK_EQ_INT(drv->handle(&poll, ack0, 7), BMS_OK);
	CHECK(poll.persist & 1u);
	static const uint8_t regs[10] = { 0x10, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2D };
	static const uint16_t vals[10] = { 10000, 3650, 3400, 2500, 2900, 10000, 0xC568, 3400, 30, 0x0005 };
	for (int i = 0; i < 10; i++) {
		CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 7);
		CHECK_EQ_INT(req[1], 0xA5);
		CHECK_EQ_INT(req[2], regs[i]);
		uint8_t a[9] = { 0xDD, regs[i], 0x00, 0x02, (uint8_t)(vals[i] >> 8), (uint8_t)vals[i], 0, 0, 0x77 };
		unsigned cs = (0x10000u - (unsigned)(a[2] + a[3] + a[4] + a[5])) & 0xFFFFu;
		a[6] = (uint8_t)(cs >> 8);
		a[7] = (uint8_t)cs;
		CHECK_EQ_INT(drv->handle(&poll, a, 9), BMS_OK);
	}
	static const uint8_t nosave[9] = { 0xDD, 0x5A, 0x01, 0x02, 0x00, 0x00, 0xFF, 0xFD, 0x77 };
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 9);
	CHECK(memcmp(req, nosave, 9) == 0);
	static const uint8_t ack1[7] = { 0xDD, 0x01, 0x00, 0x00, 0x00, 0x00, 0x77 };
	CHECK_EQ_INT(drv->handle(&poll, ack1, 7), BMS_OK);
	CHECK(!(poll.persist & 1u));
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	const struct bms_settings *st = &poll.kept.settings;
	CHECK_NEAR(st->v[BMS_SET_CAPACITY_AH], 100.0, 1e-4);
	CHECK_NEAR(st->v[BMS_SET_CELL_OVP_V], 3.65, 1e-6);
	CHECK_NEAR(st->v[BMS_SET_CHARGE_OCP_A], 100.0, 1e-4);
	CHECK_NEAR(st->v[BMS_SET_DISCHARGE_OCP_A], 150.0, 1e-4);
	CHECK_NEAR(st->v[BMS_SET_BALANCE_DELTA_V], 0.030, 1e-6);
	CHECK_NEAR(st->v[BMS_SET_BALANCER], 1.0, 0);
	/* a refused read ends the visit: left at once */
	bms_poll_begin(&poll, 0, 0, false);
	poll.step = 2;
	poll.settings_due = poll.wsettings = true;
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 9);
	CHECK_EQ_INT(drv->handle(&poll, ack0, 7), BMS_OK);
	static const uint8_t refused[7] = { 0xDD, 0x10, 0x80, 0x00, 0xFF, 0x80, 0x77 };
	CHECK_EQ_INT(drv->handle(&poll, refused, 7), BMS_OK);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 9);
	CHECK(memcmp(req, nosave, 9) == 0);
	/* a visit an earlier poll did not end is left, even without bms_settings due */
	bms_poll_begin(&poll, 0, 0, false); /* persist bit 0 is kept */
	poll.step = 2;
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 9);
	CHECK(memcmp(req, nosave, 9) == 0);
}

/* ---- the PIN over Bluetooth LE (§7.9) ------------------------------------- */

/* A poll whose first step is the PIN (pin 000000), then the two reads. */
static void pin_poll(struct bms_poll *poll, struct bms_rx *rx, bool fresh)
{
	drive_begin_link(poll, rx, 0, 0, false, BMS_LINK_BLE, fresh);
	snprintf(poll->pin, sizeof(poll->pin), "000000");
}

static void test_pin(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t req[64], f[64];
	size_t n;
	CHECK(drv->ble->pin != NULL && !drv->ble->pin->silent && drv->ble->pin->dflt == NULL);
	/* a fresh connection: the PIN first, byte for byte, marked secret */
	pin_poll(&poll, &rx, true);
	poll.secret_req = false;
	CHECK(drive_req_is(&poll, JBD_PIN_REQ_1));
	CHECK(poll.secret_req);
	CHECK_EQ_INT(poll.auth, BMS_AUTH_SENT);
	/* the same step gives the same request */
	CHECK(drive_req_is(&poll, JBD_PIN_REQ_1));
	const size_t *chs[] = { chunks_one, chunks_odd, chunks_big };
	for (size_t c = 0; c < 3; c++) {
		pin_poll(&poll, &rx, true);
		CHECK(drive_req_is(&poll, JBD_PIN_REQ_1));
		struct drive_res r = drive_feed_hex(&poll, &rx, JBD_PIN_01, chs[c], c == 1 ? DRIVE_NCH(chunks_odd) : 1);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.bad_scan, 0);
		CHECK_EQ_INT(poll.auth, BMS_AUTH_OK);
		poll.secret_req = false;
		CHECK(drive_req_is(&poll, JBD_REQ_03));
		CHECK(!poll.secret_req);
	}
	/* the reads after it: aiobmsble's answers (JBD-D2) */
	struct drive_res r = { 0 };
	struct drive_answer a[] = {
		DRIVE_ANSWER("", 0, chunks_one), /* placeholder for the PIN's answer */
		DRIVE_ANSWER("", 0, chunks_odd), DRIVE_ANSWER("", 0, chunks_rnd),
	};
	uint8_t ans[3][64];
	a[0].len = (size_t)check_hex(JBD_PIN_01, ans[0], 64);
	a[1].len = (size_t)check_hex(JBD_EDITED, ans[1], 64);
	a[2].len = (size_t)check_hex(JBD_AIO_04, ans[2], 64);
	for (int k = 0; k < 3; k++)
		a[k].p = ans[k];
	a[0].req_len = 11;
	a[1].req_len = a[2].req_len = 7;
	pin_poll(&poll, &rx, true);
	CHECK_EQ_INT(drive_poll(&poll, &rx, a, 3, &r), BMS_OK);
	CHECK(fabsf(poll.snap.voltage - 15.6f) < 0.001f && fabsf(poll.snap.current + 2.87f) < 0.001f);
	CHECK(fabsf(poll.snap.soc - 100.0f) < 0.01f);
	static const uint16_t d2_cells[4] = { 3430, 3425, 3432, 3417 };
	drive_check_cells(&poll.snap, d2_cells, 4);
	CHECK_EQ_INT(poll.snap.ntemps, 3);
	/* the next poll on that connection: no PIN */
	pin_poll(&poll, &rx, false);
	CHECK(drive_req_is(&poll, JBD_REQ_03));
	CHECK_EQ_INT(poll.auth, BMS_AUTH_NONE);
	/* a new connection: the PIN again */
	pin_poll(&poll, &rx, true);
	CHECK(drive_req_is(&poll, JBD_PIN_REQ_1));
	/* refused: BMS_E_AUTH, and the next poll (the gateway's, a minute
	 * later) sends it again on the same connection */
	r = drive_feed_hex(&poll, &rx, JBD_PIN_02, chunks_odd, DRIVE_NCH(chunks_odd));
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_AUTH);
	pin_poll(&poll, &rx, false);
	CHECK(drive_req_is(&poll, JBD_PIN_REQ_1));
	/* no pin, or a wire: nothing of it */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK(drive_req_is(&poll, JBD_REQ_03));
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_WIRE, true);
	snprintf(poll.pin, sizeof(poll.pin), "000000");
	CHECK(drive_req_is(&poll, JBD_REQ_03));
	/* the PIN's answer where no PIN is outstanding: ignored */
	CHECK_EQ_INT(drive_handle_at(JBD_PIN_01, 0), BMS_E_UNEXPECTED);
	/* our PIN request echoed is skipped whole; a bad sum is BADSUM; a
	 * short or too long answer, a wrong length byte */
	hex_frame(JBD_PIN_REQ_1, f, &n);
	CHECK_EQ_INT(drv->scan(&poll, f, n, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 11);
	hex_frame(JBD_PIN_01, f, &n);
	f[5] ^= 1;
	CHECK_EQ_INT(drv->scan(&poll, f, n, &n), BMS_SCAN_BADSUM);
	hex_frame(JBD_PIN_01, f, &n);
	for (size_t i = 1; i < n; i++)
		CHECK_EQ_INT(drv->scan(&poll, f, i, &n), BMS_SCAN_NEED);
	pin_poll(&poll, &rx, true);
	CHECK(drive_req_is(&poll, JBD_PIN_REQ_1));
	hex_frame(JBD_PIN_01, f, &n);
	CHECK_EQ_INT(drv->handle(&poll, f, n - 1), BMS_E_SHORT);
	f[5] ^= 0x80;
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_CHECKSUM);
	/* a wrong head, a length byte beyond a PIN: skipped */
	static const uint8_t bad[] = { 0xFF, 0xAB, 0x15, 0x01, 0x00, 0x16 }, big[] = { 0xFF, 0xAA, 0x15, 0xF0 };
	CHECK_EQ_INT(drv->scan(&poll, bad, sizeof(bad), &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(drv->scan(&poll, big, sizeof(big), &n), BMS_SCAN_SKIP);
	/* a buffer too small for it */
	pin_poll(&poll, &rx, true);
	CHECK_EQ_INT(drv->next_request(&poll, req, 10), BMS_E_NOSPACE);
}

int main(void)
{
	test_pin();
	test_requests();
	test_vectors_scan();
	test_basic();
	test_alarms_balance();
	test_long_basic();
	test_cells();
	test_full_poll();
	test_ble();
	test_broken();
	return check_report();
}
