/* SPDX-License-Identifier: MIT */
/* tests/unit/test_jk_ble.c - JK BMS over Bluetooth LE (JK02, bms/jk_ble.c):
 * the jk02 rows of tests/fixtures/vectors.tsv (real sessions and records of
 * JK-BD6A24S10P, JK-B2A8S20P, JK-B2A24S20P, JK-B1A20S15P, JK-BD6A17S6P and
 * JK-PB2A16S20P) through scan() + handle() in whole polls as the gateway
 * runs them (0x97, 0x96, then listening to the stream), in every chunking
 * (notifications of 20 and 128 bytes, split at every boundary, merged with
 * acknowledgements and "AT\r\n" noise), both record layouts, the stream
 * stopping and broken input.  Protocol facts: bms/PROTOCOLS.md §15. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_jk_ble_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family jk02: each macro is the row of the id
 * it spells (JK02_01 = JK02-01, JK02_REQ_97 = JK02-REQ-97) */
#define JK02_REQ_97 "aa5590eb9700df5288679d0a096b9af6709a17fd"
#define JK02_REQ_96 "aa5590eb9600f45fe2036dfbe038aabc441234b8"
#define JK02_01 "55aaeb90030a4a4b2d42443641323453313050000000382e580000000000382e302e364700003ca3" \
	"110002000000424d5320233100000000000000000000313233340000000000000000000000003231" \
	"31303130000031303930373035343035003030303000496e70757420557365726461746100003132" \
	"33343536000000000000000000000000000000000000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"0000000000000000000000000000000000000043aa5590ebc8010100000000000000000000000044"
#define JK02_02 "55aaeb90010a58020000280a0000540b0000420e0000ac0d00000a00000000000000000000000000" \
	"000000000000c4090000a86100001e0000003c00000050c300002c0100003c0000003c0000005802" \
	"0000c20100005e01000026020000c2010000320000006400000084030000bc020000100000000100" \
	"00000100000001000000a8610000dc050000ac0d0000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"0000000000000000000000000000000000000063aa5590ebc8010100000000000000000000000044"
#define JK02_03 "55aaeb90020ad30ba00be10bdf0bd90b110cb20bff0baf0b250b8d0bd30bc90bbf0be70be30b0000" \
	"0000000000000000000000000000ffff0000c50bec0005094c014b0146014401430142013f014001" \
	"3d013a013b013c013f01440144013f010000000000000000000000000000000000000000000052bc" \
	"00000000000000000000d800d600d000000000000012f8110000a861000008000000e43f03006400" \
	"dd0844a3110001017f060000000000000000000000000700010000000f050000000039c840400000" \
	"000058aafdff000000010004000090d95e0000000000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"0000000000000000000000000000000000000089"
#define JK02_04 "55aaeb90038b4a4b5f4232413853323050000000000031312e585700000031312e3137000000302a" \
	"0000010000004a4b5f42324138533230500000000000313233340000000000000000000000003232" \
	"30383034000032303632303135323332003030303000496e70757420557365726461746100003132" \
	"3334353600000000000000000000496e70757420557365726461746100007cf8fff30f0000000000" \
	"0000900f00000000c0d8030000000001000000000000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"00000000000000fe2f00000000000000000000fb"
#define JK02_05 "55aaeb90018b58020000280a00005a0a0000100e0000de0d00000a00000000000000000000000000" \
	"000000000000c4090000a86100001e0000003c000000400d03002c0100003c0000003c000000d007" \
	"0000bc02000058020000bc0200005802000038ffffff9cffffffe803000020030000080000000100" \
	"00000100000001000000a0860100dc050000b80b0000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"0000000000000000000000000000000000000000000000000000000000000100000000000000b071" \
	"0b0000000000007cf8ffff0f0000000000000095"
#define JK02_06 "55aaeb90028bd70cdb0cd50cff0c000dd50cd40ce00c000000000000000000000000000000000000" \
	"000000000000000000000000000000000000000000000000000000000000ff000000e20c2b000305" \
	"33003300320032003200320031003200000000000000000000000000000000000000000000000000" \
	"0000000000000000000000000000000000000000000000006901000000000d670000000000000000" \
	"000029012a01000000001df80245b20f0100a0860100000000002e00000064000000ed2a00000101" \
	"00000000000000000000000000000700010000009f0300000000a7b34040a30000004e0ad8e10001" \
	"00010005000044ad0100000000000000000000000000000000000000000000000000000000000000" \
	"00000000000000feff7fdc1f01000000000000f4"
#define JK02_07 "55aaeb9002678f0cd40c9f0cdf0cdf0c8f0c8f0ce00c000000000000000000000000000000000000" \
	"000000000000000000000000000000000000000000000000000000000000ff000000b70c51000400" \
	"34003300330033003200320032003200000000000000000000000000000000000000000000000000" \
	"000000000000000000000000000000000000000000000000350100000000bb650000000000000000" \
	"00001b01270110000000e0f7026460ea000060ea0000000000000800000064000000360803000001" \
	"0000000000000000000000000000070001000000ca0300000000a7b34040c00000002c0adfe10001" \
	"000100050000d2ad0300000000000000000000000000000000000000000000000000000000000000" \
	"00000000000000feff7fdc1f010000000000003c"
#define JK02_08 "55aaeb9003fc4a4b2d4232413234533230500000000031302e584700000031302e30370000002c1b" \
	"0400010000004a4b2d42324132345332305000000000313233340000000000000000000000003232" \
	"30353131000032303431383033303238003030303000496e70757420557365726461746100003132" \
	"33343536000000000000000000000000000000000000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000fc"
#define JK02_09 "55aaeb9002fcd40cd00ccf0cd00cd00ccf0ccf0cd10cd00ccf0cd00ccf0cd20cd40ccf0ccf0cd00c" \
	"cf0cd10cd20cd20cd20cd50cd10cffffff00d10c0500000364006c00680063005f005d005b005e00" \
	"7f0079006b006f006f006800640060005b00580058005b0060006500680061000000000000008f33" \
	"01000000000000000000cf00cf00ea0000000000005534a7000050c3000000000000f93400006400" \
	"40051c1c040001008506000000000000000000000000070001000000fa030000000000d23f400000" \
	"0000e204000000000001000300001a19290000000000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"0000000000000000000000000000000000000043"
#define JK02_10 "55aaeb900273dc0cdb0cdc0cdc0cd80cdc0cdb0cdc0cdc0cdc0cdc0cdc0cdb0c0000000000000000" \
	"0000000000000000000000000000ff1f0000db0c0400000439003900390039003800390038003900" \
	"380038003800380038000000000000000000000000000000000000000000000000000000000022a7" \
	"00000000000000000000e1ffe3ff050000000000002fc0f60000a003020038000000b81272006400" \
	"850803423b010000a406000000000000000000000000070001000000fa030000000029143c400000" \
	"0000e2040000000000010005000096676f0b00000000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"0000000000000000000000000000000000000066"
#define JK02_11 "55aaeb9002409e0c9f0ca00ca00ca10ca10c9a0ca30cab0c9f0c9f0c9f0ca00ca00ca10ca00c0000" \
	"0000000000000000000000000000ffff0000a00c0e0008069e01990190018c018a01880188018a01" \
	"89018a019101980191018b018c0189010000000000000000000000000000000000000000000003ca" \
	"0000b4780200e50b000007010b01250100009ffd021e775f0000683c01006f000000863b8a006400" \
	"4c04c6a4f3000101ad06000000000000000000000000070001000000d50223000000aed63b407800" \
	"000058aafdff000000010002000016843b0400000000000000000000000000000000000000000000" \
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"000000000000000000000000000000000000006a"
#define JK02_12 "55aaeb9003254a4b5f50423241313653323050000000313541000000000031352e3431000000cce8" \
	"ef001b0000004a4b20424d5320763100000000000000313233340000000000000000000000003235" \
	"303533310000343131303134393435313600303030004a4b2d424d53000000000000000000006a61" \
	"726f7300000000000000000000004a4b2d424d5300000000000000000000ffffffff8fe99d030000" \
	"0000901f00000000c0d8e7fe3f00000100000000000000000e00ff67000000000000000000000000" \
	"0000ff0f000000000000000000000000000001ff6700000000000000000000000000090800016400" \
	"00005f0000003c000000320000000000000000000000407e00000a08011e00000000000000000000" \
	"00000000000000fe9fe9ff0f0000000000000017"
#define JK02_13 "55aaeb900225150d140d150d150d140d130d130d130d130d130d140d150d140d180d140d130d0000" \
	"000000000000000000000000000000000000000000000000000000000000ffff0000140d04000701" \
	"360037003f0040004200480052004d0050004d0045004200440042003c0036000000000000000000" \
	"0000000000000000000000000000000000000000000000001900000000003ad10000934c0000d902" \
	"000039003d000000000000000063d5ae0400f0ba0400110000007e6f5200640000000ce9ef000101" \
	"0000000000000000000000000000ff00010000009303020000000000404000000000ec1400000001" \
	"010100060100774ead000000000019003b00370090033f2c1f0b1b02000080510100000001030000" \
	"00000000000000feff7fdc2f0101b0cf070000de"
#define JK02_ACK_AT "aa5590ebc801010000000000000000000000004441540d0a"

static const size_t chunks_odd[] = { 1, 2, 7, 13, 1, 26, 3, 11, 40, 64, 17, 150 };
static const size_t notif20[] = { 20 };   /* ATT MTU 23 */
static const size_t notif128[] = { 128 }; /* ATT MTU 131, as captured */

/* The bytes of a fixture (up to 400). */
static size_t hexb(const char *hex, uint8_t *out)
{
	int n = drive_hex(hex, out, 400);
	return (size_t)n;
}

static void fix_sum(uint8_t *p)
{
	p[299] = 0;
	unsigned s = 0;
	for (int i = 0; i < 299; i++)
		s += p[i];
	p[299] = (uint8_t)s;
}

static void put32(uint8_t *p, int off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

/* The step's request, or 0 when it listens or the poll is done. */
static int request(struct bms_poll *poll, uint8_t *req)
{
	if (drv->listens(poll))
		return 0;
	return drv->next_request(poll, req, 32);
}

static bool req_is(struct bms_poll *poll, const char *hex)
{
	uint8_t req[32], want[32];
	int n = request(poll, req);
	int m = check_hex(hex, want, 32);
	return n == m && n > 0 && memcmp(req, want, (size_t)n) == 0;
}

/* A poll as the gateway makes them between its refreshes (poll.refresh
 * false), of a pack whose current limits are kept (KEPT_CCL / KEPT_DCL,
 * unless a settings record gave others): the settings record is not
 * wanted for them. */
#define KEPT_CCL 60.0f
#define KEPT_DCL 100.0f
static void ble_begin(struct bms_poll *poll, struct bms_rx *rx, uint8_t addr, uint8_t forced, bool inv,
		      uint8_t link, bool fresh)
{
	drive_begin_link(poll, rx, addr, forced, inv, link, fresh);
	poll->refresh = false;
	if (!(poll->kept.have & BMS_HAS_CUR_LIMITS)) {
		poll->kept.have |= BMS_HAS_CUR_LIMITS;
		poll->kept.ccl_a = KEPT_CCL;
		poll->kept.dcl_a = KEPT_DCL;
	}
}

/* ---- the values of the captures ---------------------------------------- */

static void check_03(const struct bms_snapshot *s) /* BD6A24S10P, JK02_24S */
{
	static const uint16_t c[16] = { 3027, 2976, 3041, 3039, 3033, 3089, 2994, 3071,
					2991, 2853, 2957, 3027, 3017, 3007, 3047, 3043 };
	drive_check_cells(s, c, 16);
	CHECK_NEAR(s->voltage, 48.21, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	CHECK_NEAR(s->soc, 18.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 4.6, 1e-4);
	CHECK_NEAR(s->full_ah, 25.0, 1e-4);
	CHECK_EQ_INT(s->cycles, 8);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_NEAR(s->mos_temp_c, 20.8, 1e-4);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[0], 21.6, 1e-4);
	CHECK_NEAR(s->temp_c[1], 21.4, 1e-4);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 1); /* JK02_24S: 16 alarm bits */
	CHECK_EQ_INT(s->present & ~(uint32_t)(BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS), BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH |
		     BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		     BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_ALARMS);
}

static void check_06(const struct bms_snapshot *s) /* B2A8S20P 11.17, JK02_32S */
{
	static const uint16_t c[8] = { 3287, 3291, 3285, 3327, 3328, 3285, 3284, 3296 };
	drive_check_cells(s, c, 8);
	CHECK_NEAR(s->voltage, 26.381, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	CHECK_NEAR(s->soc, 69.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 69.554, 1e-3);
	CHECK_NEAR(s->full_ah, 100.0, 1e-3);
	CHECK_EQ_INT(s->cycles, 0);
	CHECK_NEAR(s->mos_temp_c, 36.1, 1e-4);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[0], 29.7, 1e-4);
	CHECK_NEAR(s->temp_c[1], 29.8, 1e-4);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 2);
}

static void check_07(const struct bms_snapshot *s) /* the same pack, full */
{
	CHECK_EQ_INT(s->ncells, 8);
	CHECK_EQ_INT(s->cell_mv[0], 3215);
	CHECK_NEAR(s->voltage, 26.043, 1e-4);
	CHECK_NEAR(s->soc, 100.0, 1e-6);
	CHECK(!s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->raw_alarms[0], 0x0010); /* b4 cell over-voltage protection */
	CHECK_EQ_INT(s->alarms, BMS_AL_CELL_OV | BMS_AL_PROTECTION);
}

static void check_09(const struct bms_snapshot *s) /* B2A24S20P 10.07, 24 cells */
{
	CHECK_EQ_INT(s->ncells, 24);
	CHECK_EQ_INT(s->cell_mv[0], 3284);
	CHECK_EQ_INT(s->cell_mv[22], 3285);
	CHECK_EQ_INT(s->cell_mv[23], 3281);
	CHECK_NEAR(s->voltage, 78.735, 1e-3);
	CHECK_NEAR(s->soc, 85.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 42.804, 1e-3);
	CHECK_NEAR(s->full_ah, 50.0, 1e-3);
	CHECK_NEAR(s->mos_temp_c, 23.4, 1e-4);
	CHECK_NEAR(s->temp_c[0], 20.7, 1e-4);
	CHECK(s->chg_mos && !s->dsg_mos);
}

static void check_10(const struct bms_snapshot *s) /* B1A20S15P 10.07, below 0 degC */
{
	CHECK_EQ_INT(s->ncells, 13);
	CHECK_NEAR(s->voltage, 42.786, 1e-3);
	CHECK_NEAR(s->soc, 47.0, 1e-6);
	CHECK_EQ_INT(s->cycles, 56);
	CHECK_NEAR(s->full_ah, 132.0, 1e-3);
	CHECK_NEAR(s->mos_temp_c, 0.5, 1e-4);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[0], -3.1, 1e-4);
	CHECK_NEAR(s->temp_c[1], -2.9, 1e-4);
	CHECK(!s->chg_mos && !s->dsg_mos);
}

static void check_11(const struct bms_snapshot *s, bool inv) /* BD6A17S6P 7.1.0H, charging */
{
	CHECK_EQ_INT(s->ncells, 16);
	CHECK_EQ_INT(s->cell_mv[8], 3243);
	CHECK_NEAR(s->voltage, 51.715, 1e-3);
	CHECK_NEAR(s->current, inv ? -3.045 : 3.045, 1e-4);
	CHECK_NEAR(s->soc, 30.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 24.439, 1e-3);
	CHECK_NEAR(s->full_ah, 81.0, 1e-3);
	CHECK_EQ_INT(s->cycles, 111);
	CHECK_NEAR(s->mos_temp_c, 29.3, 1e-4);
}

static void check_13(const struct bms_snapshot *s) /* JK-PB2A16S20P 15.41 over BLE */
{
	CHECK_EQ_INT(s->ncells, 16);
	CHECK_EQ_INT(s->cell_mv[13], 3352);
	CHECK_NEAR(s->voltage, 53.562, 1e-3);
	CHECK_NEAR(s->current, 0.729, 1e-4);
	CHECK_NEAR(s->soc, 99.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 306.901, 1e-3);
	CHECK_NEAR(s->full_ah, 310.0, 1e-3);
	CHECK_EQ_INT(s->cycles, 17);
	CHECK_NEAR(s->mos_temp_c, 2.5, 1e-4);
	CHECK_EQ_INT(s->ntemps, 4);
	CHECK_NEAR(s->temp_c[0], 5.7, 1e-4);
	CHECK_NEAR(s->temp_c[1], 6.1, 1e-4);
	CHECK_NEAR(s->temp_c[2], 5.9, 1e-4);
	CHECK_NEAR(s->temp_c[3], 5.5, 1e-4);
}

/* ---- requests, the driver table ------------------------------------------ */

static void test_table(void)
{
	CHECK_STR(drv->name, "jk-ble");
	CHECK_EQ_INT(drv->protocol_id, 11);
	CHECK(bms_find("jk-ble") == drv);
	CHECK(bms_ble_only(drv));
	CHECK(!drv->listen_only);
	CHECK(drv->listens != NULL);
	CHECK_EQ_INT(drv->ble->company, 0);
	CHECK(drv->ble->gatt != NULL);
	CHECK_STR(drv->ble->gatt[0].service, "0000ffe0-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].notify, "0000ffe1-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].write, "0000ffe1-0000-1000-8000-00805f9b34fb");
	CHECK(drv->ble->gatt[1].service == NULL);
	CHECK_EQ_INT(drv->min_address, 0);
	CHECK_EQ_INT(drv->max_address, 0);
	CHECK(drv->control && drv->control->unacked);
	CHECK(drv->provides & BMS_HAS_SETPOINT);
	CHECK(drv->default_timeout >= 1.0); /* records stream 0.32-0.67 s apart */
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t req[32];
	size_t n;

	/* a fresh link: device info first (AA 55 90 EB 97 00 ... 11) */
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK(!drv->listens(&poll));
	CHECK(req_is(&poll, "aa5590eb97000000000000000000000000000011"));
	CHECK_EQ_INT(drv->next_request(&poll, req, 19), BMS_E_NOSPACE);
	/* our request, echoed, and the app's (random filler, JK02-REQ-97/96)
	 * are skipped whole, never frames */
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 20);
	for (size_t k = 0; k < 20; k++)
		CHECK_EQ_INT(drv->scan(&poll, req, k, &n), k ? BMS_SCAN_NEED : BMS_SCAN_NEED);
	CHECK_EQ_INT(drv->scan(&poll, req, 20, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 20);
	uint8_t app[32];
	hexb(JK02_REQ_97, app);
	CHECK_EQ_INT(drv->scan(&poll, app, 20, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 20);
	hexb(JK02_REQ_96, app);
	CHECK_EQ_INT(drv->scan(&poll, app, 20, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 20);
	/* the same command as the app's: cmd 0x96 / 0x97, len 0 */
	CHECK_EQ_INT(app[4], 0x96);
	CHECK_EQ_INT(app[5], 0);
	/* with the layout known and the stream running (a later poll): it
	 * listens; a retry asks with 0x96 (AA 55 90 EB 96 00 ... 10) */
	poll.persist = 0xF;
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK(drv->listens(&poll));
	poll.attempt = 1;
	CHECK(!drv->listens(&poll));
	CHECK(req_is(&poll, "aa5590eb96000000000000000000000000000010"));
	/* the same on a fresh link: device info again */
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK(req_is(&poll, "aa5590eb97000000000000000000000000000011"));
}

/* ---- whole polls ------------------------------------------------------------ */

/* The captured session of a BD6A24S10P (software 8.0.6G): 0x97 -> device
 * info + acknowledgement (320 bytes as 128 + 128 + 64), 0x96 -> settings +
 * acknowledgement, then cell records streamed (128 + 128 + 44). */
static void test_session_24s(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r = { 0 };
	uint8_t info[400], set[400], cell[400];
	size_t ni = hexb(JK02_01, info), ns = hexb(JK02_02, set), nc = hexb(JK02_03, cell);
	CHECK_EQ_INT(ni, 320);
	CHECK_EQ_INT(ns, 320);
	CHECK_EQ_INT(nc, 300);

	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	struct drive_answer a[3] = {
		DRIVE_ANSWER(info, ni, notif128),
		DRIVE_ANSWER(set, ns, notif128),
		DRIVE_ANSWER(cell, nc, notif128),
	};
	a[0].req_len = 20;
	a[1].req_len = 20;
	a[2].req_len = DRIVE_LISTENS;
	a[0].unexpected = a[1].unexpected = 1; /* the acknowledgement after each record: a frame, ignored */
	CHECK_EQ_INT(drive_poll(&poll, &rx, a, 3, &r), BMS_OK);
	CHECK_EQ_INT(r.err + r.badsum, 0);
	CHECK_EQ_INT(r.unexpected, 2);
	check_03(&poll.snap);
	CHECK(!(poll.snap.present & BMS_HAS_SETPOINT)); /* not asked for */
	uint32_t learned = poll.persist;

	/* the next polls just listen, in the learned JK02_24S layout */
	for (int k = 0; k < 3; k++) {
		ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		struct drive_answer b[1] = { DRIVE_ANSWER(cell, nc, notif128) };
		b[0].req_len = DRIVE_LISTENS;
		CHECK_EQ_INT(drive_poll(&poll, &rx, b, 1, &r), BMS_OK);
		check_03(&poll.snap);
		CHECK_EQ_INT(poll.persist, learned);
	}

	/* a reconnection: device info and settings again */
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK_EQ_INT(drive_poll(&poll, &rx, a, 3, &r), BMS_OK);
	check_03(&poll.snap);

	/* with the switch settings (a pack with control): always 0x96 and
	 * the settings record, then the stream */
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	poll.setpoints = true;
	CHECK_EQ_INT(drive_poll(&poll, &rx, a + 1, 2, &r), BMS_OK);
	check_03(&poll.snap);
	CHECK(poll.snap.present & BMS_HAS_SETPOINT);
	CHECK(poll.snap.chg_set && poll.snap.dsg_set);
	/* a discharge switch set off (settings offset 122) */
	put32(set, 122, 0);
	fix_sum(set);
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	poll.setpoints = true;
	CHECK_EQ_INT(drive_poll(&poll, &rx, a + 1, 2, &r), BMS_OK);
	CHECK(poll.snap.chg_set && !poll.snap.dsg_set);
	CHECK(poll.snap.dsg_mos); /* the MOSFET is the cell record's */
}

/* B2A8S20P (software 11.17): the JK02_32S layout; the PB2A16S20P (15.41,
 * the JK-PB over BLE) too. */
static void test_session_32s(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r = { 0 };
	uint8_t info[400], set[400], cell[400], cell2[400];
	size_t ni = hexb(JK02_04, info), ns = hexb(JK02_05, set), nc = hexb(JK02_06, cell);
	size_t nc2 = hexb(JK02_07, cell2);

	poll.persist = 0;
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	struct drive_answer a[3] = {
		DRIVE_ANSWER(info, ni, chunks_odd),
		DRIVE_ANSWER(set, ns, notif20),
		DRIVE_ANSWER(cell, nc, chunks_big),
	};
	a[0].req_len = 20;
	a[1].req_len = 20;
	a[2].req_len = DRIVE_LISTENS;
	CHECK_EQ_INT(drive_poll(&poll, &rx, a, 3, &r), BMS_OK);
	check_06(&poll.snap);
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	struct drive_answer b[1] = { DRIVE_ANSWER(cell2, nc2, notif128) };
	b[0].req_len = DRIVE_LISTENS;
	CHECK_EQ_INT(drive_poll(&poll, &rx, b, 1, &r), BMS_OK);
	check_07(&poll.snap);

	/* the JK-PB: device info 15.41, then its cell record (T1-T4) */
	ni = hexb(JK02_12, info);
	nc = hexb(JK02_13, cell);
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	struct drive_answer c[3] = {
		DRIVE_ANSWER(info, ni, notif128),
		DRIVE_ANSWER(set, ns, notif128),
		DRIVE_ANSWER(cell, nc, notif128),
	};
	c[0].req_len = 20;
	c[1].req_len = 20;
	c[2].req_len = DRIVE_LISTENS;
	CHECK_EQ_INT(drive_poll(&poll, &rx, c, 3, &r), BMS_OK);
	check_13(&poll.snap);
}

/* The settings record's current limits: JK02-02 (BD6A24S10P, JK02_24S:
 * 25 / 50 A) and JK02-05 (B2A8S20P, JK02_32S: 25 / 200 A); read on the
 * first poll of a connection and on refresh polls (asking 0x96 while the
 * BMS streams), kept for the polls between; a switch off reads 0 A;
 * impossible values are no limits. */
static void test_limits(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r = { 0 };
	uint8_t info[400], set[400], cell[400], set5[400], info4[400], cell6[400];
	size_t ni = hexb(JK02_01, info), ns = hexb(JK02_02, set), nc = hexb(JK02_03, cell);
	size_t ns5 = hexb(JK02_05, set5), ni4 = hexb(JK02_04, info4), nc6 = hexb(JK02_06, cell6);

	/* a new connection, nothing kept yet */
	memset(&poll, 0, sizeof(poll));
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	poll.refresh = false;
	struct drive_answer a[3] = {
		DRIVE_ANSWER(info, ni, notif128),
		DRIVE_ANSWER(set, ns, notif20),
		DRIVE_ANSWER(cell, nc, chunks_odd),
	};
	a[0].req_len = 20;
	a[1].req_len = 20;
	a[2].req_len = DRIVE_LISTENS;
	a[0].unexpected = a[1].unexpected = 1; /* JK02-01 / -02's acknowledgements */
	CHECK_EQ_INT(drive_poll(&poll, &rx, a, 3, &r), BMS_OK);
	check_03(&poll.snap);
	CHECK(poll.snap.present & BMS_HAS_CUR_LIMITS);
	CHECK_NEAR(poll.snap.bms_ccl_a, 25.0, 1e-4);
	CHECK_NEAR(poll.snap.bms_dcl_a, 50.0, 1e-4);
	CHECK_NEAR(poll.kept.ccl_a, 25.0, 1e-4);
	CHECK(!(poll.snap.present & BMS_HAS_VOLT_LIMITS));
	/* the BMS's settings of JK02-02, shown read only (§6.7 offsets) */
	const struct bms_settings *st = &poll.kept.settings;
	CHECK_NEAR(st->v[BMS_SET_CELL_OVP_V], 3.65, 1e-5);
	CHECK_NEAR(st->v[BMS_SET_CELL_OVP_RELEASE_V], 3.5, 1e-5);
	CHECK_NEAR(st->v[BMS_SET_CELL_UVP_V], 2.6, 1e-5);
	CHECK_NEAR(st->v[BMS_SET_CELL_UVP_RELEASE_V], 2.9, 1e-5);
	CHECK_NEAR(st->v[BMS_SET_BALANCE_DELTA_V], 0.01, 1e-6);
	CHECK_NEAR(st->v[BMS_SET_BALANCE_START_V], 3.5, 1e-5);
	CHECK_NEAR(st->v[BMS_SET_BALANCE_CURRENT_A], 0.6, 1e-5);
	CHECK_NEAR(st->v[BMS_SET_CHARGE_OCP_A], 25.0, 1e-4);
	CHECK_NEAR(st->v[BMS_SET_DISCHARGE_OCP_A], 50.0, 1e-4);
	CHECK_NEAR(st->v[BMS_SET_CHARGE_OTP_C], 45.0, 1e-4);
	CHECK_NEAR(st->v[BMS_SET_DISCHARGE_OTP_C], 55.0, 1e-4);
	CHECK_NEAR(st->v[BMS_SET_MOS_OTP_C], 90.0, 1e-4);
	CHECK_NEAR(st->v[BMS_SET_CELL_COUNT], 16.0, 1e-6);
	CHECK_NEAR(st->v[BMS_SET_CAPACITY_AH], 25.0, 1e-4);
	CHECK(bms_settings_has(st, BMS_SET_CHARGE_UTP_C));
	CHECK(!bms_settings_has(st, BMS_SET_PACK_OVP_V)); /* not in the record */

	/* between refreshes: it listens; the kept limits */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	poll.refresh = false;
	struct drive_answer b[1] = { DRIVE_ANSWER(cell, nc, notif128) };
	b[0].req_len = DRIVE_LISTENS;
	CHECK_EQ_INT(drive_poll(&poll, &rx, b, 1, &r), BMS_OK);
	CHECK_NEAR(poll.snap.bms_ccl_a, 25.0, 1e-4);
	CHECK_NEAR(poll.snap.bms_dcl_a, 50.0, 1e-4);

	/* a refresh poll: 0x96 although streaming; a streamed cell record
	 * before the settings record is not the answer; the charge switch off */
	put32(set, 118, 0);
	fix_sum(set);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK(poll.refresh);
	CHECK(!drv->listens(&poll));
	CHECK(req_is(&poll, "aa5590eb96000000000000000000000000000010"));
	uint8_t both[800];
	memcpy(both, cell, nc);
	memcpy(both + nc, set, ns);
	struct drive_answer c[2] = {
		DRIVE_ANSWER(both, nc + ns, chunks_odd),
		DRIVE_ANSWER(cell, nc, notif128),
	};
	c[0].unexpected = 2; /* the streamed cell record, the settings record's acknowledgement */
	c[0].req_len = 20;
	c[1].req_len = DRIVE_LISTENS;
	CHECK_EQ_INT(drive_poll(&poll, &rx, c, 2, &r), BMS_OK);
	check_03(&poll.snap);
	CHECK_NEAR(poll.snap.bms_ccl_a, 0.0, 1e-6);
	CHECK_NEAR(poll.snap.bms_dcl_a, 50.0, 1e-4);

	/* impossible limits: none reported or kept; the next polls listen
	 * without them, a refresh asks again */
	put32(set, 118, 1);
	put32(set, 62, 1000001u);
	fix_sum(set);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	c[0].p = set;
	c[0].len = ns;
	c[0].unexpected = 1;
	CHECK_EQ_INT(drive_poll(&poll, &rx, c, 2, &r), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_CUR_LIMITS));
	CHECK(!(poll.kept.have & BMS_HAS_CUR_LIMITS));
	/* ... and the impossible discharge current is no setting either */
	CHECK(!bms_settings_has(&poll.kept.settings, BMS_SET_DISCHARGE_OCP_A));
	CHECK(bms_settings_has(&poll.kept.settings, BMS_SET_CHARGE_OCP_A));
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	poll.refresh = false;
	CHECK(drv->listens(&poll));
	CHECK_EQ_INT(drive_poll(&poll, &rx, b, 1, &r), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_CUR_LIMITS));

	/* JK02_32S: JK02-05, both switches on */
	memset(&poll, 0, sizeof(poll));
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	struct drive_answer d[3] = {
		DRIVE_ANSWER(info4, ni4, notif128),
		DRIVE_ANSWER(set5, ns5, chunks_big),
		DRIVE_ANSWER(cell6, nc6, notif20),
	};
	d[0].req_len = 20;
	d[1].req_len = 20;
	d[2].req_len = DRIVE_LISTENS;
	CHECK_EQ_INT(drive_poll(&poll, &rx, d, 3, &r), BMS_OK);
	check_06(&poll.snap);
	CHECK_NEAR(poll.snap.bms_ccl_a, 25.0, 1e-4);
	CHECK_NEAR(poll.snap.bms_dcl_a, 200.0, 1e-4);
	CHECK_EQ_INT(r.err, 0);
	/* JK02-05's settings: a charge UTP below 0 degC */
	CHECK_NEAR(poll.kept.settings.v[BMS_SET_CHARGE_UTP_C], -20.0, 1e-4);
	CHECK_NEAR(poll.kept.settings.v[BMS_SET_CHARGE_UTP_RELEASE_C], -10.0, 1e-4);
	CHECK_NEAR(poll.kept.settings.v[BMS_SET_DISCHARGE_OCP_A], 200.0, 1e-4);
	CHECK_NEAR(poll.kept.settings.v[BMS_SET_CELL_COUNT], 8.0, 1e-6);
	CHECK_NEAR(poll.kept.settings.v[BMS_SET_CAPACITY_AH], 100.0, 1e-4);
}

/* The JK02_24S records of other boards: B2A24S20P 10.07 (24 cells, its
 * device info), B1A20S15P 10.07 (below 0 degC), BD6A17S6P 7.1.0H. */
static void test_records_24s(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r = { 0 };
	uint8_t info[400], cell[400];
	size_t ni = hexb(JK02_08, info), nc = hexb(JK02_09, cell);

	poll.persist = 0;
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	r = FEED_BYTES(&poll, &rx, info, ni, notif128);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.persist & 0x3, 0x3); /* 10.07: JK02_24S */
	poll.step = 3; /* the listening step */
	r = FEED_BYTES(&poll, &rx, cell, nc, notif128);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_09(&poll.snap);

	static const struct {
		const char *hex;
		int which;
	} recs[] = { { JK02_10, 10 }, { JK02_11, 11 } };
	for (size_t k = 0; k < 2; k++)
		for (int inv = 0; inv < 2; inv++) {
			ble_begin(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, false);
			CHECK(drv->listens(&poll));
			nc = hexb(recs[k].hex, cell);
			r = FEED_BYTES(&poll, &rx, cell, nc, chunks_odd);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
			if (recs[k].which == 10)
				check_10(&poll.snap);
			else
				check_11(&poll.snap, inv);
		}
	/* a cell count forced: the first slots (24 at most in JK02_24S) */
	ble_begin(&poll, &rx, 0, 4, false, BMS_LINK_BLE, false);
	nc = hexb(JK02_09, cell);
	r = FEED_BYTES(&poll, &rx, cell, nc, chunks_big);
	CHECK_EQ_INT(poll.snap.ncells, 4);
	ble_begin(&poll, &rx, 0, 40, false, BMS_LINK_BLE, false);
	r = FEED_BYTES(&poll, &rx, cell, nc, chunks_big);
	CHECK_EQ_INT(poll.snap.ncells, 24);
}

/* The software version decides the layout. */
static void test_versions(void)
{
	static const struct {
		const char *sw;
		bool l24;
	} v[] = {
		{ "8.0.6G", true }, { "10.07", true }, { "7.1.0H", true }, { "11.17", false },
		{ "15.41", false }, { "V19.05", false }, { "v10.08", true }, { "X.Y", false }, { "", false },
	};
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t info[400];
	size_t ni = hexb(JK02_04, info);
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		memset(info + 30, 0, 8);
		memcpy(info + 30, v[k].sw, strlen(v[k].sw));
		fix_sum(info);
		poll.persist = 0;
		ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
		struct drive_res r = FEED_BYTES(&poll, &rx, info, ni, chunks_big);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT((poll.persist & 0x2) != 0, v[k].l24);
		CHECK(poll.persist & 0x1);
	}
}

/* ---- every chunking, noise, acknowledgements ---------------------------------- */

static void test_chunkings(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t cell[400], ack[64], buf[1024];
	size_t nc = hexb(JK02_06, cell), na = hexb(JK02_ACK_AT, ack);
	CHECK_EQ_INT(na, 24);

	/* JK02_32S known, streaming: the cell step listens */
	for (size_t k = 1; k < nc; k++) {
		const size_t two[] = { k, nc - k };
		poll.persist = 0xD; /* layout known (32S), greeted, streaming */
		ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		struct drive_res r = FEED_BYTES(&poll, &rx, cell, nc, two);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.err + r.unexpected + r.badsum + r.bad_scan, 0);
		CHECK_EQ_INT(rx.len, 0);
	}
	check_06(&poll.snap);
	/* acknowledgement + "AT\r\n" (as notified, JK02-ACK-AT) and lone
	 * "AT\r\n" notifications around and after the record, in 20- and
	 * 128-byte notifications and in one read */
	size_t len = 0;
	memcpy(buf + len, ack, na);
	len += na;
	memcpy(buf + len, "AT\r\n", 4);
	len += 4;
	memcpy(buf + len, cell, nc);
	len += nc;
	memcpy(buf + len, ack, na);
	len += na;
	memcpy(buf + len, "AT\r\nAT\r\n", 8);
	len += 8;
	const size_t *chs[] = { notif20, notif128, chunks_big, chunks_one, chunks_odd };
	const size_t nchs[] = { 1, 1, 1, 1, DRIVE_NCH(chunks_odd) };
	for (int k = 0; k < 5; k++) {
		ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		struct drive_res r = drive_feed_bytes(&poll, &rx, buf, len, chs[k], nchs[k]);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.err + r.badsum + r.bad_scan, 0);
		CHECK_EQ_INT(r.frames, 3); /* the acknowledgements are frames too, which a poll ignores */
		CHECK_EQ_INT(r.unexpected, 2);
		check_06(&poll.snap);
	}
	/* a settings record (the answer to a retry's 0x96) and a device-info
	 * record before the cell record: ignored while listening */
	uint8_t set[400], info[400];
	size_t ns = hexb(JK02_05, set), ni = hexb(JK02_04, info);
	len = 0;
	memcpy(buf + len, info, ni);
	len += ni;
	memcpy(buf + len, set, ns);
	len += ns;
	memcpy(buf + len, cell, nc);
	len += nc;
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	struct drive_res r = FEED_BYTES(&poll, &rx, buf, len, notif128);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.unexpected, 2);
	check_06(&poll.snap);
	/* a lost notification: the record's first 128 bytes, then the next
	 * record whole: one checksum error, the next record found */
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = (struct drive_res){ 0 };
	drive_feed(&poll, &rx, cell, 128, notif128, 1, &r);
	drive_feed(&poll, &rx, cell, nc, notif128, 1, &r);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.badsum, 1);
	check_06(&poll.snap);
	/* "AT\r\n" injected between two notifications of a record spoils
	 * that record (checksum); the next one is taken */
	len = 0;
	memcpy(buf, cell, 128);
	memcpy(buf + 128, "AT\r\n", 4);
	memcpy(buf + 132, cell + 128, nc - 128);
	memcpy(buf + 4 + nc, cell, nc);
	len = 2 * nc + 4;
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = FEED_BYTES(&poll, &rx, buf, len, notif128);
	CHECK_EQ_INT(r.ok, 1);
	CHECK(r.badsum >= 1);
	check_06(&poll.snap);
}

/* ---- the stream stops, it is already running, steps and their records ---------- */

static void test_stream(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t set[400], cell[400];
	size_t ns = hexb(JK02_02, set), nc = hexb(JK02_03, cell);
	struct drive_res r;

	/* streaming as far as known: listen; nothing comes (a timeout) */
	poll.persist = 0xF; /* 24S, greeted, streaming */
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK(drv->listens(&poll));
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(poll.persist & 0x8, 0); /* no longer streaming */
	/* the retry asks with 0x96 (the settings record is that step's
	 * answer), then listens again */
	poll.attempt = 1;
	CHECK(req_is(&poll, "aa5590eb96000000000000000000000000000010"));
	r = FEED_BYTES(&poll, &rx, set, ns, notif128);
	CHECK_EQ_INT(r.ok, 1);
	poll.attempt = 0; /* the gateway's, after an answer */
	CHECK(drv->listens(&poll));
	r = FEED_BYTES(&poll, &rx, cell, nc, notif128);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_03(&poll.snap);
	CHECK(poll.persist & 0x8);
	/* a listening step that fails after the settings of its own poll:
	 * the retry sends 0x96, its settings record is not the answer */
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	poll.setpoints = true;
	r = FEED_BYTES(&poll, &rx, set, ns, notif128);
	CHECK_EQ_INT(r.ok, 1);
	CHECK(drv->listens(&poll));
	CHECK(!drv->timeout(&poll));
	poll.attempt = 1;
	CHECK(req_is(&poll, "aa5590eb96000000000000000000000000000010"));
	r = FEED_BYTES(&poll, &rx, set, ns, notif128);
	CHECK_EQ_INT(r.unexpected, 2); /* the record and its acknowledgement */
	r = FEED_BYTES(&poll, &rx, cell, nc, notif128);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(poll.snap.chg_set && poll.snap.dsg_set);
	/* a poll whose listening failed for good: the next one asks first */
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK(!drv->timeout(&poll));
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK(!drv->listens(&poll));
	CHECK(req_is(&poll, "aa5590eb96000000000000000000000000000010"));
	/* the BMS streams already: a cell record instead of the settings
	 * completes the poll when no settings are wanted */
	r = FEED_BYTES(&poll, &rx, cell, nc, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(request(&poll, (uint8_t[32]){ 0 }), 0);
	CHECK(!drv->listens(&poll));
	/* ... but not when they are */
	poll.persist &= ~0x8u;
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	poll.setpoints = true;
	r = FEED_BYTES(&poll, &rx, cell, nc, chunks_big);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* a poll whose device-info step failed asks for it again next time */
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK(req_is(&poll, "aa5590eb97000000000000000000000000000011"));
	r = FEED_BYTES(&poll, &rx, cell, nc, chunks_big); /* not the answer */
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK(!drv->timeout(&poll));
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK(req_is(&poll, "aa5590eb97000000000000000000000000000011"));
	/* without BLE's link_fresh (a gateway that never sets it, a TCP
	 * bridge): the unknown layout asks for the device info */
	poll.persist = 0;
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_WIRE, false);
	CHECK(req_is(&poll, "aa5590eb97000000000000000000000000000011"));
}

/* ---- broken input --------------------------------------------------------------- */

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t cell[400], bad[400];
	size_t nc = hexb(JK02_06, cell);
	struct drive_res r;

	/* a bad checksum: counted, skipped, the good record after it taken */
	memcpy(bad, cell, nc);
	bad[299] ^= 0x01;
	uint8_t two[800];
	memcpy(two, bad, nc);
	memcpy(two + nc, cell, nc);
	poll.persist = 0xD;
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = FEED_BYTES(&poll, &rx, two, 2 * nc, notif128);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(r.ok, 1);
	check_06(&poll.snap);
	/* handed to handle() directly: checksum, truncated, header */
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK_EQ_INT(drv->handle(&poll, bad, nc), BMS_E_CHECKSUM);
	CHECK_EQ_INT(drv->handle(&poll, cell, nc - 1), BMS_E_SHORT);
	memcpy(bad, cell, nc);
	bad[0] = 0x56;
	fix_sum(bad);
	CHECK_EQ_INT(drv->handle(&poll, bad, nc), BMS_E_HEADER);
	/* truncated in the stream: the record never completes */
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = FEED_BYTES(&poll, &rx, cell, nc - 1, notif128);
	CHECK_EQ_INT(r.frames + r.badsum, 0);
	CHECK_EQ_INT(rx.len, nc - 1);
	/* type 4 and unknown types are no records */
	memcpy(bad, cell, nc);
	bad[4] = 4;
	fix_sum(bad);
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = FEED_BYTES(&poll, &rx, bad, nc, chunks_big);
	CHECK_EQ_INT(r.frames, 0);
	/* a logbook record (type 5) is a record, not the sample */
	bad[4] = 5;
	fix_sum(bad);
	r = FEED_BYTES(&poll, &rx, bad, nc, chunks_big);
	CHECK_EQ_INT(r.unexpected, 1);
	/* impossible counts: no cell present, a negative remaining capacity */
	memcpy(bad, cell, nc);
	put32(bad, 70, 0);
	fix_sum(bad);
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = FEED_BYTES(&poll, &rx, bad, nc, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	memcpy(bad, cell, nc);
	put32(bad, 174, 0xFFFFFFF0u);
	bad[173] = 250; /* SOC beyond 100 */
	fix_sum(bad);
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = FEED_BYTES(&poll, &rx, bad, nc, chunks_big);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_REMAIN));
	CHECK_NEAR(poll.snap.soc, 100.0, 1e-6);
	/* an acknowledgement with a bad sum: counted, skipped byte by byte */
	uint8_t ack[64];
	size_t na = hexb(JK02_ACK_AT, ack);
	ack[19] ^= 0x40;
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = FEED_BYTES(&poll, &rx, ack, na, chunks_big);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(r.frames, 0);
	/* a finished poll takes nothing more */
	ble_begin(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = FEED_BYTES(&poll, &rx, cell, nc, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->handle(&poll, cell, nc), BMS_E_UNEXPECTED);
}

/* ---- MOSFET control --------------------------------------------------------------- */

static void test_control(void)
{
	struct bms_control c;
	uint8_t out[32], want[32];

	memset(&c, 0, sizeof(c));
	c.set[BMS_FET_CHARGE] = true;
	c.on[BMS_FET_CHARGE] = false;
	c.set[BMS_FET_DISCHARGE] = true;
	c.on[BMS_FET_DISCHARGE] = true;
	c.link = BMS_LINK_BLE;
	/* register 0x1D (charge switch), 4 bytes, 0; then 0x1E, 1 */
	CHECK_EQ_INT(drv->control->request(&c, out, sizeof(out)), 20);
	check_hex("aa5590eb1d04000000000000000000000000009b", want, 32);
	CHECK(memcmp(out, want, 20) == 0);
	CHECK_EQ_INT(c.step, 1);
	CHECK_EQ_INT(drv->control->request(&c, out, sizeof(out)), 20);
	check_hex("aa5590eb1e04010000000000000000000000009d", want, 32);
	CHECK(memcmp(out, want, 20) == 0);
	CHECK_EQ_INT(drv->control->request(&c, out, sizeof(out)), 0);
	/* nothing acknowledges a write */
	CHECK_EQ_INT(drv->control->ack(&c, want, 20), BMS_E_UNEXPECTED);
	/* one switch only; a buffer too small */
	memset(&c, 0, sizeof(c));
	c.set[BMS_FET_DISCHARGE] = true;
	c.on[BMS_FET_DISCHARGE] = false;
	CHECK_EQ_INT(drv->control->request(&c, out, 19), BMS_E_NOSPACE);
	CHECK_EQ_INT(c.step, 0);
	CHECK_EQ_INT(drv->control->request(&c, out, sizeof(out)), 20);
	check_hex("aa5590eb1e04000000000000000000000000009c", want, 32);
	CHECK(memcmp(out, want, 20) == 0);
	CHECK_EQ_INT(drv->control->request(&c, out, sizeof(out)), 0);
	/* the frame is skipped by the framer like any request */
	struct bms_poll poll = { 0 };
	size_t n;
	CHECK_EQ_INT(drv->scan(&poll, want, 20, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 20);
}

int main(void)
{
	test_table();
	test_requests();
	test_session_24s();
	test_session_32s();
	test_limits();
	test_records_24s();
	test_versions();
	test_chunkings();
	test_stream();
	test_broken();
	test_control();
	return check_report();
}
