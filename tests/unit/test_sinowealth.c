/* SPDX-License-Identifier: MIT */
/* tests/unit/test_sinowealth.c - Sinowealth (Daly 3S-4S BMStool) driver: the
 * sino rows of tests/fixtures/vectors.tsv through scan() + handle() fed in
 * odd chunks, whole polls through finish(), and broken input.  Protocol
 * facts: bms/PROTOCOLS.md §4. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdint.h>

static const struct bms_driver *const drv = &bms_sinowealth_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family sino: request -> response of rows
 * SINO-01 and SINO-02 */
#define SINO_01_REQ "0a0102"
#define SINO_01_RSP "0d03fd"
#define SINO_02_REQ "0a0b02"
#define SINO_02_RSP "340d0f"

static const size_t chunks_odd[] = { 1, 2, 1, 3, 5, 1, 1, 4, 2, 7 };

/* The test's own CRC-8/SMBUS (checked against SINO-01/02). */
static uint8_t crc8(const uint8_t *p, size_t n)
{
	uint8_t crc = 0;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x80) ? (uint8_t)((crc << 1) ^ 0x07) : (uint8_t)(crc << 1);
	}
	return crc;
}

/* The answer to `req` carrying `v` (req[2] bytes, big-endian). */
static size_t mk(uint8_t *f, const uint8_t *req, uint32_t v)
{
	uint8_t tmp[16];
	size_t len = req[2];
	memcpy(tmp, req, 3);
	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
	memcpy(tmp + 3, f, len);
	f[len] = crc8(tmp, 3 + len);
	return len + 1;
}

/* Register of the outstanding request, 0 when the poll is complete. */
static int cur_reg(struct bms_poll *poll)
{
	uint8_t req[8];
	int n = drv->next_request(poll, req, sizeof(req));
	if (n == 0)
		return 0;
	if (n != 3 || req[0] != 0x0A)
		return -1;
	if (req[2] != ((req[1] >= 0x10 && req[1] <= 0x12) ? 4 : 2))
		return -2;
	return req[1];
}

/* A 4S pack at rest unless a test changes a register. */
struct pack {
	uint32_t reg[0x19];
};

static void pack_default(struct pack *p)
{
	memset(p, 0, sizeof(*p));
	p->reg[0x17] = 0x0001;        /* (1 & 7) + 3 = 4 cells */
	for (int i = 1; i <= 10; i++)
		p->reg[i] = (uint32_t)(3300 + i);
	p->reg[0x0B] = 13210;         /* 13.210 V */
	p->reg[0x0C] = 2731 + 250;    /* 25.0 degC */
	p->reg[0x0D] = 2731 + 263;    /* 26.3 degC */
	p->reg[0x0E] = 2731 + 305;    /* 30.5 degC */
	p->reg[0x0F] = 0xFFFF;
	p->reg[0x10] = (uint32_t)-2500; /* -2.5 A */
	p->reg[0x11] = 100000;        /* 100 Ah */
	p->reg[0x12] = 60000;         /* 60 Ah */
	p->reg[0x13] = 60;
	p->reg[0x14] = 7;
	p->reg[0x15] = 0x000B;        /* CHG + DSG MOS on, discharging */
	p->reg[0x16] = 0;
}

/* Answer the outstanding request from the pack; returns the register or
 * 0 when the poll is complete. */
static int answer(struct bms_poll *poll, struct bms_rx *rx, const struct pack *p,
		  const size_t *chunks, size_t nchunks, struct drive_res *r)
{
	uint8_t req[8], f[8];
	int n = drv->next_request(poll, req, sizeof(req));
	if (n != 3)
		return n == 0 ? 0 : -1;
	size_t len = mk(f, req, req[1] < 0x19 ? p->reg[req[1]] : 0);
	bms_rx_clear(rx);
	drive_feed(poll, rx, f, len, chunks, nchunks, r);
	return req[1];
}

/* Run a whole poll against the pack; the registers asked in order into
 * asked[] (0-terminated). */
static int run_poll(struct bms_poll *poll, struct bms_rx *rx, const struct pack *p, uint8_t *asked)
{
	struct drive_res r = { 0 };
	int k = 0;

	for (int guard = 0; guard < 40; guard++) {
		int reg = answer(poll, rx, p, chunks_odd, DRIVE_NCH(chunks_odd), &r);
		if (reg <= 0) {
			asked[k] = 0;
			CHECK_EQ_INT(r.err + r.unexpected + r.bad_scan, 0);
			CHECK_EQ_INT(r.ok, k);
			return reg < 0 ? -1 : drv->finish(poll);
		}
		asked[k++] = (uint8_t)reg;
	}
	return -1;
}

/* Answer requests until `reg` is outstanding; false if the poll ends first. */
static bool answer_until(struct bms_poll *poll, struct bms_rx *rx, const struct pack *p, int reg)
{
	struct drive_res r = { 0 };
	for (int guard = 0; guard < 40; guard++) {
		int cur = cur_reg(poll);
		if (cur == reg)
			return r.err + r.unexpected + r.bad_scan == 0;
		if (cur <= 0)
			return false;
		answer(poll, rx, p, chunks_one, 1, &r);
	}
	return false;
}

static void test_crc_helper(void)
{
	uint8_t b[8];
	CHECK_EQ_INT(check_hex(SINO_01_REQ SINO_01_RSP, b, 8), 6);
	CHECK_EQ_INT(crc8(b, 5), b[5]);
	CHECK_EQ_INT(check_hex(SINO_02_REQ SINO_02_RSP, b, 8), 6);
	CHECK_EQ_INT(crc8(b, 5), b[5]);
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct pack p;
	uint8_t req[8], asked[40];
	static const uint8_t order4[] = {
		/* registers without a tight range are read until a value came twice */
		0x17, 0x17, 0x01, 0x02, 0x03, 0x04, 0x0B, 0x0B, 0x10, 0x13, 0x13, 0x11, 0x12,
		0x14, 0x14, 0x15, 0x15, 0x16, 0x16, 0x0C, 0x0C, 0x0D, 0x0D, 0x0E, 0x0E, 0,
	};

	pack_default(&p);
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(cur_reg(&poll), 0x17);
	CHECK_EQ_INT(run_poll(&poll, &rx, &p, asked), BMS_OK);
	CHECK(memcmp(asked, order4, sizeof(order4)) == 0);
	CHECK_EQ_INT(cur_reg(&poll), 0);
	CHECK_EQ_INT(cur_reg(&poll), 0);

	/* the exact request bytes of SINO-01 / SINO-02 */
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(cur_reg(&poll), 0x17);
	struct drive_res r = { 0 };
	answer(&poll, &rx, &p, chunks_one, 1, &r);
	CHECK_EQ_INT(cur_reg(&poll), 0x17); /* asked again to confirm */
	answer(&poll, &rx, &p, chunks_one, 1, &r);
	CHECK_EQ_INT(drv->next_request(&poll, req, 3), 3);
	uint8_t want[3];
	CHECK_EQ_INT(check_hex(SINO_01_REQ, want, 3), 3);
	CHECK(memcmp(req, want, 3) == 0);
	for (int i = 0; i < 4; i++)
		answer(&poll, &rx, &p, chunks_one, 1, &r);
	CHECK_EQ_INT(drv->next_request(&poll, req, 3), 3);
	CHECK_EQ_INT(check_hex(SINO_02_REQ, want, 3), 3);
	CHECK(memcmp(req, want, 3) == 0);
	CHECK_EQ_INT(r.ok, 6);
	/* 4-byte registers */
	answer(&poll, &rx, &p, chunks_one, 1, &r);
	answer(&poll, &rx, &p, chunks_one, 1, &r);
	CHECK_EQ_INT(drv->next_request(&poll, req, 3), 3);
	CHECK_EQ_INT(req[1], 0x10);
	CHECK_EQ_INT(req[2], 4);
	CHECK_EQ_INT(drv->next_request(&poll, req, 2), BMS_E_NOSPACE);

	/* any configured address is ignored (the protocol has none) */
	bms_poll_begin(&poll, 5, 0, false);
	poll.refresh = true;
	CHECK_EQ_INT(cur_reg(&poll), 0x17);

	/* cell counts from 0x17: (low byte & 7) + 3 */
	for (uint32_t cfg = 0; cfg < 8; cfg++) {
		pack_default(&p);
		p.reg[0x17] = 0xAB50 | cfg;
		drive_begin(&poll, &rx, 0, 0, false);
		CHECK_EQ_INT(run_poll(&poll, &rx, &p, asked), BMS_OK);
		CHECK_EQ_INT(poll.snap.ncells, cfg + 3);
		CHECK_EQ_INT(asked[2 + cfg + 3], 0x0B);
		CHECK_EQ_INT(poll.snap.cell_mv[cfg + 2], 3300 + cfg + 3);
	}

	/* forced cells: 0x17 is not read; at most 10 cells exist */
	static const struct {
		uint8_t forced, cells;
	} fc[] = { { 1, 1 }, { 4, 4 }, { 10, 10 }, { 12, 10 }, { 255, 10 } };
	for (size_t k = 0; k < sizeof(fc) / sizeof(fc[0]); k++) {
		pack_default(&p);
		drive_begin(&poll, &rx, 0, fc[k].forced, false);
		CHECK_EQ_INT(cur_reg(&poll), 0x01);
		CHECK_EQ_INT(run_poll(&poll, &rx, &p, asked), BMS_OK);
		CHECK_EQ_INT(asked[0], 0x01);
		CHECK_EQ_INT(asked[fc[k].cells], 0x0B);
		CHECK_EQ_INT(poll.snap.ncells, fc[k].cells);
		CHECK_EQ_INT(poll.snap.cell_mv[fc[k].cells - 1], 3300 + fc[k].cells);
	}

	/* driver table */
	CHECK_STR(drv->name, "sinowealth");
	CHECK_EQ_INT(drv->protocol_id, 3);
	CHECK_EQ_INT(drv->default_baud, 9600);
	CHECK_EQ_INT(drv->min_address, 0);
	CHECK_EQ_INT(drv->max_address, 0);
	CHECK(drv->gap_floor >= 0 && drv->interbyte > 0 && drv->default_timeout > 0);
	CHECK(!drv->listen_only);
	CHECK(bms_find("sinowealth") == drv);
}

/* SINO-01 and SINO-02 in every chunking, inside a real poll. */
static void test_vectors(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct pack p;
	struct drive_res r;

	for (int k = 0; k < 3; k++) {
		const size_t *ch = k == 0 ? chunks_one : k == 1 ? chunks_odd : chunks_big;
		size_t nch = k == 1 ? DRIVE_NCH(chunks_odd) : 1;

		pack_default(&p);
		drive_begin(&poll, &rx, 0, 0, false);
		r = (struct drive_res){ 0 };
		answer(&poll, &rx, &p, ch, nch, &r); /* 0x17: 4 cells, read twice */
		answer(&poll, &rx, &p, ch, nch, &r);
		CHECK_EQ_INT(cur_reg(&poll), 0x01);
		r = drive_feed_hex(&poll, &rx, SINO_01_RSP, ch, nch);
		CHECK_EQ_INT(r.frames, 1);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.skipped, 0);
		CHECK_EQ_INT(poll.snap.cell_mv[0], 3331); /* source: 3.331 V */
		for (int i = 0; i < 3; i++)
			answer(&poll, &rx, &p, ch, nch, &r);
		CHECK_EQ_INT(cur_reg(&poll), 0x0B);
		r = drive_feed_hex(&poll, &rx, SINO_02_RSP, ch, nch);
		CHECK_EQ_INT(r.ok, 1);
		CHECK(!(poll.snap.present & BMS_HAS_VOLTAGE)); /* not yet confirmed */
		CHECK_EQ_INT(cur_reg(&poll), 0x0B);
		bms_rx_clear(&rx);
		r = drive_feed_hex(&poll, &rx, SINO_02_RSP, ch, nch);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.skipped, 0);
		CHECK_NEAR(poll.snap.voltage, 13.325, 1e-4); /* source: 13.325 V */
		CHECK(poll.snap.present & BMS_HAS_VOLTAGE);
		while (answer(&poll, &rx, &p, ch, nch, &r) > 0)
			;
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		CHECK_EQ_INT(poll.snap.cell_mv[0], 3331);
		CHECK_EQ_INT(poll.snap.cell_mv[1], 3302);
		CHECK_NEAR(poll.snap.voltage, 13.325, 1e-4);
	}

	/* each vector answers only its own request: SINO-02 while cell 1 is
	 * outstanding, and SINO-01 while 0x0B is, are no frames */
	pack_default(&p);
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK(answer_until(&poll, &rx, &p, 0x01));
	r = FEED_HEX(&poll, &rx, SINO_02_RSP, chunks_one);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(r.skipped, 1);
	CHECK_EQ_INT(rx.len, 2); /* may still be the start of an answer */
	r = FEED_HEX(&poll, &rx, SINO_02_RSP SINO_01_RSP, chunks_big);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.skipped, 5);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 3331);
	for (int i = 0; i < 3; i++)
		answer(&poll, &rx, &p, chunks_one, 1, &r);
	CHECK_EQ_INT(cur_reg(&poll), 0x0B);
	r = FEED_HEX(&poll, &rx, SINO_01_RSP, chunks_odd);
	CHECK_EQ_INT(r.frames, 0);
	CHECK(!(poll.snap.present & BMS_HAS_VOLTAGE));
}

/* Every decoded field of a whole synthetic poll. */
static void test_full_poll(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct pack p;
	uint8_t asked[40];
	struct bms_snapshot *s = &poll.snap;

	pack_default(&p);
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(run_poll(&poll, &rx, &p, asked), BMS_OK);
	bms_snapshot_derive(s);
	CHECK_EQ_INT(s->ncells, 4);
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(s->cell_mv[i], 3301 + i);
	CHECK_NEAR(s->voltage, 13.21, 1e-4);
	CHECK_NEAR(s->current, -2.5, 1e-4);
	CHECK_NEAR(s->power, 13.21 * -2.5, 1e-3);
	CHECK_NEAR(s->soc, 60.0, 1e-6);
	CHECK_NEAR(s->full_ah, 100.0, 1e-4);
	CHECK_NEAR(s->remain_ah, 60.0, 1e-4);
	CHECK_EQ_INT(s->cycles, 7);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->state, 2);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[0], 25.0, 1e-5);
	CHECK_NEAR(s->temp_c[1], 26.3, 1e-5);
	CHECK_NEAR(s->mos_temp_c, 30.5, 1e-5);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 1);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
	CHECK_EQ_INT(s->balance, 0);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN |
		     BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		     BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_ALARMS | BMS_HAS_POWER);

	/* inverted current, charging, MOSFETs off, RSOC with a high byte */
	pack_default(&p);
	p.reg[0x10] = 123456;
	p.reg[0x15] = 0x8104;
	p.reg[0x13] = 0x5A64; /* 100 % in the low byte */
	drive_begin(&poll, &rx, 0, 0, true);
	CHECK_EQ_INT(run_poll(&poll, &rx, &p, asked), BMS_OK);
	CHECK_NEAR(s->current, -123.456, 1e-3);
	CHECK_EQ_INT(s->state, 1);
	CHECK(!s->chg_mos && !s->dsg_mos);
	CHECK_NEAR(s->soc, 100.0, 1e-6);
	/* extremes of the plausible 32-bit values */
	pack_default(&p);
	p.reg[0x10] = (uint32_t)-2000000;
	p.reg[0x11] = 2000000;
	p.reg[0x12] = 0;
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(run_poll(&poll, &rx, &p, asked), BMS_OK);
	CHECK_NEAR(s->current, -2000.0, 1e-3);
	CHECK_NEAR(s->full_ah, 2000.0, 1e-3);
	CHECK_NEAR(s->remain_ah, 0.0, 1e-9);
	CHECK_EQ_INT(s->state, 2);

	/* temperatures: an open or shorted NTC input (0, 0xFFFF, anything
	 * outside -50..150 degC) is kept as read, and the gateway's gate
	 * serves it absent with a sensor fault (bms_sensor_faults) */
	static const struct {
		uint32_t t1, t2, tic;
		unsigned faults;
		double v0, v1, mos;
	} t[] = {
		{ 0, 0, 0, 3u | BMS_FAULT_MOS, 0, 0, 0 },
		{ 0xFFFF, 2731, 2731, 1u, 0, 0.0, 0.0 },
		{ 2731 - 500, 2731 + 1500, 2731 - 501, BMS_FAULT_MOS, -50.0, 150.0, 0 },
		{ 2731 - 501, 2731 + 1501, 2731 + 1500, 3u, 0, 0, 150.0 },
		{ 2731 - 105, 0xFFFF, 0xFFFF, 2u | BMS_FAULT_MOS, -10.5, 0, 0 },
	};
	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		pack_default(&p);
		p.reg[0x0C] = t[k].t1;
		p.reg[0x0D] = t[k].t2;
		p.reg[0x0E] = t[k].tic;
		drive_begin(&poll, &rx, 0, 0, false);
		CHECK_EQ_INT(run_poll(&poll, &rx, &p, asked), BMS_OK);
		CHECK_EQ_INT(s->ntemps, 2);
		CHECK(s->present & BMS_HAS_TEMPS);
		CHECK(s->present & BMS_HAS_MOS_TEMP);
		CHECK_NEAR(s->temp_c[0], ((int)t[k].t1 - 2731) / 10.0, 1e-3);
		CHECK_EQ_INT(bms_sensor_faults(s, NULL), t[k].faults);
		CHECK(bms_plausible(s, NULL));
		if (!(t[k].faults & 1u))
			CHECK_NEAR(s->temp_c[0], t[k].v0, 1e-4);
		CHECK((t[k].faults & 1u) ? isnan(s->temp_c[0]) : !isnan(s->temp_c[0]));
		if (!(t[k].faults & 2u))
			CHECK_NEAR(s->temp_c[1], t[k].v1, 1e-4);
		CHECK((t[k].faults & 2u) ? isnan(s->temp_c[1]) : !isnan(s->temp_c[1]));
		CHECK_EQ_INT(!!(s->present & BMS_HAS_MOS_TEMP), !(t[k].faults & BMS_FAULT_MOS));
		if (!(t[k].faults & BMS_FAULT_MOS))
			CHECK_NEAR(s->mos_temp_c, t[k].mos, 1e-4);
	}
}

/* 0x16 battery status, bit by bit. */
/* 0x17, 0x11 and 0x14 (cell count, full capacity, cycles) are read when
 * the slow values are due; the polls between use what was kept. */
static void test_slow(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct pack p;
	uint8_t asked[40];
	struct bms_snapshot *s = &poll.snap;

	pack_default(&p);
	bms_poll_begin(&poll, 0, 0, false); /* nothing kept: all of them */
	CHECK_EQ_INT(run_poll(&poll, &rx, &p, asked), BMS_OK);
	CHECK(memchr(asked, 0x17, strlen((char *)asked)) && memchr(asked, 0x11, strlen((char *)asked)) &&
	      memchr(asked, 0x14, strlen((char *)asked)));
	CHECK_EQ_INT(poll.kept.have, BMS_HAS_CELLS | BMS_HAS_FULL | BMS_HAS_CYCLES);
	size_t full = strlen((char *)asked);

	/* the next poll: none of them; the snapshot is the same */
	p.reg[0x14] = 8; /* a change waits for the next refresh */
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(run_poll(&poll, &rx, &p, asked), BMS_OK);
	size_t n = strlen((char *)asked);
	CHECK(!memchr(asked, 0x17, n) && !memchr(asked, 0x11, n) && !memchr(asked, 0x14, n));
	CHECK(n < full);
	CHECK_EQ_INT(s->ncells, 4);
	CHECK_EQ_INT(s->cell_mv[3], 3304);
	CHECK_NEAR(s->full_ah, 100.0, 1e-4);
	CHECK_EQ_INT(s->cycles, 7);
	CHECK((s->present & (BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS)) ==
	      (BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS));

	/* refresh: read again, the new cycle count */
	bms_poll_begin(&poll, 0, 0, false);
	poll.refresh = true;
	CHECK_EQ_INT(run_poll(&poll, &rx, &p, asked), BMS_OK);
	CHECK_EQ_INT(strlen((char *)asked), full);
	CHECK_EQ_INT(s->cycles, 8);

	/* cells forced: 0x17 is never read, and a cell count is not needed */
	struct bms_poll p2 = { 0 };
	bms_poll_begin(&p2, 0, 3, false);
	CHECK_EQ_INT(run_poll(&p2, &rx, &p, asked), BMS_OK);
	CHECK(!memchr(asked, 0x17, strlen((char *)asked)));
	CHECK_EQ_INT(p2.kept.have, BMS_HAS_FULL | BMS_HAS_CYCLES);
	bms_poll_begin(&p2, 0, 3, false);
	CHECK_EQ_INT(run_poll(&p2, &rx, &p, asked), BMS_OK);
	CHECK(!memchr(asked, 0x11, strlen((char *)asked)));
	CHECK_EQ_INT(p2.snap.ncells, 3);
}

static void test_alarms(void)
{
	static const uint32_t want[16] = {
		BMS_AL_CELL_OV | BMS_AL_PROTECTION, BMS_AL_CELL_UV | BMS_AL_PROTECTION,
		BMS_AL_CHG_OC | BMS_AL_PROTECTION, BMS_AL_DSG_OC | BMS_AL_PROTECTION,
		0, 0, 0, 0,
		BMS_AL_CHG_OT | BMS_AL_PROTECTION, BMS_AL_DSG_OT | BMS_AL_PROTECTION,
		BMS_AL_CHG_UT | BMS_AL_PROTECTION, BMS_AL_DSG_UT | BMS_AL_PROTECTION,
		BMS_AL_CELL_OV | BMS_AL_PROTECTION, BMS_AL_SHORT | BMS_AL_PROTECTION,
		BMS_AL_HW_FAULT, 0,
	};
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct pack p;
	uint8_t asked[40];

	for (int b = 0; b < 16; b++) {
		pack_default(&p);
		p.reg[0x16] = 1u << b;
		drive_begin(&poll, &rx, 0, 0, false);
		CHECK_EQ_INT(run_poll(&poll, &rx, &p, asked), BMS_OK);
		CHECK_EQ_INT(poll.snap.alarms, want[b]);
		CHECK_EQ_INT(poll.snap.nraw, 1);
		CHECK_EQ_INT(poll.snap.raw_alarms[0], 1u << b);
		CHECK(poll.snap.present & BMS_HAS_ALARMS);
	}
	pack_default(&p);
	p.reg[0x16] = 0x2003;
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(run_poll(&poll, &rx, &p, asked), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_CELL_OV | BMS_AL_CELL_UV | BMS_AL_SHORT | BMS_AL_PROTECTION);
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct pack p;
	uint8_t f[16], req[3];
	size_t n, fl;
	struct drive_res r;

	pack_default(&p);
	drive_begin(&poll, &rx, 0, 4, false);
	CHECK_EQ_INT(cur_reg(&poll), 0x01);

	/* bad check byte: skipped; any single bit flip is caught by the CRC */
	CHECK_EQ_INT(check_hex(SINO_01_RSP, f, 3), 3);
	for (int bit = 0; bit < 24; bit++) {
		uint8_t g[3];
		memcpy(g, f, 3);
		g[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		CHECK_EQ_INT(drv->scan(&poll, g, 3, &fl), BMS_SCAN_SKIP);
		CHECK_EQ_INT(fl, 1);
		CHECK_EQ_INT(drv->handle(&poll, g, 3), BMS_E_CHECKSUM);
	}
	CHECK_EQ_INT(poll.snap.cell_mv[0], 0);
	/* a bad copy, then the good one */
	r = FEED_HEX(&poll, &rx, "0d03fe" SINO_01_RSP, chunks_one);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.skipped, 3);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 3331);

	/* truncated: NEED until the length is there; handle() checks lengths */
	drive_begin(&poll, &rx, 0, 4, false);
	CHECK_EQ_INT(cur_reg(&poll), 0x01);
	CHECK_EQ_INT(drv->scan(&poll, f, 0, &fl), BMS_SCAN_NEED);
	CHECK_EQ_INT(drv->scan(&poll, f, 1, &fl), BMS_SCAN_NEED);
	CHECK_EQ_INT(drv->scan(&poll, f, 2, &fl), BMS_SCAN_NEED);
	CHECK_EQ_INT(drv->handle(&poll, f, 2), BMS_E_SHORT);
	CHECK_EQ_INT(drv->handle(&poll, f, 4), BMS_E_SHORT);
	CHECK_EQ_INT(drv->handle(&poll, f, 0), BMS_E_SHORT);
	/* 4-byte register: a 2-byte answer is not one */
	poll.step = 12; /* 0x10 */
	CHECK_EQ_INT(cur_reg(&poll), 0x10);
	CHECK_EQ_INT(drv->handle(&poll, f, 3), BMS_E_SHORT);
	for (size_t k = 0; k < 5; k++)
		CHECK_EQ_INT(drv->scan(&poll, f, k, &fl), BMS_SCAN_NEED);

	/* garbage before the answer (the check byte is over request || data,
	 * so these bytes cannot pass for an answer) */
	drive_begin(&poll, &rx, 0, 4, false);
	CHECK_EQ_INT(cur_reg(&poll), 0x01);
	r = FEED_HEX(&poll, &rx, "00 ff 0a 55 0d" SINO_01_RSP, chunks_odd);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.skipped, 5);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 3331);

	/* echo of our own request, then the answer, in any chunking */
	for (int k = 0; k < 3; k++) {
		drive_begin(&poll, &rx, 0, 4, false);
		CHECK_EQ_INT(cur_reg(&poll), 0x01);
		CHECK_EQ_INT(drv->next_request(&poll, req, 3), 3);
		CHECK_EQ_INT(drv->scan(&poll, req, 3, &fl), BMS_SCAN_SKIP);
		CHECK_EQ_INT(fl, 3);
		r = k == 0 ? FEED_HEX(&poll, &rx, SINO_01_REQ SINO_01_RSP, chunks_one)
		  : k == 1 ? FEED_HEX(&poll, &rx, SINO_01_REQ SINO_01_RSP, chunks_odd)
			   : FEED_HEX(&poll, &rx, SINO_01_REQ SINO_01_RSP, chunks_big);
		CHECK_EQ_INT(r.frames, 1);
		CHECK_EQ_INT(r.skipped, 3);
		CHECK_EQ_INT(poll.snap.cell_mv[0], 3331);
	}
	/* the echo of a 4-byte request followed by its answer */
	pack_default(&p);
	drive_begin(&poll, &rx, 0, 4, false);
	poll.step = 12;
	CHECK_EQ_INT(drv->next_request(&poll, req, 3), 3);
	n = mk(f, req, (uint32_t)-1234);
	bms_rx_feed(&rx, req, 3);
	r = (struct drive_res){ 0 };
	drive_feed(&poll, &rx, f, n, chunks_one, 1, &r);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.skipped, 3);
	CHECK_NEAR(poll.snap.current, -1.234, 1e-4);

	/* impossible values fail the try */
	drive_begin(&poll, &rx, 0, 4, false);
	poll.step = 13; /* 0x13 RSOC */
	CHECK_EQ_INT(drv->next_request(&poll, req, 3), 3);
	CHECK_EQ_INT(req[1], 0x13);
	n = mk(f, req, 101);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK); /* held for confirmation */
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_RANGE);
	CHECK_EQ_INT(poll.step, 13);
	CHECK_EQ_INT(poll.sub, 0);
	CHECK(!(poll.snap.present & BMS_HAS_SOC));
	n = mk(f, req, 0x00FF);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_RANGE);
	n = mk(f, req, 0xFF64);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_NEAR(poll.snap.soc, 100.0, 1e-6);
	for (int reg = 0x11; reg <= 0x12; reg++) {
		CHECK_EQ_INT(drv->next_request(&poll, req, 3), 3);
		CHECK_EQ_INT(req[1], reg);
		n = mk(f, req, 0x80000000u);
		CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_RANGE);
		n = mk(f, req, 0xFFFFFFFFu);
		CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_RANGE);
		n = mk(f, req, 5000);
		CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	}
	CHECK_NEAR(poll.snap.full_ah, 5.0, 1e-6);
	CHECK_NEAR(poll.snap.remain_ah, 5.0, 1e-6);

	/* nothing outstanding: everything is skipped, nothing handled */
	drive_begin(&poll, &rx, 0, 4, false);
	poll.step = 100;
	CHECK_EQ_INT(cur_reg(&poll), 0);
	CHECK_EQ_INT(check_hex(SINO_01_RSP, f, 3), 3);
	CHECK_EQ_INT(drv->scan(&poll, f, 3, &fl), BMS_SCAN_SKIP);
	CHECK_EQ_INT(fl, 3);
	CHECK_EQ_INT(drv->handle(&poll, f, 3), BMS_E_UNEXPECTED);
	poll.step = -1;
	CHECK_EQ_INT(drv->handle(&poll, f, 3), BMS_E_UNEXPECTED);

	/* rx overflow with garbage: no bad scan results */
	uint8_t junk[3000];
	for (size_t k = 0; k < sizeof(junk); k++)
		junk[k] = (uint8_t)(k * 7 + (k >> 3));
	drive_begin(&poll, &rx, 0, 4, false);
	CHECK_EQ_INT(cur_reg(&poll), 0x01);
	r = (struct drive_res){ 0 };
	drive_feed(&poll, &rx, junk, sizeof(junk), chunks_big, 1, &r);
	drive_feed(&poll, &rx, junk, sizeof(junk), chunks_odd, DRIVE_NCH(chunks_odd), &r);
	CHECK_EQ_INT(r.bad_scan, 0);
	CHECK(rx.len < 3);
}

/* Registers without a tight range count only when a value came twice. */
static void test_confirm(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct pack p;
	uint8_t req[3], f[8];
	size_t n;

	pack_default(&p);
	drive_begin(&poll, &rx, 0, 4, false);
	CHECK(answer_until(&poll, &rx, &p, 0x14));
	CHECK_EQ_INT(drv->next_request(&poll, req, 3), 3);
	/* A, B, A: the third read agrees with the first */
	n = mk(f, req, 7);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	n = mk(f, req, 8);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(cur_reg(&poll), 0x14);
	CHECK(!(poll.snap.present & BMS_HAS_CYCLES));
	n = mk(f, req, 7);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(poll.snap.cycles, 7);
	CHECK_EQ_INT(cur_reg(&poll), 0x15);
	/* A, B, B: the third agrees with the second */
	CHECK_EQ_INT(drv->next_request(&poll, req, 3), 3);
	n = mk(f, req, 0x0003);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	n = mk(f, req, 0x0007);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(poll.snap.state, 1);
	CHECK_EQ_INT(cur_reg(&poll), 0x16);
	/* A, B, C: the try fails and starts afresh; a retry then succeeds */
	CHECK_EQ_INT(drv->next_request(&poll, req, 3), 3);
	for (uint32_t v = 1; v <= 3; v++) {
		n = mk(f, req, v);
		CHECK_EQ_INT(drv->handle(&poll, f, n), v < 3 ? BMS_OK : BMS_E_RANGE);
	}
	CHECK_EQ_INT(poll.sub, 0);
	CHECK_EQ_INT(cur_reg(&poll), 0x16);
	CHECK(!(poll.snap.present & BMS_HAS_ALARMS));
	n = mk(f, req, 3);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 3);
	/* temperatures agree within 1 K; the last read is taken */
	CHECK_EQ_INT(cur_reg(&poll), 0x0C);
	CHECK_EQ_INT(drv->next_request(&poll, req, 3), 3);
	n = mk(f, req, 2981);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	n = mk(f, req, 2991);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(cur_reg(&poll), 0x0D);
	CHECK_NEAR(poll.snap.temp_c[0], 26.0, 1e-5);
	CHECK_EQ_INT(drv->next_request(&poll, req, 3), 3);
	n = mk(f, req, 2981);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	n = mk(f, req, 2992);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(cur_reg(&poll), 0x0D); /* 1.1 K apart: a third read */
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(cur_reg(&poll), 0x0E);
	CHECK_NEAR(poll.snap.temp_c[1], 26.1, 1e-5);
	/* a timeout keeps what was read: the retry's answer may confirm it */
	CHECK_EQ_INT(drv->next_request(&poll, req, 3), 3);
	n = mk(f, req, 3036);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	poll.attempt = 1;
	CHECK_EQ_INT(cur_reg(&poll), 0x0E);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(cur_reg(&poll), 0);
	CHECK_NEAR(poll.snap.mos_temp_c, 30.5, 1e-5);
}

/* Single-read registers: values outside the plausible range are no frames. */
static void test_plausible(void)
{
	static const struct {
		int step;
		uint32_t v;
		bool ok;
	} t[] = {
		{ 1, 0, true }, { 1, 5000, true }, { 1, 5001, false }, { 1, 0xFFFF, false },
		{ 12, 2000000, true }, { 12, (uint32_t)-2000000, true }, { 12, 2000001, false },
		{ 12, (uint32_t)-2000001, false }, { 12, 0x80000000u, false },
		{ 14, 0, true }, { 14, 2000000, true }, { 14, 2000001, false }, { 14, 0xFFFFFFFFu, false },
		{ 15, 1999999, true }, { 15, 0x7FFFFFFFu, false },
	};
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t req[3], f[8];
	size_t fl;

	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		drive_begin(&poll, &rx, 0, 4, false);
		poll.step = t[k].step;
		CHECK_EQ_INT(drv->next_request(&poll, req, 3), 3);
		size_t n = mk(f, req, t[k].v);
		CHECK_EQ_INT(drv->scan(&poll, f, n, &fl), t[k].ok ? BMS_SCAN_FRAME : BMS_SCAN_SKIP);
		CHECK_EQ_INT(drv->handle(&poll, f, n), t[k].ok ? BMS_OK : BMS_E_RANGE);
		CHECK_EQ_INT(poll.step, t[k].ok ? t[k].step + 1 : t[k].step);
	}
}

/* Stray bytes that happen to pass the check: a frame that ends the buffer
 * wins over one that starts it. */
static void test_end_aligned(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t req[3], buf[16], tmp[8];
	size_t fl;
	struct drive_res r;

	drive_begin(&poll, &rx, 0, 4, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, 3), 3);
	CHECK_EQ_INT(req[1], 0x01);
	/* forge stray bytes that pass for cell 1 = 0x0101 mV */
	memcpy(tmp, req, 3);
	tmp[3] = 0x01;
	tmp[4] = 0x01;
	buf[0] = 0x01;
	buf[1] = 0x01;
	buf[2] = crc8(tmp, 5);
	CHECK_EQ_INT(check_hex(SINO_01_RSP, buf + 3, 3), 3);
	CHECK_EQ_INT(drv->scan(&poll, buf, 3, &fl), BMS_SCAN_FRAME); /* alone it is taken */
	CHECK_EQ_INT(drv->scan(&poll, buf, 6, &fl), BMS_SCAN_SKIP);
	CHECK_EQ_INT(fl, 3);
	r = (struct drive_res){ 0 };
	drive_feed(&poll, &rx, buf, 6, chunks_big, 1, &r);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.skipped, 3);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 3331);
	/* a good answer followed by noise is still taken */
	drive_begin(&poll, &rx, 0, 4, false);
	CHECK_EQ_INT(cur_reg(&poll), 0x01);
	r = FEED_HEX(&poll, &rx, SINO_01_RSP "00", chunks_big);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 3331);
	/* an echo at the end of the buffer is not the answer */
	drive_begin(&poll, &rx, 0, 4, false);
	CHECK_EQ_INT(cur_reg(&poll), 0x01);
	r = FEED_HEX(&poll, &rx, SINO_01_RSP SINO_01_REQ, chunks_big);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 3331);
}

static void test_finish(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct pack p;
	uint8_t asked[40];

	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	pack_default(&p);
	p.reg[0x0B] = 0;
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(run_poll(&poll, &rx, &p, asked), BMS_E_INVALID);
	/* an unfinished poll (cells missing) is no sample */
	pack_default(&p);
	drive_begin(&poll, &rx, 0, 0, false);
	struct drive_res r = { 0 };
	CHECK(answer_until(&poll, &rx, &p, 0x02));
	poll.step = 11; /* jump past cells 2..4 */
	while (answer(&poll, &rx, &p, chunks_one, 1, &r) > 0)
		;
	CHECK(poll.snap.present & BMS_HAS_VOLTAGE);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

int main(void)
{
	test_crc_helper();
	test_requests();
	test_vectors();
	test_full_poll();
	test_slow();
	test_alarms();
	test_broken();
	test_confirm();
	test_plausible();
	test_end_aligned();
	test_finish();
	return check_report();
}
