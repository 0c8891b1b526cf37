/* SPDX-License-Identifier: MIT */
/* tests/unit/test_daly_modbus.c - Daly H/K/M/S Modbus-like driver: the modbus
 * rows of tests/fixtures/vectors.tsv through scan() + handle() fed in odd
 * chunks, whole polls through finish(), synthetic replies for what no
 * capture shows, broken input, and over Bluetooth LE the two dialects (D2,
 * 0x81), their detection and notifications in every split.  Protocol
 * facts: bms/PROTOCOLS.md §3, §14. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_daly_modbus_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family modbus: each macro is the row of the id
 * it spells (DALYN_01 = DALYN-01, JKPB_REQ_5 = JKPB-REQ-5) */
#define DALYN_REQ_1 "d2030000003ed7b9"
#define DALYN_REQ_2 "d203003e0009f7a3"
#define DALYN_01 "d2037c101f10291033103d0000000000000000000000000000000000000000000000000000000000" \
	"000000000000000000000000000000000000000000000000000000003c003d003e003f0000000000" \
	"000000008c754e0384103d101f0000000000000d80000400040039000100000001102e0141002a00" \
	"00000000000000a0df"
#define DALYN_02 "d2037c0cdc0cdb0cdc0cdc0cdc0cdc0cde0cdc0cdc0cdc0cdc0cdc0cdc0cdc0cde0cdc0cdc0cdc0c" \
	"dc0cdc0cdc0cde0cdc0cdc0000000000000000000000000000000000380036003800380000000000" \
	"00000003167530014d0cde0cdb00380036000004150018000400000000000100010cdc0003000000" \
	"000000000000004967"
#define DALYN_04 "5103800cd10c900ca30cd50000000000000000000000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"0000000000000000000000000000000000000000ff00ff00ff00ff00ff00ff00ff00ff0082752c00" \
	"70004c000400020cd50004d215"
#define DALYN_05 "51037c0002004500ff000000ff0000000000000000000000c9000000007530000000000000000100" \
	"010000000000000cba00060000004500ff000000000000000075301a06050922144aec0000000000" \
	"0000000000753000300070000000000000000200008000000075300b7dfffeffff00007ff8ffffff" \
	"ffffffffff00026860"
/* Over BLE: a D2 settings answer (0x80..0xA8, switches 0xA5/0xA6 on) and
 * the two reads of an ESS DL BMS in the 0x81 dialect, with its requests */
#define DALYN_08 "d20352041a0c80000100040000000000010000000000001c200dac0dac0a280a28008c008c006800" \
	"6874cc74cc749075d00055005500280028006e006e0027002700ff00ff00ff00ff0c800014000100" \
	"0102a800577f8b"
#define DALYN_REQ_3 "8103000000405bfa"
#define DALYN_REQ_4 "81030041003e8bce"
#define DALYN_06 "5103800cf40cf00cf30cf20cf30cf10cf30cf30cf00cf30cf30cf40cf30cf30cf30cf50000000000" \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000003e003e003e003e0000000000000000021274d703" \
	"6000b6001000040cf5001099ef"
#define DALYN_07 "51037c00090005003e0004003e000100000002000000000a98000700070000000000000000000100" \
	"010000000000000cf201d700000040004600000000ffff000075301a06021402210b4b0402000000" \
	"000080000074be0011035f0000000000000080000000000000ffffffffffffffffffffffffffffff" \
	"ff00ffffff0002b8ac"
/* the D2 switch writes (computed: D2 06 00 A5|A6 00 00|01 + CRC) */
#define D2_REQ_SETTINGS "d20300800029965f"
#define JKPB_REQ_1 "031016200001020000cf91"
#define JKPB_REQ_2 "011016200001020000d6f1"
#define JKPB_REQ_3 "0110161e0001020000d22f"
#define JKPB_REQ_4 "0110161c0001020000d3cd"
#define JKPB_REQ_5 "010312900002c15e"

/* The two reads of a poll, board 1 (CRC computed; the same reads as the
 * p81 dongle of DALYN-04/05). */
#define REQ_MAIN_1 "8103000000405bfa"
#define REQ_STATUS_1 "81030041003e8bce"

static const size_t chunks_odd[] = { 1, 1, 2, 5, 3, 7, 13, 1, 26, 3, 11, 1, 40, 64 };
static const size_t chunks_rand[] = { 17, 2, 90, 1, 1, 33, 4, 129, 6 };

static size_t put_crc(uint8_t *f, size_t n)
{
	uint16_t c = drive_crc16(f, n);
	f[n] = (uint8_t)c;
	f[n + 1] = (uint8_t)(c >> 8);
	return n + 2;
}

/* A read reply from `addr` with `count` registers regs[0..count). */
static size_t mk(uint8_t *f, uint8_t addr, unsigned count, const uint16_t *regs)
{
	f[0] = addr;
	f[1] = 0x03;
	f[2] = (uint8_t)(2 * count);
	for (unsigned i = 0; i < count; i++) {
		f[3 + 2 * i] = (uint8_t)(regs[i] >> 8);
		f[4 + 2 * i] = (uint8_t)regs[i];
	}
	return put_crc(f, 3 + 2 * count);
}

/* A plausible register image 0x00..0x7F of a pack (p81 map). */
static void image(uint16_t *r, unsigned ncells, unsigned nsens)
{
	memset(r, 0, 0x80 * sizeof(r[0]));
	for (unsigned i = 0; i < ncells; i++)
		r[i] = (uint16_t)(3300 + i);
	for (unsigned i = 0; i < 8; i++)
		r[0x30 + i] = i < nsens ? (uint16_t)(65 + i) : 0xFF;
	r[0x38] = 530;      /* 53.0 V */
	r[0x39] = 30050;    /* +5.0 A */
	r[0x3A] = 605;      /* 60.5 % */
	r[0x3B] = 98;
	r[0x3C] = (uint16_t)ncells;
	r[0x3D] = (uint16_t)nsens;
	r[0x48] = 1;        /* charging */
	r[0x4B] = 1234;     /* 123.4 Ah */
	r[0x4C] = 17;
	r[0x4E] = 30000;
	r[0x52] = 1;
	r[0x53] = 1;
	r[0x58] = 265;
	r[0x5A] = 70;       /* 30 degC */
	r[0x5B] = 0xFF;
}

static size_t mk_main(uint8_t *f, uint8_t board, const uint16_t *img)
{
	return mk(f, (uint8_t)(0x50 + board), 0x40, img);
}

static size_t mk_status(uint8_t *f, uint8_t board, const uint16_t *img)
{
	return mk(f, (uint8_t)(0x50 + board), 0x3E, img + 0x41);
}

static int request(struct bms_poll *poll, uint8_t *req)
{
	return drv->next_request(poll, req, 8);
}

/* Start register of the outstanding read, -1 when the poll is complete. */
static int cur_start(struct bms_poll *poll)
{
	uint8_t req[8];
	int n = request(poll, req);
	return n == 8 ? (req[2] << 8 | req[3]) : n == 0 ? -1 : -100 + n;
}

static bool same_hex(const uint8_t *p, size_t n, const char *hex)
{
	uint8_t want[64];
	int wn = check_hex(hex, want, (int)sizeof(want));
	return wn == (int)n && memcmp(p, want, n) == 0;
}

static void test_crc_helper(void)
{
	/* the example reads of bms/PROTOCOLS.md §3.1 (computed) and the BMSTool
	 * writes of §3.5 (rows DALYN-MOS-1/2), then fixture rows */
	static const char *const ex[] = {
		"81 03 00 00 00 30 5A 1E", "81 03 00 30 00 18 5A 0F", "81 03 00 48 00 15 1B D3",
		"81 03 00 6D 00 07 8A 15", "81 06 01 21 00 00 C7 FC", "81 06 01 21 00 01 06 3C",
		DALYN_REQ_1, DALYN_REQ_2, JKPB_REQ_5,
	};
	for (size_t k = 0; k < sizeof(ex) / sizeof(ex[0]); k++) {
		uint8_t f[16];
		int n = check_hex(ex[k], f, (int)sizeof(f));
		CHECK(n == 8);
		uint16_t c = drive_crc16(f, 6);
		CHECK_EQ_INT(f[6], c & 0xFF);
		CHECK_EQ_INT(f[7], c >> 8);
	}
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t req[16];
	uint16_t img[0x80];
	uint8_t f[256];

	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(request(&poll, req), 8);
	CHECK(same_hex(req, 8, REQ_MAIN_1));
	/* retries send the same request */
	poll.attempt = 2;
	CHECK_EQ_INT(request(&poll, req), 8);
	CHECK(same_hex(req, 8, REQ_MAIN_1));
	image(img, 4, 2);
	size_t n = mk_main(f, 1, img);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(request(&poll, req), 8);
	CHECK(same_hex(req, 8, REQ_STATUS_1));
	n = mk_status(f, 1, img);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(request(&poll, req), 0);
	CHECK_EQ_INT(request(&poll, req), 0);

	/* board 16: 0x90; boards 0 and 17 do not exist */
	drive_begin(&poll, &rx, 16, 0, false);
	CHECK_EQ_INT(request(&poll, req), 8);
	CHECK_EQ_INT(req[0], 0x90);
	uint16_t c = drive_crc16(req, 6);
	CHECK_EQ_INT(req[6] | req[7] << 8, c);
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(request(&poll, req), BMS_E_RANGE);
	drive_begin(&poll, &rx, 17, 0, false);
	CHECK_EQ_INT(request(&poll, req), BMS_E_RANGE);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, 7), BMS_E_NOSPACE);

	/* driver table */
	CHECK_STR(drv->name, "daly-modbus");
	CHECK_EQ_INT(drv->protocol_id, 2);
	CHECK_EQ_INT(drv->default_baud, 9600);
	CHECK_EQ_INT(drv->min_address, 1);
	CHECK_EQ_INT(drv->max_address, 16);
	CHECK(drv->control->gap_floor >= 0.02 && drv->interbyte > 0 && drv->default_timeout >= 0.3);
	CHECK(!drv->listen_only);
	CHECK(drv->finish != NULL && drv->next_request != NULL);
	CHECK(bms_find("daly-modbus") == drv);
}

static const uint16_t cells_04[4] = { 3281, 3216, 3235, 3285 };

static void check_dalyn04(const struct bms_snapshot *s, bool inv)
{
	CHECK_EQ_INT(s->ncells, 4);
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(s->cell_mv[i], cells_04[i]);
	CHECK_NEAR(s->voltage, 13.0, 1e-4);
	CHECK_NEAR(s->current, inv ? 0.4 : -0.4, 1e-4);
	CHECK_NEAR(s->soc, 11.2, 1e-4);
	/* all eight temperature registers 0x00FF: no sensor, though 0x3D = 2 */
	CHECK_EQ_INT(s->ntemps, 0);
	CHECK(!(s->present & BMS_HAS_TEMPS));
	/* 0x3B = 76 is not taken as SOH */
	CHECK(!(s->present & BMS_HAS_SOH));
	CHECK_NEAR(s->soh, 0.0, 1e-9);
}

static void test_dalyn04(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	const size_t *chunks[] = { chunks_one, chunks_odd, chunks_big, chunks_rand };
	const size_t nchunks[] = { 1, DRIVE_NCH(chunks_odd), 1,
				   DRIVE_NCH(chunks_rand) };

	for (int k = 0; k < 4; k++) {
		drive_begin(&poll, &rx, 1, 0, k & 1);
		CHECK_EQ_INT(cur_start(&poll), 0x00);
		struct drive_res r = drive_feed_hex(&poll, &rx, DALYN_04, chunks[k], nchunks[k]);
		CHECK_EQ_INT(r.frames, 1);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.skipped, 0);
		CHECK_EQ_INT(r.bad_scan, 0);
		CHECK_EQ_INT(rx.len, 0);
		check_dalyn04(&poll.snap, k & 1);
		CHECK_EQ_INT(poll.snap.present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC |
			     BMS_HAS_CELLS);
		CHECK_EQ_INT(cur_start(&poll), 0x41);
	}
}

static void check_dalyn05(const struct bms_snapshot *s)
{
	CHECK_EQ_INT(s->state, 0);
	CHECK_NEAR(s->remain_ah, 20.1, 1e-4);
	CHECK_EQ_INT(s->cycles, 0);
	CHECK(s->chg_mos);
	CHECK(s->dsg_mos);
	CHECK_EQ_INT(s->balance, 0);
	/* 0x5A = 0x45: MOS 29 degC; 0x5B board 0xFF (not used anyway) */
	CHECK(s->present & BMS_HAS_MOS_TEMP);
	CHECK_NEAR(s->mos_temp_c, 29.0, 1e-6);
	/* 0x70 = 0x0002 (SOC low level 2), 0x72 = 0x8000 (temperature detect) */
	CHECK_EQ_INT(s->nraw, 4);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
	CHECK_EQ_INT(s->raw_alarms[1], 0);
	CHECK_EQ_INT(s->raw_alarms[2], 0);
	CHECK_EQ_INT(s->raw_alarms[3], 0x0002);
	CHECK_EQ_INT(s->alarms, BMS_AL_SOC_LOW | BMS_AL_PROTECTION | BMS_AL_SENSOR);
	CHECK(!(s->present & (BMS_HAS_FULL | BMS_HAS_SOH)));
}

static void test_dalyn05(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };

	for (int k = 0; k < 3; k++) {
		drive_begin(&poll, &rx, 1, 0, false);
		poll.step = 1; /* the status read is outstanding */
		CHECK_EQ_INT(cur_start(&poll), 0x41);
		struct drive_res r = k == 0 ? FEED_HEX(&poll, &rx, DALYN_05, chunks_one)
			     : k == 1 ? FEED_HEX(&poll, &rx, DALYN_05, chunks_odd)
				      : FEED_HEX(&poll, &rx, DALYN_05, chunks_rand);
		CHECK_EQ_INT(r.frames, 1);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.skipped, 0);
		check_dalyn05(&poll.snap);
		CHECK_EQ_INT(poll.snap.present, BMS_HAS_REMAIN | BMS_HAS_CYCLES | BMS_HAS_BALANCE |
			     BMS_HAS_MOSFETS | BMS_HAS_MOS_TEMP | BMS_HAS_ALARMS);
		CHECK_EQ_INT(cur_start(&poll), -1);
	}
}

/* The whole poll from the two captures, as the gateway drives it. */
static void test_full_poll(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct bms_snapshot *s = &poll.snap;
	struct bms_cell_stats st;
	struct drive_res r;

	for (int k = 0; k < 2; k++) {
		drive_begin(&poll, &rx, 1, 0, false);
		CHECK_EQ_INT(cur_start(&poll), 0x00);
		r = k ? FEED_HEX(&poll, &rx, DALYN_04, chunks_odd) : FEED_HEX(&poll, &rx, DALYN_04, chunks_big);
		CHECK_EQ_INT(r.ok, 1);
		bms_rx_clear(&rx); /* the gateway drains before each request */
		CHECK_EQ_INT(cur_start(&poll), 0x41);
		r = k ? FEED_HEX(&poll, &rx, DALYN_05, chunks_rand) : FEED_HEX(&poll, &rx, DALYN_05, chunks_one);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(cur_start(&poll), -1);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		bms_snapshot_derive(s);
		check_dalyn04(s, false);
		check_dalyn05(s);
		CHECK_NEAR(s->power, 13.0 * -0.4, 1e-3);
		CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CELLS |
			     BMS_HAS_REMAIN | BMS_HAS_CYCLES | BMS_HAS_BALANCE | BMS_HAS_MOSFETS |
			     BMS_HAS_MOS_TEMP | BMS_HAS_ALARMS | BMS_HAS_POWER);
		/* the BMS's own figures: max 3.285 V cell 4 (0x3E/0x3F), min cell 2
		 * (0x41), delta 69 mV (0x42) */
		bms_cell_stats(s, &st);
		CHECK_EQ_INT(st.max_mv, 3285);
		CHECK_EQ_INT(st.max_idx, 4);
		CHECK_EQ_INT(st.min_idx, 2);
		CHECK_EQ_INT(st.delta_mv, 69);
	}
	/* a finished poll takes no more frames */
	uint8_t f[200];
	int n = check_hex(DALYN_05, f, (int)sizeof(f));
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n), BMS_E_UNEXPECTED);
	size_t fl = 0;
	CHECK_EQ_INT(drv->scan(&poll, f, (size_t)n, &fl), BMS_SCAN_FRAME);
	CHECK_EQ_INT(fl, (size_t)n);

	/* both answers merged in one read, late duplicate of the first after it */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(cur_start(&poll), 0x00);
	r = FEED_HEX(&poll, &rx, DALYN_04 DALYN_04, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.unexpected, 1); /* the second copy answers the main read, now done */
	r = FEED_HEX(&poll, &rx, DALYN_04 DALYN_05, chunks_odd);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
}

/* ---- Bluetooth LE: the D2 and 0x81 dialects -------------------------------- */

static void check_dalyn01(const struct bms_snapshot *s, bool inv)
{
	static const uint16_t cells[4] = { 4127, 4137, 4147, 4157 };
	drive_check_cells(s, cells, 4);
	CHECK_EQ_INT(s->ntemps, 4);
	for (int i = 0; i < 4; i++)
		CHECK_NEAR(s->temp_c[i], 20 + i, 1e-6);
	CHECK_NEAR(s->voltage, 14.0, 1e-4);
	CHECK_NEAR(s->current, inv ? -3.0 : 3.0, 1e-4);
	CHECK_NEAR(s->soc, 90.0, 1e-4);
	CHECK_NEAR(s->remain_ah, 345.6, 1e-3);
	CHECK_EQ_INT(s->cycles, 57);
	CHECK(!s->chg_mos);
	CHECK(s->dsg_mos);
	CHECK_EQ_INT(s->state, 0);
	CHECK_EQ_INT(s->nraw, 4);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CELLS |
		     BMS_HAS_TEMPS | BMS_HAS_REMAIN | BMS_HAS_CYCLES | BMS_HAS_MOSFETS | BMS_HAS_ALARMS);
}

static void check_dalyn02(const struct bms_snapshot *s)
{
	CHECK_EQ_INT(s->ncells, 24);
	CHECK_EQ_INT(s->cell_mv[0], 3292);
	CHECK_EQ_INT(s->cell_mv[1], 3291);
	CHECK_EQ_INT(s->cell_mv[6], 3294);
	CHECK_EQ_INT(s->cell_mv[23], 3292);
	CHECK_EQ_INT(s->ntemps, 4);
	CHECK_NEAR(s->temp_c[0], 16, 1e-6);
	CHECK_NEAR(s->temp_c[1], 14, 1e-6);
	CHECK_NEAR(s->voltage, 79.0, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-4);
	CHECK_NEAR(s->soc, 33.3, 1e-4);
	CHECK_NEAR(s->remain_ah, 104.5, 1e-3);
	CHECK_EQ_INT(s->cycles, 0);
	CHECK(s->chg_mos && s->dsg_mos);
}

/* The ESS DL BMS in the 0x81 dialect (the wire's map), DALYN-06 + -07. */
static void check_dalyn0607(const struct bms_snapshot *s)
{
	static const uint16_t cells[16] = {
		3316, 3312, 3315, 3314, 3315, 3313, 3315, 3315, 3312, 3315, 3315, 3316, 3315, 3315, 3315, 3317,
	};
	drive_check_cells(s, cells, 16);
	CHECK_EQ_INT(s->ntemps, 4);
	CHECK_NEAR(s->temp_c[3], 22, 1e-6);
	CHECK_NEAR(s->voltage, 53.0, 1e-4);
	CHECK_NEAR(s->current, -8.9, 1e-4);
	CHECK_NEAR(s->soc, 86.4, 1e-4);
	CHECK_EQ_INT(s->state, 2);
	CHECK_NEAR(s->remain_ah, 271.2, 1e-3);
	CHECK_EQ_INT(s->cycles, 7);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_NEAR(s->mos_temp_c, 24, 1e-6);
	CHECK_EQ_INT(s->raw_alarms[3], 0x0080); /* 0x70 b7 parallel communication fault */
	CHECK_EQ_INT(s->alarms, BMS_AL_COMM);
}

/* The request of the outstanding read, as hex-comparable bytes. */
static bool req_is(struct bms_poll *poll, const char *hex)
{
	uint8_t req[8];
	return request(poll, req) == 8 && same_hex(req, 8, hex);
}


/* DALYN-08's settings shown read only (§14.2, ESPHome's reading of the
 * same frame): the critical level of each pair, the over-currents as
 * magnitudes (their signs contradict: 29900 charge, 30160 discharge); the
 * MOS temperature is not shown, the balancer (0xCF) is read apart. */
static void check_dalyn08_settings(const struct bms_settings *st)
{
	static const struct {
		enum bms_set_key k;
		float v;
	} want[] = {
		{ BMS_SET_CAPACITY_AH, 105.0f }, { BMS_SET_CELL_OVP_V, 3.5f }, { BMS_SET_CELL_UVP_V, 2.6f },
		{ BMS_SET_PACK_OVP_V, 14.0f }, { BMS_SET_PACK_UVP_V, 10.4f }, { BMS_SET_CHARGE_OTP_C, 45.0f },
		{ BMS_SET_CHARGE_UTP_C, 0.0f }, { BMS_SET_DISCHARGE_OTP_C, 70.0f }, { BMS_SET_DISCHARGE_UTP_C, -1.0f },
		{ BMS_SET_CELL_DIFF_V, 0.255f }, { BMS_SET_BALANCE_START_V, 3.2f }, { BMS_SET_BALANCE_DELTA_V, 0.02f },
		{ BMS_SET_CELL_COUNT, 4.0f }, { BMS_SET_CHARGE_OCP_A, 10.0f }, { BMS_SET_DISCHARGE_OCP_A, 16.0f },
	};
	uint64_t have = 0;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK(bms_settings_has(st, want[i].k));
		CHECK_NEAR(st->v[want[i].k], want[i].v, 1e-5);
		have |= BMS_SET_BIT(want[i].k);
	}
	CHECK(st->have == have);
	CHECK(drv->settings == (have | BMS_SET_BIT(BMS_SET_BALANCER)));
}

/* DALYN-08's settings and the balancer switch read apart. */
static void check_dalyn08_settings_bal(const struct bms_settings *st, float bal)
{
	struct bms_settings only = *st;
	CHECK(bms_settings_has(st, BMS_SET_BALANCER));
	CHECK_NEAR(st->v[BMS_SET_BALANCER], bal, 1e-9);
	only.have &= ~BMS_SET_BIT(BMS_SET_BALANCER);
	check_dalyn08_settings(&only);
}

/* A D2 pack with bms_settings (wsettings): in a poll marked settings_due
 * the settings 0x80..0xA8 and the balancer switch 0xCF are read after the
 * status, without the switch settings when it has no control; a read made
 * only for them that fails ends the poll's reads, the status good; not
 * due, the status alone. */
static void test_d2_wsettings(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_BLE, false);
	poll.wsettings = poll.settings_due = true;
	CHECK(req_is(&poll, DALYN_REQ_1));
	struct drive_res r = FEED_HEX(&poll, &rx, DALYN_01, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	bms_rx_clear(&rx);
	CHECK(req_is(&poll, D2_REQ_SETTINGS));
	r = FEED_HEX(&poll, &rx, DALYN_08, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	bms_rx_clear(&rx);
	CHECK(req_is(&poll, "d20300cf0001a796"));
	r = FEED_HEX(&poll, &rx, "d2030400010000493e" "d203020001fc57", chunks_odd);
	CHECK_EQ_INT(r.ok, 0); /* a change's answer (4 bytes), a bad CRC: not the balancer's */
	r = FEED_HEX(&poll, &rx, "d203020001fc56", chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(cur_start(&poll), -1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_SETPOINT)); /* no control: the switches are not shown */
	check_dalyn08_settings_bal(&poll.kept.settings, 1.0f);
	/* the balancer off; then a poll whose balancer read goes unanswered
	 * keeps it; then one whose settings read is refused: the status stands */
	drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_BLE, false);
	poll.wsettings = poll.settings_due = true;
	r = FEED_HEX(&poll, &rx, DALYN_01 DALYN_08 "d2030200003d96", chunks_big);
	CHECK_EQ_INT(r.ok, 3);
	check_dalyn08_settings_bal(&poll.kept.settings, 0.0f);
	drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_BLE, false);
	poll.wsettings = poll.settings_due = true;
	r = FEED_HEX(&poll, &rx, DALYN_01 DALYN_08, chunks_big);
	CHECK_EQ_INT(r.ok, 2);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(cur_start(&poll), -1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_dalyn08_settings_bal(&poll.kept.settings, 0.0f);
	drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_BLE, false);
	poll.wsettings = poll.settings_due = true;
	r = FEED_HEX(&poll, &rx, DALYN_01 "d283023108", chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(cur_start(&poll), -1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	/* with control the settings read is the poll's own: its failure fails the try */
	drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_BLE, false);
	poll.wsettings = poll.settings_due = poll.setpoints = true;
	r = FEED_HEX(&poll, &rx, DALYN_01, chunks_big);
	CHECK(!drv->timeout(&poll));
	CHECK(req_is(&poll, D2_REQ_SETTINGS));
	/* not due: the status read alone */
	drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_BLE, false);
	poll.wsettings = true;
	r = FEED_HEX(&poll, &rx, DALYN_01, chunks_big);
	CHECK_EQ_INT(cur_start(&poll), -1);
}

/* Settings out of range are left out; a broken settings answer changes
 * nothing kept. */
static void test_d2_settings_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	uint8_t f[256];
	int n = check_hex(DALYN_08, f, (int)sizeof(f));
	f[3 + 2 * 0x0C] = 0x30; /* cell OVP 0x8C: 0x30AC = 12460 mV */
	f[3 + 2 * 0x18] = 0x01; /* charge OTP 0x98: 0x0155, beyond 240 */
	f[3 + 2 * 0x03 + 1] = 0; /* no cells on board 1 */
	put_crc(f, (size_t)n - 2);
	drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_BLE, false);
	poll.setpoints = true;
	struct drive_res r = FEED_HEX(&poll, &rx, DALYN_01, chunks_big);
	bms_rx_clear(&rx);
	r = FEED_BYTES(&poll, &rx, f, (size_t)n, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	const struct bms_settings *st = &poll.kept.settings;
	CHECK(!bms_settings_has(st, BMS_SET_CELL_OVP_V));
	CHECK(!bms_settings_has(st, BMS_SET_CHARGE_OTP_C));
	CHECK(!bms_settings_has(st, BMS_SET_CELL_COUNT));
	CHECK_NEAR(st->v[BMS_SET_CELL_UVP_V], 2.6f, 1e-6);
	struct bms_settings was = *st;
	/* a bad CRC, then a cut answer: refused, the settings kept */
	n = check_hex(DALYN_08, f, (int)sizeof(f));
	drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_BLE, false);
	poll.setpoints = true;
	r = FEED_HEX(&poll, &rx, DALYN_01, chunks_big);
	bms_rx_clear(&rx);
	f[10] ^= 0x10;
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n), BMS_E_CHECKSUM);
	f[10] ^= 0x10;
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n - 2), BMS_E_SHORT);
	CHECK(memcmp(&was, &poll.kept.settings, sizeof(was)) == 0);
	/* without control the settings are not read: none */
	struct bms_poll fresh = { 0 };
	drive_begin_link(&fresh, &rx, 1, 0, false, BMS_LINK_BLE, false);
	r = FEED_HEX(&fresh, &rx, DALYN_01, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK(fresh.kept.settings.have == 0);
}

static void test_ble_dialects(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;

	CHECK(drv->ble->gatt != NULL);
	CHECK_STR(drv->ble->gatt[0].service, "0000fff0-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].notify, "0000fff1-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].write, "0000fff2-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[1].service, "0000ff00-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[1].notify, "0000ff01-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[1].write, "0000ff02-0000-1000-8000-00805f9b34fb");
	CHECK(drv->ble->gatt[2].service == NULL);
	CHECK(!bms_ble_only(drv) && drv->ble->company == 0 && drv->listens == NULL);

	/* nothing known: D2 first (DALYN-REQ-1), then the tries alternate */
	drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_BLE, true);
	CHECK(req_is(&poll, DALYN_REQ_1));
	CHECK(!drv->timeout(&poll));
	poll.attempt = 1;
	CHECK(req_is(&poll, DALYN_REQ_3));
	CHECK(!drv->timeout(&poll));
	poll.attempt = 2;
	CHECK(req_is(&poll, DALYN_REQ_1));
	/* the next poll goes on where this one left off, also after a
	 * reconnection (a pack that is failing gets one try per poll) */
	CHECK(!drv->timeout(&poll));
	drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_BLE, true);
	CHECK(req_is(&poll, DALYN_REQ_3));
	CHECK(!drv->timeout(&poll));
	drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_BLE, false);
	CHECK(req_is(&poll, DALYN_REQ_1));

	/* D2 answers: one read is the whole poll; D2 is kept */
	r = FEED_HEX(&poll, &rx, DALYN_01, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err + r.unexpected + r.bad_scan, 0);
	CHECK_EQ_INT(cur_start(&poll), -1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_dalyn01(&poll.snap, false);
	uint32_t learned = poll.persist;
	for (int k = 0; k < 2; k++) {
		drive_begin_link(&poll, &rx, 1, 0, k == 1, BMS_LINK_BLE, k == 0);
		poll.attempt = 1; /* a retry asks in the learned dialect too */
		CHECK(req_is(&poll, DALYN_REQ_1));
		poll.attempt = 0;
		r = FEED_HEX(&poll, &rx, DALYN_01, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		check_dalyn01(&poll.snap, k == 1);
		CHECK_EQ_INT(poll.persist, learned);
	}
	/* the 24-cell D2 dump, notified whole, as 20-byte pieces, and split
	 * at every boundary into two notifications */
	uint8_t f[300];
	int n = check_hex(DALYN_02, f, (int)sizeof(f));
	CHECK_EQ_INT(n, 129);
	for (int k = 1; k < n; k++) {
		const size_t two[] = { (size_t)k, (size_t)(n - k) };
		drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_BLE, false);
		r = FEED_BYTES(&poll, &rx, f, (size_t)n, two);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.err + r.unexpected + r.bad_scan + r.badsum, 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	}
	check_dalyn02(&poll.snap);
	static const size_t twenty[] = { 20 };
	drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_BLE, false);
	r = FEED_BYTES(&poll, &rx, f, (size_t)n, twenty);
	CHECK_EQ_INT(r.ok, 1);
	check_dalyn02(&poll.snap);

	/* with the switch settings (a pack with control): 0x80..0xA8 */
	drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_BLE, false);
	poll.setpoints = true;
	CHECK(req_is(&poll, DALYN_REQ_1));
	r = FEED_HEX(&poll, &rx, DALYN_01, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	bms_rx_clear(&rx);
	CHECK(req_is(&poll, D2_REQ_SETTINGS));
	r = FEED_HEX(&poll, &rx, DALYN_08, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(cur_start(&poll), -1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(poll.snap.present & BMS_HAS_SETPOINT);
	CHECK(poll.snap.chg_set && poll.snap.dsg_set);
	CHECK(!poll.snap.chg_mos); /* DALYN-01's MOSFET, not the setting */
	check_dalyn08_settings(&poll.kept.settings);
	/* a switch set off: 0xA6 = 0 */
	n = check_hex(DALYN_08, f, (int)sizeof(f));
	f[3 + 2 * 0x26 + 1] = 0;
	put_crc(f, (size_t)n - 2);
	drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_BLE, false);
	poll.setpoints = true;
	r = FEED_HEX(&poll, &rx, DALYN_01, chunks_big);
	bms_rx_clear(&rx);
	r = FEED_BYTES(&poll, &rx, f, (size_t)n, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK(poll.snap.chg_set && !poll.snap.dsg_set);

	/* a learned dialect that fails is asked once more, then the search
	 * starts over */
	drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_BLE, false);
	CHECK(!drv->timeout(&poll));
	poll.attempt = 1;
	CHECK(req_is(&poll, DALYN_REQ_1));
	CHECK(!drv->timeout(&poll));
	poll.attempt = 2;
	CHECK(req_is(&poll, DALYN_REQ_3));

	/* ... and the ESS DL BMS answers in the 0x81 dialect (the wire's two
	 * reads, from 0x51): learned; a late D2 answer is not its answer */
	r = FEED_HEX(&poll, &rx, DALYN_01 DALYN_06, chunks_rand);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(r.ok, 1);
	bms_rx_clear(&rx);
	CHECK(req_is(&poll, DALYN_REQ_4));
	r = FEED_HEX(&poll, &rx, DALYN_07, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(cur_start(&poll), -1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_dalyn0607(&poll.snap);
	drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_BLE, true);
	CHECK(req_is(&poll, DALYN_REQ_3));
	r = FEED_HEX(&poll, &rx, DALYN_02, chunks_big); /* D2 now: not ours */
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(r.ok, 0);
	/* the first read answered in 0x81, a D2 answer to the second is not */
	r = FEED_HEX(&poll, &rx, DALYN_06, chunks_one);
	CHECK_EQ_INT(r.ok, 1);
	CHECK(!drv->timeout(&poll)); /* a later read's timeout changes nothing */
	CHECK(req_is(&poll, DALYN_REQ_4));
	r = FEED_HEX(&poll, &rx, DALYN_01 DALYN_07, chunks_big);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	/* the same BMS on a wire: D2 frames are no frames at all */
	drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_WIRE, false);
	poll.persist = 0;
	CHECK(req_is(&poll, REQ_MAIN_1));
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(poll.persist, 0);
	r = FEED_HEX(&poll, &rx, DALYN_01, chunks_big);
	CHECK_EQ_INT(r.frames, 0);
}

/* Other dialects and other protocols of the family are never frames. */
static void test_foreign(void)
{
	static const char *const foreign[] = {
		DALYN_01, DALYN_02, DALYN_REQ_1, DALYN_REQ_2, JKPB_REQ_1, JKPB_REQ_2, JKPB_REQ_3,
		JKPB_REQ_4, JKPB_REQ_5,
	};
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };

	for (size_t k = 0; k < sizeof(foreign) / sizeof(foreign[0]); k++) {
		for (int step = 0; step < 2; step++) {
			drive_begin(&poll, &rx, 1, 0, false);
			poll.step = step;
			struct drive_res r = FEED_HEX(&poll, &rx, foreign[k], chunks_odd);
			CHECK_EQ_INT(r.frames, 0);
			CHECK_EQ_INT(r.bad_scan, 0);
			CHECK(rx.len < 3); /* at most a possible frame start */
			CHECK_EQ_INT(poll.snap.present, 0);
		}
	}
	/* D2 replies handed straight to handle(): wrong address byte */
	uint8_t f[200];
	int n = check_hex(DALYN_01, f, (int)sizeof(f));
	CHECK_EQ_INT(n, 129);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n), BMS_E_HEADER);
	n = check_hex(DALYN_02, f, (int)sizeof(f));
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n), BMS_E_HEADER);
	/* a D2 reply followed by the p81 one: only the latter counts */
	struct drive_res r = FEED_HEX(&poll, &rx, DALYN_01 DALYN_04, chunks_rand);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.skipped, 129);
	check_dalyn04(&poll.snap, false);
}

/* A 16S pack with sensors, balancing, MOS temperature, charging. */
static void test_synthetic(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint16_t img[0x80];
	uint8_t f[256];
	size_t n;
	struct drive_res r = { 0 };

	image(img, 16, 3);
	img[0x31] = 0xFF;      /* sensor 2 missing: sensors 1 and 3 remain */
	img[0x4F] = 0x8001;    /* cells 1 and 16 balancing */
	img[0x50] = 0x0003;    /* cells 17, 18: beyond the pack, masked by finish() */
	drive_begin(&poll, &rx, 3, 0, false);
	CHECK_EQ_INT(cur_start(&poll), 0x00);
	n = mk_main(f, 3, img);
	drive_feed(&poll, &rx, f, n, chunks_odd, DRIVE_NCH(chunks_odd), &r);
	n = mk_status(f, 3, img);
	drive_feed(&poll, &rx, f, n, chunks_one, 1, &r);
	CHECK_EQ_INT(r.ok, 2);
	CHECK_EQ_INT(r.err + r.unexpected + r.bad_scan, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	struct bms_snapshot *s = &poll.snap;
	CHECK_EQ_INT(s->ncells, 16);
	CHECK_EQ_INT(s->cell_mv[0], 3300);
	CHECK_EQ_INT(s->cell_mv[15], 3315);
	CHECK_NEAR(s->voltage, 53.0, 1e-4);
	CHECK_NEAR(s->current, 5.0, 1e-4);
	CHECK_NEAR(s->soc, 60.5, 1e-4);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[0], 25.0, 1e-6);
	CHECK_NEAR(s->temp_c[1], 27.0, 1e-6);
	CHECK_EQ_INT(s->state, 1);
	CHECK_NEAR(s->remain_ah, 123.4, 1e-3);
	CHECK_EQ_INT(s->cycles, 17);
	CHECK_EQ_INT(s->balance, 0x8001);
	CHECK_NEAR(s->mos_temp_c, 30.0, 1e-6);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK(!(s->present & (BMS_HAS_POWER | BMS_HAS_SOH | BMS_HAS_FULL)));

	/* current sign, offsets and clamps */
	static const struct {
		uint16_t raw_i, raw_soc, raw_mos;
		double i, soc;
		bool mos;
		uint16_t state;
		int want_state;
	} v[] = {
		{ 29900, 1000, 0, -10.0, 100.0, true, 2, 2 },
		{ 30000, 1001, 0xFF, 0.0, 100.0, false, 0, 0 },
		{ 0, 0, 0xFFFF, -3000.0, 0.0, false, 7, 0 },
		{ 65535, 999, 254, 3553.5, 99.9, true, 1, 1 },
	};
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		for (int inv = 0; inv < 2; inv++) {
			image(img, 4, 1);
			img[0x39] = v[k].raw_i;
			img[0x3A] = v[k].raw_soc;
			img[0x5A] = v[k].raw_mos;
			img[0x48] = v[k].state;
			drive_begin(&poll, &rx, 1, 0, inv);
			n = mk_main(f, 1, img);
			CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
			n = mk_status(f, 1, img);
			CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
			CHECK_NEAR(poll.snap.current, inv ? -v[k].i : v[k].i, 1e-2);
			CHECK_NEAR(poll.snap.soc, v[k].soc, 1e-4);
			CHECK_EQ_INT(!!(poll.snap.present & BMS_HAS_MOS_TEMP), v[k].mos);
			if (v[k].mos)
				CHECK_NEAR(poll.snap.mos_temp_c, (double)v[k].raw_mos - 40, 1e-6);
			CHECK_EQ_INT(poll.snap.state, v[k].want_state);
		}
	}

	/* temperature slots: count above 8 is capped; 0x00 is -40 degC */
	image(img, 4, 8);
	img[0x3D] = 200;
	img[0x30] = 0;
	img[0x37] = 254;
	drive_begin(&poll, &rx, 1, 0, false);
	n = mk_main(f, 1, img);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(poll.snap.ntemps, 8);
	CHECK_NEAR(poll.snap.temp_c[0], -40.0, 1e-6);
	CHECK_NEAR(poll.snap.temp_c[7], 214.0, 1e-6);
	/* sensors beyond the count are ignored even if they read a value */
	image(img, 4, 2);
	img[0x32] = 60;
	drive_begin(&poll, &rx, 1, 0, false);
	n = mk_main(f, 1, img);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(poll.snap.ntemps, 2);
	/* count 0: no temperatures */
	image(img, 4, 0);
	img[0x30] = 60;
	drive_begin(&poll, &rx, 1, 0, false);
	n = mk_main(f, 1, img);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(poll.snap.ntemps, 0);
	CHECK(!(poll.snap.present & BMS_HAS_TEMPS));
}

/* Cell counts: 32 fits, 33..48 do not fit the snapshot, > 48 is impossible;
 * a forced count overrides the BMS. */
static void test_cell_counts(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint16_t img[0x80];
	uint8_t f[256];
	size_t n;

	image(img, 32, 2);
	drive_begin(&poll, &rx, 1, 0, false);
	n = mk_main(f, 1, img);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 32);
	CHECK_EQ_INT(poll.snap.cell_mv[31], 3331);

	static const uint16_t bad[] = { 33, 48, 49, 0x100, 0xFFFF };
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		image(img, 32, 2);
		img[0x3C] = bad[k];
		drive_begin(&poll, &rx, 1, 0, false);
		n = mk_main(f, 1, img);
		CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_RANGE);
		CHECK_EQ_INT(poll.step, 0);
		CHECK_EQ_INT(poll.snap.present, 0);
		CHECK_EQ_INT(poll.snap.ncells, 0);
		/* the same with the count forced */
		drive_begin(&poll, &rx, 1, 20, false);
		CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
		CHECK_EQ_INT(poll.snap.ncells, 20);
		CHECK_EQ_INT(poll.snap.cell_mv[19], 3319);
	}
	/* forced beyond the snapshot: 32 */
	image(img, 4, 2);
	drive_begin(&poll, &rx, 1, 60, false);
	n = mk_main(f, 1, img);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 32);
	CHECK_EQ_INT(poll.snap.cell_mv[3], 3303);
	CHECK_EQ_INT(poll.snap.cell_mv[4], 0);
	/* DALYN-04 forced to 3 cells */
	drive_begin(&poll, &rx, 1, 3, false);
	struct drive_res r = FEED_HEX(&poll, &rx, DALYN_04, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 3);
	CHECK_EQ_INT(poll.snap.cell_mv[2], 3235);
	CHECK_EQ_INT(poll.snap.cell_mv[3], 0);
}

/* Each alarm field on its own (bms/PROTOCOLS.md §3.4). */
static void test_alarms(void)
{
	static const struct {
		unsigned word;
		uint16_t value;
		uint32_t al;
	} map[] = {
		{ 0, 0x0001, BMS_AL_CELL_OV },
		{ 0, 0x0002, BMS_AL_CELL_OV | BMS_AL_PROTECTION },
		{ 0, 0x0007, BMS_AL_CELL_OV | BMS_AL_PROTECTION },
		{ 0, 0x0008, BMS_AL_CELL_UV },
		{ 0, 0x0010, BMS_AL_CELL_UV | BMS_AL_PROTECTION },
		{ 0, 0x0040, 0 }, /* smart charger connected */
		{ 0, 0x0080, BMS_AL_COMM },
		{ 0, 0x0100, BMS_AL_CELL_DIFF },
		{ 0, 0x0800, BMS_AL_CHG_OT },
		{ 0, 0x4000, 0 },
		{ 0, 0x8000, BMS_AL_COMM },
		{ 1, 0x0001, BMS_AL_CHG_UT },
		{ 1, 0x0018, BMS_AL_DSG_OT | BMS_AL_PROTECTION },
		{ 1, 0x0040, BMS_AL_MOS_OT },
		{ 1, 0x0080, BMS_AL_SENSOR },
		{ 1, 0x0100, BMS_AL_DSG_UT },
		{ 1, 0x0800, BMS_AL_TEMP_DIFF },
		{ 1, 0x4000, BMS_AL_MOS_OT },
		{ 1, 0x8000, BMS_AL_SENSOR },
		{ 2, 0x0001, BMS_AL_PACK_OV },
		{ 2, 0x0008, BMS_AL_PACK_UV },
		{ 2, 0x0040, BMS_AL_SHORT | BMS_AL_PROTECTION },
		{ 2, 0x0080, 0 }, /* upgrade sign */
		{ 2, 0x0100, BMS_AL_CHG_OC },
		{ 2, 0x1000, BMS_AL_DSG_OC | BMS_AL_PROTECTION },
		{ 2, 0x4000, BMS_AL_OTHER },
		{ 2, 0x8000, BMS_AL_OTHER },
		{ 3, 0x0001, BMS_AL_SOC_LOW },
		{ 3, 0x0008, BMS_AL_OTHER },
		{ 3, 0x0040, 0 }, /* parallel comm ok */
		{ 3, 0x0080, BMS_AL_COMM },
		{ 3, 0x0100, BMS_AL_MOS_OT },
		{ 3, 0x0800, BMS_AL_OTHER },
		{ 3, 0xC000, 0 }, /* undefined */
		{ 4, 0xFFFF, 0 }, /* 0x71 reserved */
		{ 5, 0x00FF, 0 },
		{ 5, 0x0100, BMS_AL_HW_FAULT },
		{ 5, 0x0200, BMS_AL_COMM },
		{ 5, 0x4000, BMS_AL_HW_FAULT },
		{ 5, 0x8000, BMS_AL_SENSOR },
		{ 6, 0x0001, BMS_AL_SENSOR },
		{ 6, 0x0002, BMS_AL_HW_FAULT },
		{ 6, 0x0010, BMS_AL_MOS_FAULT },
		{ 6, 0x0040, BMS_AL_MOS_FAULT },
		{ 6, 0x0080, BMS_AL_HW_FAULT },
		{ 6, 0x7F00, 0 }, /* MOS off by bus / switch, fan, heater, current limit */
		{ 6, 0x8000, BMS_AL_HW_FAULT },
	};
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint16_t img[0x80];
	uint8_t f[256];

	for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
		image(img, 4, 1);
		img[0x6D + map[k].word] = map[k].value;
		drive_begin(&poll, &rx, 1, 0, false);
		poll.step = 1;
		size_t n = mk_status(f, 1, img);
		CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
		if (poll.snap.alarms != map[k].al)
			fprintf(stderr, "alarm word 0x%x value 0x%04x\n", 0x6D + map[k].word, map[k].value);
		CHECK_EQ_INT(poll.snap.alarms, map[k].al);
		CHECK_EQ_INT(poll.snap.nraw, 4);
		for (unsigned w = 0; w < 4; w++)
			CHECK_EQ_INT(poll.snap.raw_alarms[w], w == map[k].word ? map[k].value : 0);
	}
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[300], g[300];
	size_t n, fl;
	struct drive_res r;
	int len04 = check_hex(DALYN_04, f, (int)sizeof(f));

	CHECK_EQ_INT(len04, 133);

	/* bad checksum (each byte of the frame in turn): skipped, never a frame */
	for (int i = 0; i < len04; i++) {
		memcpy(g, f, (size_t)len04);
		g[i] ^= 0x10;
		drive_begin(&poll, &rx, 1, 0, false);
		r = (struct drive_res){ 0 };
		drive_feed(&poll, &rx, g, (size_t)len04, chunks_big, 1, &r);
		CHECK_EQ_INT(r.frames, 0);
		if (i >= 3) {
			CHECK(r.badsum >= 1); /* a whole frame whose CRC failed */
			CHECK_EQ_INT(drv->handle(&poll, g, (size_t)len04), BMS_E_CHECKSUM);
		}
		CHECK_EQ_INT(poll.snap.present, 0);
	}
	memcpy(g, f, (size_t)len04);
	g[50] ^= 1;
	CHECK_EQ_INT(drv->scan(&poll, g, (size_t)len04, &fl), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(fl, 1);

	/* a bad copy followed by a good one */
	drive_begin(&poll, &rx, 1, 0, false);
	r = (struct drive_res){ 0 };
	drive_feed(&poll, &rx, g, (size_t)len04, chunks_odd, DRIVE_NCH(chunks_odd), &r);
	drive_feed(&poll, &rx, f, (size_t)len04, chunks_odd, DRIVE_NCH(chunks_odd), &r);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.skipped, (size_t)len04);
	check_dalyn04(&poll.snap, false);

	/* truncated: every prefix needs more bytes; handle() refuses wrong lengths */
	for (int k = 0; k < len04; k++)
		CHECK_EQ_INT(drv->scan(&poll, f, (size_t)k, &fl), BMS_SCAN_NEED);
	CHECK_EQ_INT(drv->handle(&poll, f, 132), BMS_E_SHORT);
	CHECK_EQ_INT(drv->handle(&poll, f, 4), BMS_E_SHORT);
	CHECK_EQ_INT(drv->handle(&poll, f, 0), BMS_E_SHORT);
	/* a frame cut after 9 bytes, then the whole frame (sim fault truncate) */
	drive_begin(&poll, &rx, 1, 0, false);
	r = (struct drive_res){ 0 };
	drive_feed(&poll, &rx, f, 9, chunks_one, 1, &r);
	drive_feed(&poll, &rx, f, (size_t)len04, chunks_rand, DRIVE_NCH(chunks_rand), &r);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.skipped, 9);
	check_dalyn04(&poll.snap, false);

	/* garbage merged before and after, with fake headers */
	drive_begin(&poll, &rx, 1, 0, false);
	r = FEED_HEX(&poll, &rx, "00 ff 51 51 03 51 03 80 00 81 03 00 12 52 83 07 11 22 55" DALYN_04 "51 03",
		 chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(r.skipped, 19);
	CHECK_EQ_INT(rx.len, 2); /* a possible frame start waits for more */
	check_dalyn04(&poll.snap, false);

	/* a reply header with a byte count we never ask for is no frame start */
	CHECK_EQ_INT(check_hex("51 03 02 00 01", g, 16), 5);
	CHECK_EQ_INT(put_crc(g, 5), 7);
	CHECK_EQ_INT(drv->scan(&poll, g, 7, &fl), BMS_SCAN_SKIP);
	CHECK_EQ_INT(fl, 1);
	CHECK_EQ_INT(drv->handle(&poll, g, 7), BMS_E_UNEXPECTED);

	/* wrong read: the status reply while the main read is outstanding */
	drive_begin(&poll, &rx, 1, 0, false);
	r = FEED_HEX(&poll, &rx, DALYN_05 DALYN_04, chunks_odd);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK(!(poll.snap.present & BMS_HAS_ALARMS));
	r = FEED_HEX(&poll, &rx, DALYN_04, chunks_odd); /* and the other way round */
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(cur_start(&poll), 0x41);

	/* wrong board: board 2 polled, board 1 answers */
	drive_begin(&poll, &rx, 2, 0, false);
	r = FEED_HEX(&poll, &rx, DALYN_04, chunks_odd);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(poll.snap.present, 0);
	memcpy(g, f, (size_t)len04);
	g[0] = 0x52;
	put_crc(g, (size_t)len04 - 2);
	CHECK_EQ_INT(drv->handle(&poll, g, (size_t)len04), BMS_OK);
	check_dalyn04(&poll.snap, false);

	/* exception reply: the try fails */
	drive_begin(&poll, &rx, 1, 0, false);
	g[0] = 0x51;
	g[1] = 0x83;
	g[2] = 0x02;
	n = put_crc(g, 3);
	r = (struct drive_res){ 0 };
	drive_feed(&poll, &rx, g, n, chunks_one, 1, &r);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_REFUSED);
	CHECK_EQ_INT(poll.step, 0);
	g[0] = 0x53; /* another board's exception: ignored */
	n = put_crc(g, 3);
	CHECK_EQ_INT(drv->handle(&poll, g, n), BMS_E_UNEXPECTED);
	g[1] = 0x90; /* unknown function */
	n = put_crc(g, 3);
	CHECK_EQ_INT(drv->handle(&poll, g, n), BMS_E_HEADER);
	CHECK_EQ_INT(drv->scan(&poll, g, n, &fl), BMS_SCAN_SKIP);

	/* echo of our requests (and a write request): skipped whole */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(request(&poll, g), 8);
	CHECK_EQ_INT(drv->scan(&poll, g, 8, &fl), BMS_SCAN_SKIP);
	CHECK_EQ_INT(fl, 8);
	r = FEED_HEX(&poll, &rx, REQ_MAIN_1 REQ_STATUS_1 "81 06 01 21 00 00 C7 FC" REQ_MAIN_1 DALYN_04,
		 chunks_odd);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.skipped, 32);
	/* a request-looking header with a bad CRC drops one byte only */
	CHECK_EQ_INT(check_hex("81 03 00 00 00 40 5b fb", g, 16), 8);
	CHECK_EQ_INT(drv->scan(&poll, g, 8, &fl), BMS_SCAN_SKIP);
	CHECK_EQ_INT(fl, 1);
	CHECK_EQ_INT(drv->scan(&poll, g, 7, &fl), BMS_SCAN_NEED);

	/* rx overflow with garbage: nothing breaks */
	uint8_t junk[3000];
	for (size_t k = 0; k < sizeof(junk); k++)
		junk[k] = (uint8_t)(k * 7 + (k >> 3));
	drive_begin(&poll, &rx, 1, 0, false);
	r = (struct drive_res){ 0 };
	drive_feed(&poll, &rx, junk, sizeof(junk), chunks_big, 1, &r);
	drive_feed(&poll, &rx, junk, sizeof(junk), chunks_rand, DRIVE_NCH(chunks_rand), &r);
	CHECK_EQ_INT(r.bad_scan, 0);
	CHECK_EQ_INT(r.ok, 0);

	/* nothing outstanding: no frame is taken */
	drive_begin(&poll, &rx, 1, 0, false);
	poll.step = 2;
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)len04), BMS_E_UNEXPECTED);
	poll.step = -1;
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)len04), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(request(&poll, g), 0);
}

/* finish(): unusable samples. */
static void test_finish(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint16_t img[0x80];
	uint8_t f[256];
	size_t n;

	/* 0 cells */
	image(img, 0, 1);
	drive_begin(&poll, &rx, 1, 0, false);
	n = mk_main(f, 1, img);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	n = mk_status(f, 1, img);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* 0 V */
	image(img, 4, 1);
	img[0x38] = 0;
	drive_begin(&poll, &rx, 1, 0, false);
	n = mk_main(f, 1, img);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	n = mk_status(f, 1, img);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* nothing at all */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* balance beyond the cells is dropped; 32 cells keep all bits */
	image(img, 4, 1);
	img[0x4F] = 0xFFFF;
	img[0x50] = 0xFFFF;
	drive_begin(&poll, &rx, 1, 0, false);
	n = mk_main(f, 1, img);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	n = mk_status(f, 1, img);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.balance, 0xF);
	image(img, 32, 1);
	img[0x4F] = 0xFFFF;
	img[0x50] = 0xFFFF;
	img[0x51] = 0xFFFF;
	drive_begin(&poll, &rx, 1, 0, false);
	n = mk_main(f, 1, img);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	n = mk_status(f, 1, img);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.balance, 0xFFFFFFFFu);
}

int main(void)
{
	test_crc_helper();
	test_requests();
	test_dalyn04();
	test_dalyn05();
	test_full_poll();
	test_ble_dialects();
	test_foreign();
	test_synthetic();
	test_cell_counts();
	test_alarms();
	test_broken();
	test_finish();
	test_d2_settings_broken();
	test_d2_wsettings();
	return check_report();
}
