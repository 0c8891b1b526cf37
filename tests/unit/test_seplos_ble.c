/* SPDX-License-Identifier: MIT */
/* tests/unit/test_seplos_ble.c - Seplos V2 over Bluetooth LE (bms/seplos.c
 * with a ble:// port): the seplos2b rows of tests/fixtures/vectors.tsv
 * (aiobmsble's B1101-SP76, syssi's btsnoop of a 1101-SP76 16S pack)
 * through scan() + handle() as the gateway runs a BLE poll (one 0x61 read)
 * in every chunking; the frames of the other commands (0x51, 0x62, and 0x47
 * where the settings are not due) passed over; broken input (bad CRC or end
 * byte, truncated frames, the short 0x61 of SEPLOS2B-04, impossible counts,
 * an error RTN); the settings read 0x47 in a poll marked settings_due (the
 * real SEPLOS2B-10; refused, unanswered, short, another parameter count,
 * out of range).  Protocol facts: bms/PROTOCOLS.md §46. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_seplos_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family seplos2b: each macro is the row of
 * the id it spells (SEPLOS2B_01 = SEPLOS2B-01) */
#define SEPLOS2B_REQ_61 "7e10004661000100f7c10d"
#define SEPLOS2B_REQ_47 "7e10004647000100e7160d"
#define SEPLOS2B_01 "7e14006100006a0000100d440d470d4c0d470d450d460d460d580d580d590d480d440d480d430d480d47060b" \
	"930b920b900b950bd00ba0049c1543749d0676c003d676c000d603e815460000000000000000000000000000" \
	"00000000000000000000020308000000000000000000020000d8c30d"
#define SEPLOS2B_02 "7e14005100002443414e3a504e475f4459455f4c7578705f544242313130312d5350373620100601014601a2" \
	"6c0d"
#define SEPLOS2B_03 "7e1400620000300000100cf40cee060b930b7f0bb60b8d00d714b411140720d0020820d0007103e814b90700" \
	"020308000000000000000076310d"
#define SEPLOS2B_04 "7e14026100003c0002100cf00cf10cf10cf10cf10cf00cf10cf30cef0cf00cf10cf10cf10cf00cf10cf1060b" \
	"8f0b890b8a0b930bc00b9802ad14b4383a066d6002026de1060d"
#define SEPLOS2B_05 "7e14006100006a0000100d4f0d4d0d500d520d550d510d500d540d530d510d510d510d500d510d510d4d060b" \
	"bf0bba0bbb0bc30bc40b9f0ac4154e6ffb0675f803b575f8000603e815510000000000000000000000000000" \
	"000000000000000000000203080000000000000000000000005eea0d"
#define SEPLOS2B_06 "7e14006100006a0000100d500d4e0d520d530d560d510d510d540d550d520d520d520d510d520d520d4d060b" \
	"bf0bbb0bbb0bc30bc40b9f0ab7155070130675f803b675f8000603e815510000000000000000000000000000" \
	"00000000000000000000020308000000000000000000000000c45d0d"
#define SEPLOS2B_07 "7e14006100006a0000100d500d4e0d510d520d550d510d500d540d540d510d510d500d500d500d510d4c060b" \
	"bf0bbb0bbb0bc30bc40b9f0a6a154e70340675f803b775f8000603e815520000000000000000000000000000" \
	"0000000000000000000002030800000000000000000000000020bc0d"
#define SEPLOS2B_08 "7e1400620000300000100d520d3e060bc30ba40bc40b9f02291542159307179803921798000603e815460300" \
	"020308000000000000000032430d"
#define SEPLOS2B_09 "7e1400620000300000100d540d3e060bc30ba40bc40b9f02241544159507179803921798000603e815490300" \
	"0203080000000000000000f3260d"
#define SEPLOS2B_10 "7e1400470000a9003c0e380dac0a280a8c0e420e0609c40a5a0d4805dc1644154a1068113016d0157c0faa10" \
	"041770170c0c9f0c810abf0add0cd10c9f0a470aab0cb30c810a470ac90cd10c9f0a150aab0aab0b0f0c9f0c" \
	"810aab0ac90d030cd10a470aab0e2f0dfd0e930dfd4e204c2cafecb0b45208adf88ad007d075f827101b321e" \
	"0b0a0a100a0a1e3c0505010a0a1ef030020160506409000d0008ffffff3fbf9faf1e313130312d5350373620" \
	"5d2e0d"

/* What one 0x61 answer decodes to. */
struct sb_want {
	const char *frame;
	uint16_t cells[16];
	float temps[5], mos;
	float amps, volts, remain, full, soc;
	uint32_t cycles, balance;
};

static const struct sb_want wants[] = {
	{ SEPLOS2B_01,
	  { 3396, 3399, 3404, 3399, 3397, 3398, 3398, 3416, 3416, 3417, 3400, 3396, 3400, 3395, 3400, 3399 },
	  { 23.2f, 23.1f, 22.9f, 23.4f, 29.3f }, 24.5f, 11.8f, 54.43f, 298.53f, 304.0f, 98.2f, 214, 1u << 9 },
	{ SEPLOS2B_05,
	  { 3407, 3405, 3408, 3410, 3413, 3409, 3408, 3412, 3411, 3409, 3409, 3409, 3408, 3409, 3409, 3405 },
	  { 27.6f, 27.1f, 27.2f, 28.0f, 28.1f }, 24.4f, 27.56f, 54.54f, 286.67f, 302.0f, 94.9f, 6, 0 },
	{ SEPLOS2B_06,
	  { 3408, 3406, 3410, 3411, 3414, 3409, 3409, 3412, 3413, 3410, 3410, 3410, 3409, 3410, 3410, 3405 },
	  { 27.6f, 27.2f, 27.2f, 28.0f, 28.1f }, 24.4f, 27.43f, 54.56f, 286.91f, 302.0f, 95.0f, 6, 0 },
	{ SEPLOS2B_07,
	  { 3408, 3406, 3409, 3410, 3413, 3409, 3408, 3412, 3412, 3409, 3409, 3408, 3408, 3408, 3409, 3404 },
	  { 27.6f, 27.2f, 27.2f, 28.0f, 28.1f }, 24.4f, 26.66f, 54.54f, 287.24f, 302.0f, 95.1f, 6, 0 },
};

static void begin_ble(struct bms_poll *poll, struct bms_rx *rx, uint8_t forced, bool inv)
{
	drive_begin_link(poll, rx, 0, forced, inv, BMS_LINK_BLE, true);
}

static void check_want(const struct bms_snapshot *s, const struct sb_want *w)
{
	drive_check_cells(s, w->cells, 16);
	CHECK_EQ_INT(s->ntemps, 5);
	for (int i = 0; i < 5; i++)
		CHECK_NEAR(s->temp_c[i], w->temps[i], 1e-4);
	CHECK_NEAR(s->mos_temp_c, w->mos, 1e-4);
	CHECK_NEAR(s->current, w->amps, 1e-4);
	CHECK_NEAR(s->voltage, w->volts, 1e-4);
	CHECK_NEAR(s->remain_ah, w->remain, 1e-3);
	CHECK_NEAR(s->full_ah, w->full, 1e-3);
	CHECK_NEAR(s->soc, w->soc, 1e-4);
	CHECK_NEAR(s->soh, 100.0, 1e-4);
	CHECK_EQ_INT(s->cycles, w->cycles);
	CHECK(s->chg_mos && s->dsg_mos);    /* switch status 0x03 */
	CHECK_EQ_INT(s->state, 1);          /* system status 0x02: charging */
	CHECK_EQ_INT(s->balance, w->balance);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->present, drv->provides & ~(uint32_t)BMS_HAS_POWER);
}

static void test_table(void)
{
	const struct bms_gatt *g = drv->ble->gatt;
	CHECK(g && !bms_ble_only(drv) && drv->ble->auth == NULL && !drv->ble->write_request);
	CHECK_STR(g[0].service, "0000ff00-0000-1000-8000-00805f9b34fb");
	CHECK_STR(g[0].notify, "0000ff01-0000-1000-8000-00805f9b34fb");
	CHECK_STR(g[0].write, "0000ff02-0000-1000-8000-00805f9b34fb");
	CHECK(g[1].service == NULL);
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h && h[0].kind == BMS_BLE_NAME && h[0].name_ok && h[1].why == NULL);
	CHECK(h[0].name_ok("BP00") && h[0].name_ok("BP1A") && h[0].name_ok("BP2z"));
	CHECK(!h[0].name_ok("BP3A") && !h[0].name_ok("BP0") && !h[0].name_ok("BP000") && !h[0].name_ok("JBD-"));
	/* the tests' CRC-16/XMODEM: its check value */
	CHECK_EQ_INT(drive_crc16_xmodem((const uint8_t *)"123456789", 9), 0x31C3);
}

/* One read a poll over BLE: 0x61 of the address, then done; the wire's
 * poll is untouched (0x42 first). */
static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	begin_ble(&poll, &rx, 0, false);
	CHECK(drive_req_is(&poll, SEPLOS2B_REQ_61));
	uint8_t req[32];
	CHECK_EQ_INT(drv->next_request(&poll, req, 10), BMS_E_NOSPACE);
	poll.address = 2;
	CHECK(drive_req_is(&poll, "7e100246610001025cc30d")); /* the address in both places */
	poll.step = 1;
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_WIRE, true);
	CHECK(drv->next_request(&poll, req, sizeof(req)) > 0 && req[0] == '~');
}

static void test_sessions(void)
{
	for (size_t i = 0; i < DRIVE_NCH(wants); i++)
		for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++) {
			struct bms_poll poll = { 0 };
			struct bms_rx rx;
			uint8_t buf[256];
			begin_ble(&poll, &rx, 0, false);
			struct drive_answer a = { buf, (size_t)drive_hex(wants[i].frame, buf, 256), drive_chunkings[k].ch,
						  drive_chunkings[k].n, 0, 11 };
			struct drive_res r = { 0 };
			CHECK_EQ_INT(drive_poll(&poll, &rx, &a, 1, &r), BMS_OK);
			check_want(&poll.snap, &wants[i]);
		}
}

/* The other commands' answers (not asked) are passed over; so are broken
 * frames; the 0x61 after them decodes. */
static void test_broken(void)
{
	static const struct {
		const char *bad;
		int badsum, unexpected;
	} cases[] = {
		{ SEPLOS2B_02, 0, 1 }, { SEPLOS2B_03, 0, 1 }, { SEPLOS2B_08, 0, 1 }, { SEPLOS2B_09, 0, 1 },
		{ SEPLOS2B_10, 0, 1 },
		{ "7e1400620000300000100cf40cee060b930b7f0bb60b8d00d714b411140720d0020820d0007103e814b90700"
		  "020308000000000000000076320d", 1, 0 },                                           /* the CRC */
		{ "7e1400620000300000100cf40cee060b930b7f0bb60b8d00d714b411140720d0020820d0007103e814b90700"
		  "020308000000000000000076310a", 1, 0 },                                           /* the end byte */
		{ "7e1400620000300000100cf40cee060b930b7f0bb60b8d00d714b411140720d0020820d0007103e8", 1, 0 }, /* cut */
		{ "7e1500620000300000100cf4", 0, 0 },  /* another version: skipped */
		{ "7e14006200ffff0000", 0, 0 },        /* a length no answer has */
		{ SEPLOS2B_REQ_61 "41540d0a", 0, 0 },  /* our request echoed, a module's AT line */
	};
	for (size_t i = 0; i < DRIVE_NCH(cases); i++) {
		struct bms_poll poll;
		drive_check_broken(0, 1, cases[i].bad, SEPLOS2B_01, cases[i].badsum, cases[i].unexpected, &poll);
		check_want(&poll.snap, &wants[0]);
	}
}

/* A frame with a good CRC and an impossible content fails the try. */
static int bad(const char *hex, size_t off, uint8_t v, size_t cut)
{
	uint8_t b[256];
	size_t n = (size_t)drive_hex(hex, b, 256);
	if (off < n)
		b[off] = v;
	if (cut) {
		n = cut;
		b[5] = (uint8_t)((n - 10) >> 8);
		b[6] = (uint8_t)(n - 10);
	}
	uint16_t c = drive_crc16_xmodem(b + 1, n - 4);
	b[n - 3] = (uint8_t)(c >> 8);
	b[n - 2] = (uint8_t)c;
	b[n - 1] = 0x0D;
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	begin_ble(&poll, &rx, 0, false);
	struct drive_res r = drive_step_at(&poll, &rx, 0, b, n, chunks_big, 1);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(r.err, 1);
	return r.last_err;
}

static void test_impossible(void)
{
	/* SEPLOS2B-04: 60 bytes that stop in the custom items */
	uint8_t b[128];
	size_t n = (size_t)drive_hex(SEPLOS2B_04, b, 128);
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	begin_ble(&poll, &rx, 0, false);
	struct drive_res r = drive_step_at(&poll, &rx, 0, b, n, drive_notif20, 1);
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_SHORT);
	CHECK_EQ_INT(bad(SEPLOS2B_01, 9, 33, 0), BMS_E_RANGE);  /* 33 cells */
	CHECK_EQ_INT(bad(SEPLOS2B_01, 9, 40, 0), BMS_E_RANGE);  /* 40 cells */
	CHECK_EQ_INT(bad(SEPLOS2B_01, 9, 30, 0), BMS_E_SHORT);  /* 30 cells: beyond the data */
	CHECK_EQ_INT(bad(SEPLOS2B_01, 42, 60, 0), BMS_E_SHORT); /* 60 sensors */
	CHECK_EQ_INT(bad(SEPLOS2B_01, 0, 0x7E, 112), BMS_E_SHORT); /* the bitmaps cut */
	CHECK_EQ_INT(bad(SEPLOS2B_01, 0, 0x7E, 80), BMS_E_SHORT);  /* the states cut */
	CHECK_EQ_INT(bad(SEPLOS2B_01, 4, 0x02, 0), BMS_E_REFUSED); /* RTN 02 */
	/* handle() on its own: length, header, CRC, end byte */
	n = (size_t)drive_hex(SEPLOS2B_01, b, 128);
	begin_ble(&poll, &rx, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, b, n - 1), BMS_E_SHORT);
	CHECK_EQ_INT(drv->handle(&poll, b, 9), BMS_E_SHORT);
	b[1] = 0x10;
	CHECK_EQ_INT(drv->handle(&poll, b, n), BMS_E_HEADER);
	b[1] = 0x14;
	b[n - 1] = 0x0A;
	CHECK_EQ_INT(drv->handle(&poll, b, n), BMS_E_CHECKSUM);
	b[n - 1] = 0x0D;
	b[n - 2] ^= 1;
	CHECK_EQ_INT(drv->handle(&poll, b, n), BMS_E_CHECKSUM);
}

/* The alarm events, the states, the disconnection bitmap, the current's sign. */
static void test_status(void)
{
	/* data offsets in SEPLOS2B-01: cell alarms at 7 + 67, sensor alarms
	 * + 16, current + 22, voltage + 23, system + 24, switch + 25, P + 26,
	 * events + 27 .. 34, balancing 35..36, disconnection 37..38 */
	static const struct {
		size_t off;
		uint8_t v;
		uint32_t alarms;
	} cases[] = {
		{ 7 + 67 + 3, 0x02, BMS_AL_CELL_OV },                  /* cell 4 above its limit */
		{ 7 + 67 + 16 + 5, 0x02, BMS_AL_MOS_OT },              /* the power sensor */
		{ 7 + 67 + 22, 0x01, BMS_AL_DSG_OC },                  /* the current below its limit */
		{ 7 + 67 + 27 + 1, 0x02, BMS_AL_CELL_OV | BMS_AL_PROTECTION }, /* event 2 bit 1 */
		{ 7 + 67 + 27 + 7, 0x01, BMS_AL_HW_FAULT },            /* event 8 bit 0: EEPROM */
		{ 7 + 67 + 38, 0x01, BMS_AL_HW_FAULT },                /* cell 9 disconnected */
	};
	for (size_t i = 0; i < DRIVE_NCH(cases); i++) {
		uint8_t b[256];
		size_t n = (size_t)drive_hex(SEPLOS2B_01, b, 256);
		b[cases[i].off] = cases[i].v;
		uint16_t c = drive_crc16_xmodem(b + 1, n - 4);
		b[n - 3] = (uint8_t)(c >> 8);
		b[n - 2] = (uint8_t)c;
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		begin_ble(&poll, &rx, 0, false);
		struct drive_res r = drive_step_at(&poll, &rx, 0, b, n, drive_notif20, 1);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(poll.snap.alarms, cases[i].alarms);
	}
	for (int inv = 0; inv < 2; inv++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		uint8_t b[256];
		size_t n = (size_t)drive_hex(SEPLOS2B_01, b, 256);
		begin_ble(&poll, &rx, 0, inv);
		CHECK_EQ_INT(drive_step_at(&poll, &rx, 0, b, n, drive_odd, DRIVE_NCH(drive_odd)).ok, 1);
		CHECK_NEAR(poll.snap.current, inv ? -11.8 : 11.8, 1e-4);
	}
	/* `cells =`: the first N (more than the BMS sends: all of them) */
	for (int forced = 3; forced <= 20; forced += 17) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		uint8_t b[256];
		size_t n = (size_t)drive_hex(SEPLOS2B_01, b, 256);
		begin_ble(&poll, &rx, (uint8_t)forced, false);
		CHECK_EQ_INT(drive_step_at(&poll, &rx, 0, b, n, drive_notif20, 1).ok, 1);
		CHECK_EQ_INT(poll.snap.ncells, forced == 3 ? 3 : 16);
	}
}

/* ---- the settings: 0x47 when due (§46.5) --------------------------------- */

/* SEPLOS2B-10's settings, read with the 0.1 K offset 2731 of the status */
static void check_10(const struct bms_settings *st)
{
	static const struct {
		enum bms_set_key k;
		float v;
	} want[] = {
		{ BMS_SET_CELL_OVP_V, 3.650f },          { BMS_SET_CELL_OVP_RELEASE_V, 3.590f },
		{ BMS_SET_CELL_UVP_V, 2.500f },          { BMS_SET_CELL_UVP_RELEASE_V, 2.650f },
		{ BMS_SET_BALANCE_START_V, 3.400f },     { BMS_SET_PACK_OVP_V, 58.40f },
		{ BMS_SET_PACK_UVP_V, 40.10f },          { BMS_SET_CHARGE_OTP_C, 55.0f },
		{ BMS_SET_CHARGE_OTP_RELEASE_C, 50.0f }, { BMS_SET_CHARGE_UTP_C, -10.0f },
		{ BMS_SET_CHARGE_UTP_RELEASE_C, 0.0f },  { BMS_SET_DISCHARGE_OTP_C, 55.0f },
		{ BMS_SET_DISCHARGE_OTP_RELEASE_C, 50.0f }, { BMS_SET_DISCHARGE_UTP_C, -15.0f },
		{ BMS_SET_DISCHARGE_UTP_RELEASE_C, 0.0f }, { BMS_SET_MOS_OTP_C, 100.0f },
		{ BMS_SET_MOS_OTP_RELEASE_C, 85.0f },    { BMS_SET_CHARGE_OCP_A, 210.0f },
		{ BMS_SET_CAPACITY_AH, 302.0f },
	};
	CHECK(st->have == drv->settings);
	for (size_t i = 0; i < DRIVE_NCH(want); i++)
		CHECK_NEAR(st->v[want[i].k], want[i].v, 1e-4);
}

/* The CRC and end byte of a frame of n bytes made good after an edit. */
static size_t reseal(uint8_t *b, size_t n)
{
	uint16_t c = drive_crc16_xmodem(b + 1, n - 4);
	b[n - 3] = (uint8_t)(c >> 8);
	b[n - 2] = (uint8_t)c;
	b[n - 1] = 0x0D;
	return n;
}

/* SEPLOS2B-10 edited (byte off = v; cut to n bytes), the CRC made good */
static size_t mk10(uint8_t *b, size_t off, uint8_t v, size_t cut)
{
	size_t n = (size_t)drive_hex(SEPLOS2B_10, b, 256);
	if (off < n)
		b[off] = v;
	if (cut) {
		n = cut;
		b[5] = (uint8_t)((n - 10) >> 8);
		b[6] = (uint8_t)(n - 10);
	}
	return reseal(b, n);
}

static void test_settings(void)
{
	uint8_t req[32], want[16], b[256];
	const size_t *chs[] = { chunks_one, chunks_big, drive_notif20 };
	for (int k = 0; k < 3; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		struct drive_res r = { 0 };
		uint8_t f01[256], f10[256];
		int n01 = drive_hex(SEPLOS2B_01, f01, 256), n10 = drive_hex(SEPLOS2B_10, f10, 256);
		const struct drive_answer a[2] = { { f01, (size_t)n01, chs[k], 1, 0, 11 },
						   { f10, (size_t)n10, chs[k], 1, 0, 11 } };
		begin_ble(&poll, &rx, 0, false);
		poll.settings_due = true;
		CHECK_EQ_INT(drive_poll(&poll, &rx, a, 2, &r), BMS_OK);
		check_want(&poll.snap, &wants[0]);
		check_10(&poll.kept.settings);
		/* not due: 0x61 alone, the settings kept */
		begin_ble(&poll, &rx, 0, false);
		CHECK_EQ_INT(drive_poll(&poll, &rx, a, 1, &r), BMS_OK);
		check_10(&poll.kept.settings);
	}
	/* the request of the capture */
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	begin_ble(&poll, &rx, 0, false);
	poll.settings_due = true;
	poll.step = 1;
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 11);
	CHECK_EQ_INT(drive_hex(SEPLOS2B_REQ_47, want, 16), 11);
	CHECK(memcmp(req, want, 11) == 0);
	/* unanswered: the poll is complete without it; refused (RTN 04) too */
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	begin_ble(&poll, &rx, 0, false);
	CHECK(!drv->timeout(&poll)); /* the status read is not given up */
	poll.settings_due = true;
	poll.step = 1;
	size_t n = mk10(b, 4, 0x04, 0);
	struct drive_res r = drive_step_at(&poll, &rx, 1, b, n, chunks_big, 1);
	CHECK(r.ok == 1 && poll.refusals == 1 && poll.kept.settings.have == 0);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	/* over the wire: no 0x47 */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_WIRE, true);
	poll.settings_due = true;
	poll.step = 2;
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	CHECK(!drv->timeout(&poll));
}

/* 0x47 short, another parameter count: refused (timeout() then ends the
 * step); values out of range: absent; the 0x61 answer at the settings
 * step: not its answer. */
static void test_settings_broken(void)
{
	uint8_t b[256];
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	static const struct {
		size_t off, cut;
		uint8_t v;
		int rc;
	} cases[] = { { 999, 128, 0, BMS_E_SHORT }, { 8, 0, 59, BMS_E_RANGE } };
	for (size_t i = 0; i < DRIVE_NCH(cases); i++) {
		size_t n = mk10(b, cases[i].off, cases[i].v, cases[i].cut);
		begin_ble(&poll, &rx, 0, false);
		poll.settings_due = true;
		struct drive_res r = drive_step_at(&poll, &rx, 1, b, n, chunks_big, 1);
		CHECK(r.ok == 0 && r.err == 1 && r.last_err == cases[i].rc && poll.kept.settings.have == 0);
		CHECK(drv->timeout(&poll));
	}
	/* cut right after the 60 words: taken */
	size_t n = mk10(b, 999, 0, 139); /* (999: no byte edited) */
	begin_ble(&poll, &rx, 0, false);
	poll.settings_due = true;
	struct drive_res r = drive_step_at(&poll, &rx, 1, b, n, chunks_big, 1);
	CHECK(r.ok == 1);
	check_10(&poll.kept.settings);
	/* cell OVP 0, a charge OTP of 0 K, capacity 0: absent */
	memset(&poll.kept.settings, 0, sizeof(poll.kept.settings));
	n = (size_t)drive_hex(SEPLOS2B_10, b, 256);
	b[17] = b[18] = b[57] = b[58] = b[125] = b[126] = 0;
	reseal(b, n);
	begin_ble(&poll, &rx, 0, false);
	poll.settings_due = true;
	r = drive_step_at(&poll, &rx, 1, b, n, chunks_big, 1);
	const struct bms_settings *st = &poll.kept.settings;
	CHECK(r.ok == 1 && !bms_settings_has(st, BMS_SET_CELL_OVP_V) && !bms_settings_has(st, BMS_SET_CHARGE_OTP_C) &&
	      !bms_settings_has(st, BMS_SET_CAPACITY_AH) && bms_settings_has(st, BMS_SET_CELL_OVP_RELEASE_V));
	/* 0x61 where 0x47 is asked */
	uint8_t f01[256];
	int n01 = drive_hex(SEPLOS2B_01, f01, 256);
	begin_ble(&poll, &rx, 0, false);
	poll.settings_due = true;
	poll.step = 1;
	bms_rx_clear(&rx);
	r = FEED_BYTES(&poll, &rx, f01, (size_t)n01, chunks_big);
	CHECK(r.unexpected == 1 && r.ok == 0);
}

int main(void)
{
	test_table();
	test_requests();
	test_sessions();
	test_broken();
	test_impossible();
	test_status();
	test_settings();
	test_settings_broken();
	return check_report();
}
