/* SPDX-License-Identifier: MIT */
/* tests/unit/test_ks48.c - KS48x00 / Braun Power / Daren over Bluetooth LE
 * (bms/ks48.c): every ks48 row of tests/fixtures/vectors.tsv (three packs:
 * aiobmsble's test pack, a KS48100 and a KS-48200 of syssi's
 * esphome-ks-bms) through scan() + handle() in whole polls as the gateway
 * runs them (0xF4 version and 0x0B serial on a new connection, 0x01
 * status, 0x02 cells, 0x03 temperatures), in every chunking (20-byte
 * notifications, odd reads, one byte at a time), the answers bmsgw never
 * asks for (ignored), an unanswered identity, `cells =`, and broken input:
 * the frame has no checksum, so a wrong end byte, a truncated or overlong
 * frame, impossible counts and values are each refused whole, and noise
 * leaves the poll failed (the pack stale), never decoded.  Protocol facts:
 * bms/PROTOCOLS.md §54. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_ks48_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family ks48: each macro is the row of the id
 * it spells (KS_01 = KS-01, KS_REQ_01 = KS-REQ-01) */
#define KS_REQ_01 "7b01007d"
#define KS_REQ_02 "7b02007d"
#define KS_REQ_03 "7b03007d"
#define KS_REQ_F4 "7bf4007d"
#define KS_REQ_0B "7b0b007d"
#define KS_01 "7b0120005314d300d200b400befb8761c275300000000000087e810000000e000000647d"
#define KS_02 "7b0221100cff0d060d050d070d050d070d050d0a0d040d070d060d080d050d060d080d097d"
#define KS_03 "7b0309040b910b910b910b917d"
#define KS_04 "7bf4030203017d"
#define KS_05 "7b741d4b535f424c455f574946495f566572312e302e305f32303234303331337d"
#define KS_06 "7b01200045148c00aa0089008200005206753075300000000100000000000c000000647d"
#define KS_07 "7b0221100cd70cd90cd80cd80cd80cd80cd80cd80cd80cd80cd80cd80cd80cd80cd80cd57d"
#define KS_08 "7b0309040b2d0b370b370b377d"
#define KS_09 "7b0816000000010001006900010000000100000000000000007d"
#define KS_10 "7b0903ffffff7d"
#define KS_11 "7bf4030202017d"
#define KS_12 "7bf50202397d"
#define KS_13 "7b0a1effffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7d"
#define KS_14 "7b0b13434552323431302d3031382d3033302d3032337d"
#define KS_15 "7b0c14ffffffffffffffffffffffffffffffffffffffff7d"
#define KS_16 "7b0120002d149000fa00c300dc00006f57f550f5500000000100000000000c000000647d"
#define KS_17 "7b0221100cda0cdb0cdb0cdb0cdb0cdc0cd90cda0cda0cdb0cd90cdb0cda0cda0cda0cdb7d"
#define KS_18 "7b0309040b730b730b690b697d"
#define KS_19 "7b05180e420d3407d009c40bb80bb816d015400bb80fa012c00bb87d"
#define KS_20 "7b06180cd10c9f0bb80aa10add0bb80d030cd10bb809e30a150bb87d"
#define KS_21 "7b070c53fc0bb8000053fc0bb800007d"
/* syssi/esphome-ks-bms docs/pdus/BL-250-100-100-2.txt (the same KS-48200's
 * second log, syssi/esphome-ks-bms#37): 0x04, a real capture not in
 * vectors.tsv */
#define KS_0X04 "7b04140dac09c40d7a012c0000000000000000000000007d"

/* the answers to what bmsgw never asks (the BLE module's version, history,
 * date, boot version, strings, settings) */
static const char *const others[] = { KS_05, KS_09, KS_10, KS_12, KS_13, KS_15, KS_19, KS_20, KS_21 };

/* A poll of a pack whose identity is known (no 0xF4 / 0x0B). */
static void begin(struct bms_poll *poll, struct bms_rx *rx, uint8_t forced, bool inv)
{
	drive_begin_link(poll, rx, 0, forced, inv, BMS_LINK_BLE, false);
	poll->kept.ident_state = BMS_IDENT_HAVE;
}

/* A poll from its answers (one hex frame a request of 4 bytes). */
static int poll_of(struct bms_poll *poll, struct bms_rx *rx, const char *const *answers, size_t n,
		   const struct drive_chunking *c)
{
	return drive_poll_hex(poll, rx, answers, n, c, 4);
}

/* One pack's values as its sources decode them (vectors-more3's family
 * note; KS-01 asserted by aiobmsble's test). */
struct want {
	float v, i, soc, remain, full, mos;
	unsigned cycles;
	bool balancing;
	const uint16_t *cells;
	float temps[4];
};

static const uint16_t cells_a[16] = { 3327, 3334, 3333, 3335, 3333, 3335, 3333, 3338,
				      3332, 3335, 3334, 3336, 3333, 3334, 3336, 3337 };
static const uint16_t cells_b[16] = { 3287, 3289, 3288, 3288, 3288, 3288, 3288, 3288,
				      3288, 3288, 3288, 3288, 3288, 3288, 3288, 3285 };
static const uint16_t cells_c[16] = { 3290, 3291, 3291, 3291, 3291, 3292, 3289, 3290,
				      3290, 3291, 3289, 3291, 3290, 3290, 3290, 3291 };
static const struct want pack_a = { 53.31f, -11.45f, 83, 250.26f, 300.0f, 19.0f, 8, true, cells_a, { 23, 23, 23, 23 } };
static const struct want pack_b = { 52.60f, 0, 69, 209.98f, 300.0f, 13.0f, 1, false, cells_b, { 13, 14, 14, 14 } };
static const struct want pack_c = { 52.64f, 0, 45, 285.03f, 628.0f, 22.0f, 1, false, cells_c, { 20, 20, 19, 19 } };

static void check_pack(const struct bms_poll *poll, const struct want *w)
{
	const struct bms_snapshot *s = &poll->snap;
	drive_check_cells(s, w->cells, 16);
	CHECK_NEAR(s->voltage, w->v, 1e-4);
	CHECK_NEAR(s->current, w->i, 1e-4);
	CHECK_NEAR(s->soc, w->soc, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_NEAR(s->remain_ah, w->remain, 1e-3);
	CHECK_NEAR(s->full_ah, w->full, 1e-3);
	CHECK_EQ_INT(s->cycles, w->cycles);
	CHECK_NEAR(s->mos_temp_c, w->mos, 1e-4);
	CHECK_EQ_INT(s->ntemps, 4);
	for (int i = 0; i < 4; i++)
		CHECK_NEAR(s->temp_c[i], w->temps[i], 1e-4);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->balancing, w->balancing);
	CHECK_EQ_INT(s->balance, 0);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 1);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
					 BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS |
					 BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_BALANCING | BMS_HAS_ALARMS);
}

/* ---- the table, the requests --------------------------------------------- */

static void test_table(void)
{
	CHECK_STR(drv->name, "ks48");
	CHECK_EQ_INT(drv->protocol_id, 45);
	CHECK(bms_find("ks48") == drv);
	drive_check_ble16("ff00", "ff01", "ff02");
}

static void test_hints(void)
{
	CHECK(drive_hinted("HSKS-48100"));
	CHECK(drive_hinted("BL-250-100-100"));
	CHECK(!drive_hinted("HSK-1"));
	CHECK(!drive_hinted("BLE-1"));
	CHECK(!drive_hinted("HS12V100")); /* HumsiENK's */
	CHECK(!drive_hinted("SOK-24V1127"));
}

/* Every request is a read with no data: 0xF4, 0x0B, 0x01, 0x02, 0x03. */
static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK(drive_req_is(&poll, KS_REQ_F4));
	drive_step(&poll, &rx, KS_11, drive_notif20, 1, 0);
	CHECK_STR(poll.kept.ident.firmware, "2.2.1");
	CHECK(drive_req_is(&poll, KS_REQ_0B));
	drive_step(&poll, &rx, KS_14, drive_notif20, 1, 0);
	CHECK_STR(poll.kept.ident.pack_serial, "CER2410-018-030-023");
	CHECK(drive_req_is(&poll, KS_REQ_01));
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK(drive_req_is(&poll, KS_REQ_01)); /* the identity known: not asked again */
	poll.step = 4;
	CHECK(drive_req_is(&poll, KS_REQ_02));
	poll.step = 5;
	CHECK(drive_req_is(&poll, KS_REQ_03));
	for (int k = 0; k < 4; k++) { /* the settings reads 0x04 .. 0x07 (§54.4) */
		char req[9];
		snprintf(req, sizeof(req), "7b%02x007d", 4 + k);
		poll.step = 6 + k;
		CHECK(drive_req_is(&poll, req));
	}
	drive_request_ends(&poll, 3, 10);
}

/* ---- whole polls ---------------------------------------------------------- */

static void test_sessions(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		/* the KS48100: its identity, then its values */
		const char *const b[] = { KS_11, KS_14, KS_06, KS_07, KS_08 };
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
		CHECK_EQ_INT(poll_of(&poll, &rx, b, 5, &drive_chunkings[k]), BMS_OK);
		check_pack(&poll, &pack_b);
		CHECK_STR(poll.kept.ident.firmware, "2.2.1");
		CHECK_STR(poll.kept.ident.pack_serial, "CER2410-018-030-023");
		/* aiobmsble's pack and the KS-48200, the identity known */
		const char *const a[] = { KS_01, KS_02, KS_03 }, *const c[] = { KS_16, KS_17, KS_18 };
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		CHECK_EQ_INT(poll_of(&poll, &rx, a, 3, &drive_chunkings[k]), BMS_OK);
		check_pack(&poll, &pack_a);
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		CHECK_EQ_INT(poll_of(&poll, &rx, c, 3, &drive_chunkings[k]), BMS_OK);
		check_pack(&poll, &pack_c);
	}
}

/* aiobmsble's pack answers no 0x0B (none recorded): skipped after its
 * timeout, the version kept. */
static void test_no_serial(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	drive_step(&poll, &rx, KS_04, drive_notif20, 1, 0);
	CHECK(drive_req_is(&poll, KS_REQ_0B));
	CHECK(drv->timeout(&poll));
	CHECK(drive_req_is(&poll, KS_REQ_01));
	const char *const a[] = { KS_01, KS_02, KS_03 };
	CHECK_EQ_INT(poll_of(&poll, &rx, a, 3, &drive_chunkings[0]), BMS_OK);
	check_pack(&poll, &pack_a);
	CHECK_STR(poll.kept.ident.firmware, "2.3.1");
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_HAVE);
	/* no version either: the identity is not asked again */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	poll.kept.ident_state = BMS_IDENT_UNKNOWN;
	memset(&poll.kept.ident, 0, sizeof(poll.kept.ident));
	CHECK(drive_req_is(&poll, KS_REQ_F4));
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_NONE);
	CHECK(drive_req_is(&poll, KS_REQ_01));
	/* a status read that times out fails the try */
	CHECK(!drv->timeout(&poll));
}

/* The answers bmsgw never asks for, before and between the ones it
 * does: each a whole frame, each ignored. */
static void test_others(void)
{
	for (size_t i = 0; i < DRIVE_NCH(others); i++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		begin(&poll, &rx, 0, false);
		char hex[400];
		snprintf(hex, sizeof(hex), "%s%s", others[i], KS_01);
		struct drive_res r = drive_step(&poll, &rx, hex, drive_odd, DRIVE_NCH(drive_odd), 1);
		CHECK_EQ_INT(r.frames, 2);
		CHECK_EQ_INT(r.skipped, 0);
		CHECK_EQ_INT(poll.step, 4);
	}
	/* a request echoed is skipped, never handled */
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	begin(&poll, &rx, 0, false);
	struct drive_res r = drive_step(&poll, &rx, KS_REQ_01 KS_01, drive_notif20, 1, 0);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.skipped, 4);
}

/* `cells =`, an inverted current. */
static void test_options(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	begin(&poll, &rx, 15, true);
	const char *const a[] = { KS_01, KS_02, KS_03 };
	CHECK_EQ_INT(poll_of(&poll, &rx, a, 3, &drive_chunkings[1]), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 15);
	CHECK_EQ_INT(poll.snap.cell_mv[14], 3336);
	CHECK_EQ_INT(poll.snap.cell_mv[15], 0);
	CHECK_NEAR(poll.snap.current, 11.45, 1e-4);
	/* more cells than the BMS has */
	begin(&poll, &rx, 17, false);
	drive_step(&poll, &rx, KS_01, drive_notif20, 1, 0);
	struct drive_res r = drive_feed_hex(&poll, &rx, KS_02, drive_notif20, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
}

/* ---- broken input --------------------------------------------------------- */

/* hex of a frame with its byte at `at` replaced by v */
static const char *patched(const char *hex, size_t at, unsigned v)
{
	static char out[300];
	char in[300];
	snprintf(in, sizeof(in), "%s", hex);
	snprintf(out, sizeof(out), "%s", in);
	snprintf(out + 2 * at, 3, "%02x", v & 0xFFu);
	out[2 * at + 2] = in[2 * at + 2];
	return out;
}

static void test_impossible(void)
{
	CHECK_EQ_INT(drive_handle_at(KS_01, 3), BMS_OK);
	CHECK_EQ_INT(drive_handle_at(patched(KS_01, 4, 101), 3), BMS_E_RANGE);  /* SOC 101 % */
	CHECK_EQ_INT(drive_handle_at(patched(KS_01, 34, 101), 3), BMS_E_RANGE); /* SOH 101 % */
	CHECK_EQ_INT(drive_handle_at(patched(KS_01, 2, 0x1F), 3), BMS_E_SHORT); /* length byte against the frame */
	/* a status of 30 bytes (no SOH): taken, without SOH; of 31: refused */
	CHECK_EQ_INT(drive_handle_at("7b011e005314d300d200b400befb8761c275300000000000087e810000000e00007d", 3), BMS_OK);
	CHECK_EQ_INT(drive_handle_at("7b011f005314d300d200b400befb8761c275300000000000087e810000000e0000007d", 3), BMS_E_SHORT);
	/* cells: a count of 0, of 33, one the length does not hold, a cell of 0 mV and of 6.6 V */
	CHECK_EQ_INT(drive_handle_at(KS_02, 4), BMS_OK);
	CHECK_EQ_INT(drive_handle_at("7b0201007d", 4), BMS_E_RANGE);
	CHECK_EQ_INT(drive_handle_at(patched(KS_02, 3, 0x0F), 4), BMS_E_SHORT);
	CHECK_EQ_INT(drive_handle_at(patched(KS_02, 3, 0x11), 4), BMS_E_SHORT);
	CHECK_EQ_INT(drive_handle_at("7b0243210d000d000d000d000d000d000d000d000d000d000d000d000d000d000d000d"
			 "000d000d000d000d000d000d000d000d000d000d000d000d000d000d000d000d000d007d", 4),
		     BMS_E_RANGE);
	CHECK_EQ_INT(drive_handle_at(patched(patched(KS_02, 4, 0), 5, 0), 4), BMS_E_RANGE);
	CHECK_EQ_INT(drive_handle_at(patched(KS_02, 4, 0x19), 4), BMS_E_RANGE);
	/* temperatures: 0 sensors, 9, a count the length does not hold */
	CHECK_EQ_INT(drive_handle_at(KS_03, 5), BMS_OK);
	CHECK_EQ_INT(drive_handle_at("7b0301007d", 5), BMS_E_RANGE);
	CHECK_EQ_INT(drive_handle_at("7b0313090b910b910b910b910b910b910b910b910b917d", 5), BMS_E_RANGE);
	CHECK_EQ_INT(drive_handle_at(patched(KS_03, 3, 3), 5), BMS_E_SHORT);
	/* a version of two numbers */
	CHECK_EQ_INT(drive_handle_at("7bf40202037d", 1), BMS_E_SHORT);
	/* another command's answer in this step, a wrong start or end byte */
	CHECK_EQ_INT(drive_handle_at(KS_02, 3), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drive_handle_at(patched(KS_01, 0, 0x7C), 3), BMS_E_HEADER);
	CHECK_EQ_INT(drive_handle_at(patched(KS_01, 35, 0x7E), 3), BMS_E_HEADER);
	CHECK_EQ_INT(drive_handle_at("7b01", 3), BMS_E_SHORT);
}

/* The framer: a wrong end byte, a truncated frame, garbage; nothing of
 * them is decoded, and the good frame after them is found. */
static void test_framer(void)
{
	uint8_t b[200];
	size_t n = 99;
	drive_scan_whole(KS_01, b, sizeof(b), 36);
	b[35] = 0x7E;
	CHECK_EQ_INT(drv->scan(NULL, b, 36, &n), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(n, 1);

	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	begin(&poll, &rx, 0, false);
	/* a status cut after 20 bytes, then noise, then the whole status */
	char hex[400];
	snprintf(hex, sizeof(hex), "%.40s" "00117b7d7b" "%s", KS_01, KS_01);
	struct drive_res r = drive_step(&poll, &rx, hex, drive_notif20, 1, 0);
	CHECK(r.badsum >= 1);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(poll.step, 4);
}

/* Noise alone, and a truncated answer: the poll never completes, finish()
 * refuses it, the pack goes stale; nothing the noise held is in it. */
static void test_noise_stale(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	uint32_t seed = 12345;
	uint8_t noise[512];
	for (size_t i = 0; i < sizeof(noise); i++) {
		seed = seed * 1103515245u + 12345u;
		noise[i] = (uint8_t)(seed >> 16);
	}
	begin(&poll, &rx, 0, false);
	drive_feed_bytes(&poll, &rx, noise, sizeof(noise), drive_odd, DRIVE_NCH(drive_odd));
	CHECK_EQ_INT(poll.step == 0 || poll.step == 3, 1);
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);

	begin(&poll, &rx, 0, false);
	drive_step(&poll, &rx, KS_01, drive_notif20, 1, 0);
	struct drive_res r = drive_feed_hex(&poll, &rx, "7b0221100cff0d060d050d070d050d", drive_notif20, 1);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(poll.snap.ncells, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

/* ---- the settings reads 0x04 .. 0x07 (§54.4) ------------------------------ */

static void check_set(const struct bms_settings *st, enum bms_set_key k, double want)
{
	CHECK(bms_settings_has(st, k));
	CHECK_NEAR(st->v[k], want, 1e-4);
}

/* The KS-48200's captures (KS-19 .. KS-21 and its 0x04), after a status
 * poll marked settings_due; not asked in a poll that is not. */
static void test_settings(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		const char *const c[] = { KS_16, KS_17, KS_18 };
		begin(&poll, &rx, 0, false);
		CHECK_EQ_INT(poll_of(&poll, &rx, c, 3, &drive_chunkings[k]), BMS_OK);
		CHECK_EQ_INT((int)poll.kept.settings.have, 0); /* not due: not asked */
		const char *const d[] = { KS_16, KS_17, KS_18, KS_0X04, KS_19, KS_20, KS_21 };
		begin(&poll, &rx, 0, false);
		poll.settings_due = true;
		CHECK_EQ_INT(poll_of(&poll, &rx, d, 7, &drive_chunkings[k]), BMS_OK);
		check_pack(&poll, &pack_c);
		const struct bms_settings *st = &poll.kept.settings;
		CHECK_EQ_INT((long long)st->have, (long long)drv->settings);
		check_set(st, BMS_SET_BALANCE_START_V, 3.450);
		check_set(st, BMS_SET_BALANCE_DELTA_V, 0.300);
		check_set(st, BMS_SET_CELL_OVP_V, 3.650);
		check_set(st, BMS_SET_CELL_OVP_RELEASE_V, 3.380);
		check_set(st, BMS_SET_CELL_OVP_DELAY_S, 2.0);
		check_set(st, BMS_SET_CELL_UVP_V, 2.500);
		check_set(st, BMS_SET_CELL_UVP_RELEASE_V, 3.000);
		check_set(st, BMS_SET_CELL_UVP_DELAY_S, 3.0);
		check_set(st, BMS_SET_PACK_OVP_V, 58.40);
		check_set(st, BMS_SET_PACK_UVP_V, 40.00);
		check_set(st, BMS_SET_CHARGE_OTP_C, 55.0);
		check_set(st, BMS_SET_CHARGE_OTP_RELEASE_C, 50.0);
		check_set(st, BMS_SET_CHARGE_UTP_C, -1.0);
		check_set(st, BMS_SET_CHARGE_UTP_RELEASE_C, 5.0);
		check_set(st, BMS_SET_DISCHARGE_OTP_C, 60.0);
		check_set(st, BMS_SET_DISCHARGE_OTP_RELEASE_C, 55.0);
		check_set(st, BMS_SET_DISCHARGE_UTP_C, -20.0);
		check_set(st, BMS_SET_DISCHARGE_UTP_RELEASE_C, -15.0);
		check_set(st, BMS_SET_CHARGE_OCP_A, 215.0);
		check_set(st, BMS_SET_CHARGE_OCP_DELAY_S, 3.0);
		check_set(st, BMS_SET_CHARGE_OCP_RELEASE_S, 0.0);
		check_set(st, BMS_SET_DISCHARGE_OCP_A, 215.0);
		check_set(st, BMS_SET_DISCHARGE_OCP_DELAY_S, 3.0);
		check_set(st, BMS_SET_DISCHARGE_OCP_RELEASE_S, 0.0);
		CHECK(!bms_settings_has(st, BMS_SET_CAPACITY_AH));
		CHECK(!bms_settings_has(st, BMS_SET_SHORT_CIRCUIT_A));
	}
}

/* A BMS that ignores them: the first timeout ends the settings, the poll
 * complete with its status; one answered, then silence: what came is
 * kept.  A broken answer (cut, another length, a wrong end byte, another
 * command's) gives nothing; a word out of range leaves its key alone. */
static void test_settings_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	const char *const c[] = { KS_16, KS_17, KS_18 };
	begin(&poll, &rx, 0, false);
	poll.settings_due = true;
	for (int i = 0; i < 3; i++)
		drive_step(&poll, &rx, c[i], drive_notif20, 1, 0);
	CHECK(drive_req_is(&poll, "7b04007d"));
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(poll.step, 10);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT((int)poll.kept.settings.have, 0);
	check_pack(&poll, &pack_c);
	/* 0x04 answered, 0x05 not: the balance levels kept, no more asked */
	begin(&poll, &rx, 0, false);
	poll.settings_due = true;
	const char *const d[] = { KS_16, KS_17, KS_18, KS_0X04 };
	for (int i = 0; i < 4; i++)
		drive_step(&poll, &rx, d[i], drive_notif20, 1, 0);
	CHECK(drive_req_is(&poll, "7b05007d"));
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(bms_settings_has(&poll.kept.settings, BMS_SET_BALANCE_START_V));
	CHECK(!bms_settings_has(&poll.kept.settings, BMS_SET_CELL_OVP_V));
	/* broken answers to the settings steps: refused, nothing kept */
	static const struct {
		const char *hex;
		int step, rc;
	} bad[] = {
		{ "7b05170e420d3407d009c40bb80bb816d015400bb80fa012c00b7d", 7, BMS_E_SHORT },   /* 23 bytes */
		{ "7b0714fc0bb8000053fc0bb800007d7d7d7d7d7d7d7d7d7d", 9, BMS_E_SHORT },  /* wrong length */
		{ "7b05180e420d3407d009c40bb80bb816d015400bb80fa012c00bb87e", 7, BMS_E_HEADER }, /* end byte */
		{ KS_20, 7, BMS_E_UNEXPECTED },       /* 0x06 where 0x05 is asked */
		{ KS_21, 6, BMS_E_UNEXPECTED },
		{ "7b05180e420d34", 7, BMS_E_SHORT }, /* cut */
	};
	for (size_t i = 0; i < DRIVE_NCH(bad); i++)
		CHECK_EQ_INT(drive_handle_at(bad[i].hex, bad[i].step), bad[i].rc);
	/* out of range: a cell OVP of 0 and of 65.535 V, a temperature of
	 * 0 K and 6280 K, a charge OCP of 0 A: those keys absent, the rest read */
	uint8_t f[32];
	struct bms_poll p2 = { 0 }; /* kept (the settings) outlives bms_poll_begin */
	int n = check_hex("7b0518" "0000" "0d34" "07d0" "ffff" "0bb8" "0bb8" "16d0" "1540" "0bb8" "0fa0" "12c0" "0bb8" "7d",
			  f, (int)sizeof f);
	bms_poll_begin(&p2, 0, 0, false);
	p2.step = 7;
	CHECK_EQ_INT(drv->handle(&p2, f, (size_t)n), BMS_OK);
	CHECK(!bms_settings_has(&p2.kept.settings, BMS_SET_CELL_OVP_V));
	CHECK(!bms_settings_has(&p2.kept.settings, BMS_SET_CELL_UVP_V));
	check_set(&p2.kept.settings, BMS_SET_CELL_OVP_RELEASE_V, 3.380);
	check_set(&p2.kept.settings, BMS_SET_PACK_OVP_V, 58.40);
	n = check_hex("7b0618" "0000" "0c9f" "0bb8" "ffff" "0add" "0bb8" "0d03" "0cd1" "0bb8" "09e3" "0a15" "0bb8" "7d",
		      f, (int)sizeof f);
	p2.step = 8;
	CHECK_EQ_INT(drv->handle(&p2, f, (size_t)n), BMS_OK);
	CHECK(!bms_settings_has(&p2.kept.settings, BMS_SET_CHARGE_OTP_C));
	CHECK(!bms_settings_has(&p2.kept.settings, BMS_SET_CHARGE_UTP_C));
	check_set(&p2.kept.settings, BMS_SET_CHARGE_OTP_RELEASE_C, 50.0);
	n = check_hex("7b070c" "0000" "0bb8" "0000" "53fc" "0bb8" "0000" "7d", f, (int)sizeof f);
	p2.step = 9;
	CHECK_EQ_INT(drv->handle(&p2, f, (size_t)n), BMS_OK);
	CHECK(!bms_settings_has(&p2.kept.settings, BMS_SET_CHARGE_OCP_A));
	check_set(&p2.kept.settings, BMS_SET_DISCHARGE_OCP_A, 215.0);
	CHECK_EQ_INT(p2.step, 10);
}

int main(void)
{
	test_table();
	test_hints();
	test_requests();
	test_sessions();
	test_no_serial();
	test_others();
	test_options();
	test_impossible();
	test_framer();
	test_noise_stale();
	test_settings();
	test_settings_broken();
	return check_report();
}
