/* SPDX-License-Identifier: MIT */
/* tests/unit/test_renogy_pro.c - Renogy Pro batteries over Bluetooth LE
 * (renogy-pro): the RNGPRO rows of tests/fixtures/vectors.tsv (a RNGRBP at
 * slave 0x30: pack, cells, status; a RNGPRO at 0xFF: the same three
 * blocks) through scan() + handle() fed in every chunking, the current's
 * unit by the advertised name (0.1 A for RNGRBP / RNGC and a name not
 * known, 0.01 A for RNGPRO), the requests (reads of the four blocks, at
 * 0xFF), whole polls through finish(), and broken input (bad CRC,
 * truncated, impossible byte and cell counts).  Protocol facts:
 * bms/PROTOCOLS.md §49. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_renogy_pro_driver;

#define MB_BLE_SLAVE 0xFF
#include "mb_check.h"
#include "renogy_check.h"

/* tests/fixtures/vectors.tsv, family modbus */
#define RNGPRO_REQ_01 "300313b20007a48a"
#define RNGPRO_01 "30030efff400850003304200033bda00063e33"
#define RNGPRO_REQ_02 "300313880022455c"
#define RNGPRO_02 "3003440004002100210021002100000000000000000000000000000000000000000000000000030111010c0113" \
	"0000000000000000000000000000000000000000000000000000654a"
#define RNGPRO_REQ_03 "300313ec0008855c"
#define RNGPRO_03 "300310000000000000000000000000000e0000f762"
#define RNGPRO_04 "ff030eff370085000746ee0007a1200018f9db"
#define RNGPRO_05 "ff034400040021002100210021000000000000000000000000000000000000000000000000000300e900e300e2" \
	"00000000000000000000000000000000000000000000000000001917"
#define RNGPRO_06 "ff0310000000aa000000000000000000060000850f"

/* The requests of this driver, at the universal slave 0xFF */
#define REQ_CELLS "ff031388002254a3"
#define REQ_PACK "ff0313b20007b575"
#define REQ_STATUS "ff0313ec000894a3"
#define REQ_IDENT "ff0313f0001c556a"

static const uint16_t cells_33[4] = { 3300, 3300, 3300, 3300 };

static void begin(struct bms_poll *poll, struct bms_rx *rx, const char *name)
{
	drive_begin(poll, rx, 0, 0, false);
	poll->link = BMS_LINK_BLE;
	snprintf(poll->peer_name, sizeof(poll->peer_name), "%s", name);
}

static void cells_rbp(const struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	drive_check_cells(s, cells_33, 4);
	CHECK_EQ_INT(s->ntemps, 3);
	CHECK_NEAR(s->temp_c[0], 27.3, 1e-5);
	CHECK_NEAR(s->temp_c[1], 26.8, 1e-5);
	CHECK_NEAR(s->temp_c[2], 27.5, 1e-5);
	CHECK_EQ_INT(s->present, BMS_HAS_CELLS | BMS_HAS_TEMPS);
}

static void cells_pro(const struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	drive_check_cells(s, cells_33, 4);
	CHECK_EQ_INT(s->ntemps, 3);
	CHECK_NEAR(s->temp_c[0], 23.3, 1e-5);
	CHECK_NEAR(s->temp_c[1], 22.7, 1e-5);
	CHECK_NEAR(s->temp_c[2], 22.6, 1e-5);
}

/* RNGPRO-01 from a RNGRBP: -12 raw = -1.2 A (aiobmsble's value) */
static void pack_rbp(const struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	CHECK_NEAR(s->current, -1.2, 1e-5);
	CHECK_NEAR(s->voltage, 13.3, 1e-5);
	CHECK_NEAR(s->remain_ah, 208.962, 1e-3);
	CHECK_NEAR(s->full_ah, 211.93, 1e-3);
	CHECK_NEAR(s->soc, 208962.0 * 100.0 / 211930.0, 1e-3);
	CHECK_EQ_INT(s->cycles, 6);
}

/* RNGPRO-04 from a RNGPRO: -201 raw = -2.01 A (the battery's display) */
static void pack_pro(const struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	CHECK_NEAR(s->current, -2.01, 1e-5);
	CHECK_NEAR(s->voltage, 13.3, 1e-5);
	CHECK_NEAR(s->remain_ah, 476.91, 1e-3);
	CHECK_NEAR(s->full_ah, 500.0, 1e-3);
	CHECK_NEAR(s->soc, 95.382, 1e-3);
	CHECK_EQ_INT(s->cycles, 24);
}

/* RNGPRO-03 (status 1 = 0x000E) and -06 (0x0006, 0x00AA at 5101): both
 * MOSFETs on, no alarm */
static void status_ok(const struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->state, 0);
	CHECK_EQ_INT(s->nraw, 2);
	CHECK_EQ_INT(s->present & (BMS_HAS_ALARMS | BMS_HAS_MOSFETS), BMS_HAS_ALARMS | BMS_HAS_MOSFETS);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "renogy-pro");
	CHECK_EQ_INT(drv->protocol_id, 40);
	CHECK(bms_ble_only(drv) && drv->ble->gatt != NULL && drv->ble->hints != NULL);
	CHECK_EQ_INT(drv->max_address, 0);
	CHECK(drv->control == NULL && drv->listen == NULL && drv->probe == NULL);
	CHECK(drv->finish != NULL && drv->timeout != NULL);
	CHECK(bms_find("renogy-pro") == drv);
	CHECK_STR(drv->ble->gatt[0].write, "0000ffd1-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].write_service, "0000ffd0-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].notify, "0000fff1-0000-1000-8000-00805f9b34fb");
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	static const uint16_t documented[][3] = {
		{ 0x03, 5000, 34 }, { 0x03, 5042, 7 }, { 0x03, 5100, 8 }, { 0x03, 5104, 28 },
	};

	begin(&poll, &rx, "RNGRBP1217000794");
	CHECK(mb_req_is(&poll, REQ_CELLS));
	CHECK(mb_goto(&poll, 0x03, 5042));
	CHECK(mb_req_is(&poll, REQ_PACK));
	CHECK(mb_goto(&poll, 0x03, 5100));
	CHECK(mb_req_is(&poll, REQ_STATUS));
	CHECK(mb_goto(&poll, 0x03, 5104));
	CHECK(mb_req_is(&poll, REQ_IDENT));
	mb_reads_only(&poll, documented, 4);
	/* the sources' requests read the same registers at their slaves */
	uint8_t a[16], b[16];
	CHECK_EQ_INT(mb_hex(RNGPRO_REQ_01, a), 8);
	CHECK_EQ_INT(mb_hex(REQ_PACK, b), 8);
	CHECK(memcmp(a + 1, b + 1, 5) == 0);
	CHECK_EQ_INT(mb_hex(RNGPRO_REQ_02, a), 8);
	CHECK_EQ_INT(mb_hex(REQ_CELLS, b), 8);
	CHECK(memcmp(a + 1, b + 1, 5) == 0);
	CHECK_EQ_INT(mb_hex(RNGPRO_REQ_03, a), 8);
	CHECK_EQ_INT(mb_hex(REQ_STATUS, b), 8);
	CHECK(memcmp(a + 1, b + 1, 5) == 0);
}

static void test_captures(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];

	begin(&poll, &rx, "RNGRBP1217000794");
	mb_every_chunking(&poll, f, mb_hex(RNGPRO_02, f), cells_rbp);
	CHECK_EQ_INT(mb_cur(&poll), 5042);
	mb_every_chunking(&poll, f, mb_hex(RNGPRO_01, f), pack_rbp);
	CHECK_EQ_INT(mb_cur(&poll), 5100);
	mb_every_chunking(&poll, f, mb_hex(RNGPRO_03, f), status_ok);
	CHECK_EQ_INT(mb_cur(&poll), 5104);

	begin(&poll, &rx, "RNGPRO125BAT-EF036881");
	mb_every_chunking(&poll, f, mb_hex(RNGPRO_05, f), cells_pro);
	mb_every_chunking(&poll, f, mb_hex(RNGPRO_04, f), pack_pro);
	mb_every_chunking(&poll, f, mb_hex(RNGPRO_06, f), status_ok);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 0x0006);
}

/* The current's unit by the name family (§49). */
static void test_names(void)
{
	static const struct {
		const char *name, *frame;
		double amps;
	} t[] = {
		{ "RNGRBP1217000794", RNGPRO_01, -1.2 }, { "RNGC12100-0001", RNGPRO_01, -1.2 },
		{ "", RNGPRO_01, -1.2 }, { "RNGPRO125BAT-EF036881", RNGPRO_01, -0.12 },
		{ "rngpro125bat", RNGPRO_04, -2.01 }, { "RNGRBP1217000794", RNGPRO_04, -20.1 },
	};
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		for (int inv = 0; inv < 2; inv++) {
			begin(&poll, &rx, t[k].name);
			poll.invert_current = inv;
			CHECK(mb_goto(&poll, 0x03, 5042));
			CHECK_EQ_INT(drv->handle(&poll, f, mb_hex(t[k].frame, f)), BMS_OK);
			CHECK_NEAR(poll.snap.current, inv ? -t[k].amps : t[k].amps, 1e-5);
		}
	}
}

/* cells 5000 x 34 with n cells of 3.3 V and nt sensors */
static size_t mk_cells(uint8_t *f, unsigned n, unsigned nt)
{
	return renogy_cells_answer(f, 0xFF, n, nt);
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	static const char *const frames[][2] = {
		{ RNGPRO_02, NULL }, { RNGPRO_01, NULL }, { RNGPRO_03, NULL },
		{ RNGPRO_05, NULL }, { RNGPRO_04, NULL }, { RNGPRO_06, NULL },
	};
	static const uint16_t at[] = { 5000, 5042, 5100, 5000, 5042, 5100 };
	for (size_t k = 0; k < sizeof(frames) / sizeof(frames[0]); k++) {
		begin(&poll, &rx, k < 3 ? "RNGRBP1" : "RNGPRO1");
		CHECK(mb_goto(&poll, 0x03, at[k]));
		mb_broken(&poll, f, mb_hex(frames[k][0], f));
	}
	/* impossible counts: 17 cells, 17 sensors */
	begin(&poll, &rx, "RNGRBP1");
	CHECK_EQ_INT(drv->handle(&poll, f, mk_cells(f, 17, 2)), BMS_E_RANGE);
	begin(&poll, &rx, "RNGRBP1");
	CHECK_EQ_INT(drv->handle(&poll, f, mk_cells(f, 4, 17)), BMS_E_RANGE);
	begin(&poll, &rx, "RNGRBP1");
	CHECK_EQ_INT(drv->handle(&poll, f, mk_cells(f, 16, 16)), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 16);
	/* an exception to a live read fails the try */
	begin(&poll, &rx, "RNGRBP1");
	CHECK_EQ_INT(drv->handle(&poll, f, mb_exception(f, 0xFF, 0x03, 0x02)), BMS_E_REFUSED);
}

static void test_full_poll(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t a1[MB_MAX_FRAME], a2[MB_MAX_FRAME], a3[MB_MAX_FRAME], a4[MB_MAX_FRAME];
	uint16_t id[28] = { 0 };
	static const char model[] = "RBT12500LFP-SH";
	for (unsigned i = 0; i < 7; i++)
		id[18 + i] = (uint16_t)(model[2 * i] << 8 | model[2 * i + 1]);
	id[26] = '0' << 8 | '1';
	id[27] = '0' << 8 | '2';
	struct drive_answer ans[] = {
		{ a1, mb_hex(RNGPRO_05, a1), chunks_odd, DRIVE_NCH(chunks_odd), 0, 8 },
		{ a2, mb_hex(RNGPRO_04, a2), chunks_one, 1, 0, 8 },
		{ a3, mb_hex(RNGPRO_06, a3), chunks_rand, DRIVE_NCH(chunks_rand), 0, 8 },
		{ a4, mb_answer(a4, 0xFF, 0x03, id, 28), chunks_big, 1, 0, 8 },
	};
	struct drive_res r = { 0 };

	begin(&poll, &rx, "RNGPRO125BAT-EF036881");
	CHECK_EQ_INT(drive_poll(&poll, &rx, ans, 4, &r), BMS_OK);
	cells_pro(&poll);
	pack_pro(&poll);
	CHECK(poll.snap.chg_mos && poll.snap.dsg_mos);
	CHECK_STR(poll.kept.ident.model, "RBT12500LFP-SH");
	CHECK_STR(poll.kept.ident.firmware, "0102");
	/* a battery that refuses the status block: polled without it */
	begin(&poll, &rx, "RNGPRO125BAT-EF036881");
	poll.kept.ident_state = BMS_IDENT_HAVE;
	CHECK_EQ_INT(drv->handle(&poll, a1, ans[0].len), BMS_OK);
	CHECK_EQ_INT(drv->handle(&poll, a2, ans[1].len), BMS_OK);
	uint8_t e[8];
	CHECK_EQ_INT(drv->handle(&poll, e, mb_exception(e, 0xFF, 0x03, 0x02)), BMS_OK);
	CHECK_EQ_INT(poll.refusals, 1);
	CHECK_EQ_INT(mb_cur(&poll), -1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(!(poll.snap.present & (BMS_HAS_ALARMS | BMS_HAS_MOSFETS)));
}

int main(void)
{
	test_table();
	test_requests();
	test_captures();
	test_names();
	test_broken();
	test_full_poll();
	return check_report();
}
