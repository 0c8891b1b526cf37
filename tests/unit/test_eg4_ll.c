/* SPDX-License-Identifier: MIT */
/* tests/unit/test_eg4_ll.c - EG4-LL (Modbus RTU) driver: the EG4LL rows of
 * tests/fixtures/vectors.tsv (the live block and the identity of a 51.2 V
 * 100 Ah pack at slave 2) through scan() + handle() fed in every chunking,
 * a 12 V pack's live block whose 0xC8 temperature slot is a sensor fault,
 * not a lost poll,
 * built answers for what the captures do not show (every alarm bit, status,
 * negative temperatures, limits, balancing), whole polls through finish(),
 * the identity refused, and broken input (bad CRC, truncated, another
 * address, impossible byte and cell counts).  Protocol facts:
 * bms/PROTOCOLS.md §18, §23. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static const struct bms_driver *const drv = &bms_eg4_ll_driver;

#include "mb_check.h"

/* tests/fixtures/vectors.tsv, family modbus */
#define EG4LL_REQ_01 "02030000002705e3"
#define EG4LL_01 "02034e14f600780d1a0d190d1b0d1b0d1a0d1b0d1a0d1b0d1a0d1b0d1a0d1a0d1a0d1b0d1a0d1a00" \
	"19001b0018006100640064006100010000000000000000000b15752a00181818180000001003e800" \
	"004e71"
#define EG4LL_REQ_02 "020300690017d5eb"
#define EG4LL_02 "02032e4c46502d35312e325631303041682d56312e3000000000005a3032543034323032322d3130" \
	"2d32360000000000004818"

/* A 12 V pack at slave 1 (over Bluetooth LE), whose second temperature
 * slot holds 0xC8: a sensor it does not have (tests/fixtures/README.md) */
#define EG4LL_REQ_03 "01030000002705d0"
#define EG4LL_03 "01034e052cffc20cee0cf10ced0cf1000000000000000000000000000000000000000000000000" \
	"001100110011000002ee006400300002000000000000000000000000000011c80000000000040000" \
	"0000c434"

static const uint16_t cells_01[16] = { 3354, 3353, 3355, 3355, 3354, 3355, 3354, 3355,
				       3354, 3355, 3354, 3354, 3354, 3355, 3354, 3354 };


/* The registers 0..38 of EG4LL-01. */
static void regs_01(uint16_t *v)
{
	uint8_t f[MB_MAX_FRAME];
	size_t n = mb_hex(EG4LL_01, f);
	CHECK_EQ_INT(n, 5 + 2 * 39);
	for (int i = 0; i < 39; i++)
		v[i] = (uint16_t)(f[3 + 2 * i] << 8 | f[4 + 2 * i]);
}

static void check_01(const struct bms_snapshot *s, bool inv)
{
	drive_check_cells(s, cells_01, 16);
	CHECK_NEAR(s->voltage, 53.66, 1e-4);
	/* 0x0078: 1.20 A in the document's 10 mA (§23.5: UNCERTAIN per model) */
	CHECK_NEAR(s->current, inv ? -1.20 : 1.20, 1e-4);
	CHECK_NEAR(s->mos_temp_c, 25.0, 1e-6);
	CHECK_EQ_INT(s->ntemps, 4);
	for (int k = 0; k < 4; k++)
		CHECK_NEAR(s->temp_c[k], 24.0, 1e-6);
	CHECK_NEAR(s->soc, 97.0, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_EQ_INT(s->cycles, 11);
	CHECK_NEAR(s->full_ah, 100.0, 1e-4);
	CHECK_NEAR(s->bms_ccl_a, 100.0, 1e-6);
	CHECK(isnan(s->bms_dcl_a));
	CHECK_EQ_INT(s->state, 1);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 4);
	CHECK_EQ_INT(s->raw_alarms[0], 0x0001);
	CHECK_EQ_INT(s->balance, 0);
	/* "Cap Remaining" (reg 21) has no unit in the document: not read */
	CHECK(!(s->present & BMS_HAS_REMAIN));
}

static void live_ok(const struct bms_poll *poll)
{
	check_01(&poll->snap, poll->invert_current);
	CHECK_EQ_INT(poll->snap.present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		     BMS_HAS_MOS_TEMP | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_CYCLES | BMS_HAS_FULL |
		     BMS_HAS_ALARMS | BMS_HAS_BALANCE | BMS_HAS_CUR_LIMITS);
}

static void check_02(const struct bms_ident *id)
{
	CHECK_STR(id->model, "LFP-51.2V100Ah-V1.0");
	CHECK_STR(id->firmware, "Z02T04");
	CHECK_STR(id->serial, "2022-10-26");
	CHECK_STR(id->vendor, "");
}

static void ident_ok(const struct bms_poll *poll)
{
	check_02(&poll->kept.ident);
	CHECK_EQ_INT(poll->kept.ident_state, BMS_IDENT_HAVE);
}


static void test_table(void)
{
	mb_check_table("eg4-ll", 17, 9600, 1, 247, 0);
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t req[16];
	static const uint16_t documented[][3] = { { 0x03, 0x0000, 39 }, { 0x03, 0x0069, 23 } };

	drive_begin(&poll, &rx, 2, 0, false);
	CHECK(mb_req_is(&poll, EG4LL_REQ_01));
	poll.step = 1;
	CHECK(mb_req_is(&poll, EG4LL_REQ_02));
	/* the DIP addresses and 0x40, where packs without switches answer */
	static const uint8_t addrs[] = { 1, 16, 0x40, 247 };
	for (size_t k = 0; k < sizeof(addrs); k++) {
		drive_begin(&poll, &rx, addrs[k], 0, false);
		CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 8);
		CHECK_EQ_INT(req[0], addrs[k]);
		mb_reads_only(&poll, documented, 2);
	}
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), BMS_E_RANGE);
	drive_begin(&poll, &rx, 248, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), BMS_E_RANGE);
}

static void test_captures(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	size_t n;

	for (int inv = 0; inv < 2; inv++) {
		drive_begin(&poll, &rx, 2, 0, inv);
		mb_every_chunking(&poll, f, mb_hex(EG4LL_01, f), live_ok);
		CHECK_EQ_INT(mb_cur(&poll), 0x0069);
	}
	mb_every_chunking(&poll, f, mb_hex(EG4LL_02, f), ident_ok);
	CHECK_EQ_INT(mb_cur(&poll), -1);
	/* a forced cell count */
	drive_begin(&poll, &rx, 2, 12, false);
	n = mb_hex(EG4LL_01, f);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	drive_check_cells(&poll.snap, cells_01, 12);
}

/* EG4LL-03: what the driver reads, then what the poller does with it
 * (bms_sensor_faults, then the plausibility table): the 0xC8 slot is an
 * absent sensor and a sensor fault, and the pack is served. */
static void test_sensor_fault(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	static const uint16_t cells[4] = { 3310, 3313, 3309, 3313 };

	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(mb_req_is(&poll, EG4LL_REQ_03));
	CHECK_EQ_INT(drv->handle(&poll, f, mb_hex(EG4LL_03, f)), BMS_OK);
	CHECK(drv->timeout(&poll)); /* the identity: not in the recording */
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	struct bms_snapshot *s = &poll.snap;
	drive_check_cells(s, cells, 4);
	CHECK_NEAR(s->voltage, 13.24, 1e-4);
	CHECK_NEAR(s->current, -0.62, 1e-4); /* the document's 10 mA (§23.2) */
	CHECK_NEAR(s->mos_temp_c, 17.0, 1e-6);
	CHECK_NEAR(s->soc, 48.0, 1e-6);
	CHECK_EQ_INT(s->state, 2);
	CHECK_EQ_INT(s->ntemps, 4);
	CHECK_NEAR(s->temp_c[0], 17.0, 1e-6);
	CHECK_NEAR(s->temp_c[1], -56.0, 1e-6); /* 0xC8 as it is on the wire */
	CHECK_EQ_INT(s->alarms, 0);
	/* the poller's gate */
	float was[BMS_MAX_TEMPS + 1];
	CHECK_EQ_INT(bms_sensor_faults(s, was), 1u << 1);
	CHECK_NEAR(was[1], -56.0, 1e-6);
	struct bms_implausible why;
	memset(&why, 0, sizeof(why));
	CHECK(bms_plausible(s, &why));
	CHECK_STR(why.field, "");
	CHECK_EQ_INT(s->ntemps, 4);
	CHECK_NEAR(s->temp_c[0], 17.0, 1e-6);
	CHECK(isnan(s->temp_c[1]));
	CHECK(s->present & BMS_HAS_MOS_TEMP);
	CHECK_EQ_INT(s->alarms, BMS_AL_SENSOR);
	CHECK_EQ_INT(s->sensor_faults, (1u << 1) | BMS_FAULT_ALARM);
	CHECK_EQ_INT(bms_own_alarms(s), 0);
	/* its cells and current still count: a broken cell rejects it */
	drive_begin(&poll, &rx, 1, 0, false);
	size_t n = mb_hex(EG4LL_03, f);
	f[3 + 2 * 2] = 0xFF; /* cell 1: 0xFFEE */
	uint16_t crc = bms_crc16_modbus(f, n - 2);
	f[n - 2] = (uint8_t)crc;
	f[n - 1] = (uint8_t)(crc >> 8);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	bms_sensor_faults(&poll.snap, NULL);
	CHECK(!bms_plausible(&poll.snap, &why));
	CHECK_STR(why.field, "cell 1");
}

/* The live block v[0..39) as slave 2 answers it, handled by a fresh poll. */
static const struct bms_snapshot *live(struct bms_poll *poll, const uint16_t *v, int want)
{
	uint8_t f[MB_MAX_FRAME];
	struct bms_rx rx = { 0 };
	drive_begin(poll, &rx, 2, 0, false);
	CHECK_EQ_INT(drv->handle(poll, f, mb_answer(f, 2, 0x03, v, 39)), want);
	return &poll->snap;
}

static void test_built(void)
{
	struct bms_poll poll = { 0 };
	uint16_t v[39];
	const struct bms_snapshot *s;

	/* every warning, protection and error bit (§23.3) */
	static const struct {
		int reg, bit;
		uint32_t al;
	} map[] = {
		{ 26, 0, BMS_AL_PACK_OV }, { 26, 3, BMS_AL_CELL_UV }, { 26, 7, BMS_AL_MOS_OT }, { 26, 12, BMS_AL_SOC_LOW },
		{ 26, 13, BMS_AL_OTHER }, { 27, 1, BMS_AL_CELL_OV | BMS_AL_PROTECTION },
		{ 27, 5, BMS_AL_DSG_OC | BMS_AL_PROTECTION }, { 27, 10, BMS_AL_CHG_UT | BMS_AL_PROTECTION },
		{ 27, 13, BMS_AL_SHORT | BMS_AL_PROTECTION }, { 28, 0, BMS_AL_HW_FAULT }, { 28, 1, BMS_AL_SENSOR },
		{ 28, 4, BMS_AL_CELL_DIFF }, { 26, 15, 0 }, { 28, 15, 0 },
	};
	for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
		regs_01(v);
		v[map[k].reg] = (uint16_t)(1u << map[k].bit);
		s = live(&poll, v, BMS_OK);
		CHECK_EQ_INT(s->alarms, map[k].al);
		CHECK_EQ_INT(s->raw_alarms[map[k].reg - 25], 1u << map[k].bit);
	}
	/* discharging, a negative current, frost, balancing, no limit */
	regs_01(v);
	v[1] = (uint16_t)-2550;
	v[18] = (uint16_t)-5;
	v[25] = 0x0002;
	v[33] = 0xF6FF; /* -10, -1 */
	v[22] = 0;
	v[38] = 0x8001;
	s = live(&poll, v, BMS_OK);
	CHECK_NEAR(s->current, -25.5, 1e-4);
	CHECK_NEAR(s->mos_temp_c, -5.0, 1e-6);
	CHECK_NEAR(s->temp_c[0], -10.0, 1e-6);
	CHECK_NEAR(s->temp_c[1], -1.0, 1e-6);
	CHECK_EQ_INT(s->state, 2);
	CHECK_EQ_INT(s->balance, 0x8001);
	CHECK_NEAR(s->bms_ccl_a, 0.0, 1e-9);
	/* a limit beyond what a register can serve is none */
	v[22] = 0xFFFF;
	s = live(&poll, v, BMS_OK);
	CHECK(!(s->present & BMS_HAS_CUR_LIMITS));
	/* SOC / SOH above 100 % read as 100 % */
	v[23] = 180;
	v[24] = 101;
	s = live(&poll, v, BMS_OK);
	CHECK_NEAR(s->soc, 100.0, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	/* fewer cells: the count rules; an impossible count fails the step */
	regs_01(v);
	v[36] = 4;
	s = live(&poll, v, BMS_OK);
	drive_check_cells(s, cells_01, 4);
	v[36] = 17;
	live(&poll, v, BMS_E_RANGE);
	v[36] = 0;
	live(&poll, v, BMS_OK);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

static void test_full_poll(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t a1[MB_MAX_FRAME], a2[MB_MAX_FRAME];
	struct drive_answer ans[] = {
		{ a1, mb_hex(EG4LL_01, a1), chunks_odd, DRIVE_NCH(chunks_odd), 0, 8 },
		{ a2, mb_hex(EG4LL_02, a2), chunks_rand, DRIVE_NCH(chunks_rand), 0, 8 },
	};
	struct drive_res r = { 0 };

	drive_begin(&poll, &rx, 2, 0, false);
	CHECK_EQ_INT(drive_poll(&poll, &rx, ans, 2, &r), BMS_OK);
	bms_snapshot_derive(&poll.snap);
	check_01(&poll.snap, false);
	check_02(&poll.kept.ident);
	CHECK_NEAR(poll.snap.power, 53.66 * 1.20, 1e-3);
	/* later polls read the live block only */
	bms_poll_begin(&poll, 2, 0, false);
	bms_rx_clear(&rx);
	CHECK_EQ_INT(drive_poll(&poll, &rx, ans, 1, &r), BMS_OK);
	/* a (re)opened link asks the identity again */
	bms_poll_begin(&poll, 2, 0, false);
	poll.link_fresh = true;
	bms_rx_clear(&rx);
	CHECK_EQ_INT(drive_poll(&poll, &rx, ans, 2, &r), BMS_OK);
	/* the identity refused: the poll goes on, counted, not asked again */
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, a1, ans[0].len), BMS_OK);
	CHECK_EQ_INT(drv->handle(&poll, a2, mb_exception(a2, 2, 0x03, 0x02)), BMS_OK);
	CHECK_EQ_INT(poll.refusals, 1);
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_NONE);
	CHECK_EQ_INT(mb_cur(&poll), -1);
	/* ... or not answered at all: the step times out, the poll completes */
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, a1, mb_hex(EG4LL_01, a1)), BMS_OK);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(poll.refusals, 0);
	CHECK_EQ_INT(mb_cur(&poll), -1);
	/* the live block refused or silent fails the try */
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, a2, mb_exception(a2, 2, 0x03, 0x02)), BMS_E_REFUSED);
	CHECK(!drv->timeout(&poll));
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];

	drive_begin(&poll, &rx, 2, 0, false);
	mb_broken(&poll, f, mb_hex(EG4LL_01, f));
	poll.step = 1;
	mb_broken(&poll, f, mb_hex(EG4LL_02, f));
	/* the identity's answer while the live block is outstanding: not it */
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_hex(EG4LL_02, f)), BMS_E_UNEXPECTED);
	/* the answer of slave 2 to a pack at 0x40: not its */
	drive_begin(&poll, &rx, 0x40, 0, false);
	CHECK_EQ_INT(mb_not_taken(&poll, f, mb_hex(EG4LL_01, f)), 0);
}

int main(void)
{
	test_table();
	test_requests();
	test_captures();
	test_sensor_fault();
	test_built();
	test_full_poll();
	test_broken();
	return check_report();
}
