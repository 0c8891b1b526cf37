/* SPDX-License-Identifier: MIT */
/* tests/unit/test_rvc.c - an RV-C battery's DC source status read listen
 * only (bms/rvc.c).  RVC-01: the payloads of a Renogy REGO bank captured by
 * yarrumretep/dbus-rvc-renogy (its test's values: 13.3 V, +37.6 A charging,
 * 24.875 degC, SOC 87 %, SOH 100 %, CVL 14.4 V, CCL 300 A, 1200 Ah) at its
 * aggregator's address 0x8D, priority 6 (the identifiers are not in the
 * capture: tests/fixtures/README.md).  The other frames are built from the
 * layout of CoachProxy-OS's rvc-spec.yml, rvc2mqtt's and
 * dbus-serialbattery's RV-C driver (bms/PROTOCOLS.md §63) with the sources'
 * own values (thomasonw/RV-C's "0x77359400 = 0A" and "0x7D00 = 0A",
 * dbus-serialbattery's identifiers at 0x8F); in every chunking, both
 * current signs; other nodes' frames, claims, standard and remote frames
 * and another instance of the same node passed over, the frames before the
 * battery's instance is known held and taken; "not available" left out;
 * broken frames refused, the poll with them. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static const struct bms_driver *const drv = &bms_rvc_driver;

#include "can_recs.h"
#include "drive.h"

/* RVC-01: the REGO bank at 0x8D. */
#define RVC_01 "19FFFD8D#01780A0120013577 19FFFC8D#01783C25AEF40001 19FFFB8D#0178C81404AEFFFF " \
	"19FEC98D#0178072001709403 19FEC78D#0178000000FFFFFF 19FEA58D#017815B004F40100"

/* At 0x8F, instance 1: 53.15 V, -12.34 A on the wire (into the battery:
 * +12.34 A, charging, to bmsgw); 24.5625 degC, SOC
 * 81.5 %; SOH 97.5 %, 81 Ah left; bulk, CVL 55.2 V, CCL 50 A, LiFePO4; the
 * high voltage limit reached; both buses connected, 280 Ah. */
#define DC1 "19FFFD8F#01782704CC633577"
#define DC2 "19FFFC8F#01783225A3FFFFFF"
#define DC3 "19FFFB8F#0178C35100FFFFFF"
#define DC4 "19FEC98F#0178025004E880F3"
#define DC6 "19FEC78F#0178F1FFFFFFFFFF"
#define DC11 "19FEA58F#0178F51801FFFFFF"
#define SET DC4 " " DC1 " " DC2 " " DC3 " " DC6 " " DC11

static const size_t chunks_odd[] = { 1, 3, 2, 7, 5, 11 };

static struct drive_res feed(struct bms_poll *poll, struct bms_rx *rx, const char *text)
{
	uint8_t buf[1024];
	size_t n = recs(buf, sizeof(buf), text);
	return FEED_BYTES(poll, rx, buf, n, chunks_odd);
}

static void fresh(struct bms_poll *poll, struct bms_rx *rx, bool inv)
{
	drive_begin(poll, rx, 0x8F, 0, inv);
	poll->persist = 0;
}

static bool passes(uint32_t id)
{
	return (id & drv->can->ext_mask) == (drv->can->ext_id & drv->can->ext_mask);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "rvc");
	CHECK_EQ_INT(drv->protocol_id, 54);
	CHECK(bms_find("rvc") == drv);
	CHECK(drv->listen_only && drv->next_request == NULL && drv->control == NULL);
	CHECK_EQ_INT(drv->can->bitrate, 250000);
	CHECK_EQ_INT(drv->default_address, 0x8F);
	CHECK_EQ_INT(drv->max_address, 253);
	/* dbus-serialbattery's identifiers pass the filter; a claim, a request do not */
	static const uint32_t ids[] = { 0x19FFFD8F, 0x19FFFC8F, 0x19FFFB8F, 0x19FEC98F, 0x19FEC78F, 0x19FEA58F };
	for (size_t i = 0; i < 6; i++)
		CHECK(passes(ids[i]));
	CHECK(!passes(0x18EEFF8F) && !passes(0x18EAFF44));
	CHECK((0x305 & drv->can->mask) != drv->can->id);
}

static void test_set(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	for (int inv = 0; inv < 2; inv++) {
		fresh(&poll, &rx, inv);
		struct drive_res r = feed(&poll, &rx, SET);
		CHECK_EQ_INT(r.more, 6);
		CHECK_EQ_INT(r.err + r.unexpected, 0);
		CHECK(drv->timeout(&poll));
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		const struct bms_snapshot *s = &poll.snap;
		CHECK_NEAR(s->voltage, 53.15, 1e-4);
		CHECK_NEAR(s->current, inv ? -12.34 : 12.34, 1e-4); /* the wire's + is a discharge */
		CHECK_EQ_INT(s->ntemps, 1);
		CHECK_NEAR(s->temp_c[0], 24.5625, 1e-4);
		CHECK_NEAR(s->soc, 81.5, 1e-4);
		CHECK_NEAR(s->soh, 97.5, 1e-4);
		CHECK_NEAR(s->remain_ah, 81, 1e-4);
		CHECK_NEAR(s->full_ah, 280, 1e-4);
		CHECK_NEAR(s->bms_cvl_v, 55.2, 1e-4);
		CHECK(isnan(s->bms_dvl_v));
		CHECK_NEAR(s->bms_ccl_a, 50, 1e-4);
		CHECK(isnan(s->bms_dcl_a)); /* RV-C has no discharge limit */
		CHECK(s->chg_mos && s->dsg_mos);
		CHECK_EQ_INT(s->alarms, BMS_AL_PACK_OV);
		CHECK_EQ_INT(s->present & (BMS_HAS_CELLS | BMS_HAS_CYCLES), 0);
	}
	/* learned: the next poll ends at the last of the set's DGNs */
	drive_begin(&poll, &rx, 0x8F, 0, false);
	struct drive_res r = feed(&poll, &rx, SET " " SET);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.more, 5);
}

/* RVC-01, the REGO bank: every value its reader's test expects; DC6 all
 * clear; the same bank at 0x8F is another node's. */
static void test_rego(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	drive_begin(&poll, &rx, 0x8D, 0, false);
	poll.persist = 0;
	struct drive_res r = feed(&poll, &rx, RVC_01);
	CHECK_EQ_INT(r.err + r.unexpected, 0);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 13.3, 1e-4);
	CHECK_NEAR(s->current, 37.6, 1e-4); /* charging: the capture's -37.6 A */
	CHECK_NEAR(s->temp_c[0], 24.875, 1e-4);
	CHECK_NEAR(s->soc, 87, 1e-4);
	CHECK_NEAR(s->soh, 100, 1e-4);
	CHECK_NEAR(s->remain_ah, 1044, 1e-4);
	CHECK_NEAR(s->full_ah, 1200, 1e-4);
	CHECK_NEAR(s->bms_cvl_v, 14.4, 1e-4);
	CHECK_NEAR(s->bms_ccl_a, 300, 1e-4);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK(s->present & BMS_HAS_ALARMS);
	drive_begin(&poll, &rx, 0x8F, 0, false);
	poll.persist = 0;
	r = feed(&poll, &rx, RVC_01);
	CHECK_EQ_INT(r.unexpected, 6);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

/* DC_SOURCE_STATUS_6 bytes 3-4 (dbus-serialbattery's RV-C driver): low
 * SOC, low and high temperature, current; limits warn, disconnects
 * protect. */
static void test_dc6(void)
{
	static const struct {
		const char *dc6;
		uint32_t al;
	} cases[] = {
		{ "19FEC78F#0178FF01FFFFFFFF", BMS_AL_SOC_LOW },
		{ "19FEC78F#0178FF04FFFFFFFF", BMS_AL_SOC_LOW | BMS_AL_PROTECTION },
		{ "19FEC78F#0178FF10FFFFFFFF", BMS_AL_CHG_UT | BMS_AL_DSG_UT },
		{ "19FEC78F#0178FFFF01FFFFFF", BMS_AL_CHG_OT | BMS_AL_DSG_OT },
		{ "19FEC78F#0178FFFF40FFFFFF", BMS_AL_CHG_OC | BMS_AL_DSG_OC | BMS_AL_PROTECTION },
		{ "19FEC78F#0178100000FFFFFF", BMS_AL_PACK_UV },
		{ "19FEC78F#0178000000FFFFFF", 0 },
	};
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[160];
		snprintf(text, sizeof(text), "%s %s %s", DC2, DC1, cases[i].dc6);
		fresh(&poll, &rx, false);
		feed(&poll, &rx, text);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		CHECK_EQ_INT(poll.snap.alarms, cases[i].al);
	}
	/* four bytes: bytes 3-4 missing, refused */
	fresh(&poll, &rx, false);
	struct drive_res r = feed(&poll, &rx, DC2 " 19FEC78F#0178F100");
	CHECK_EQ_INT(r.last_err, BMS_E_SHORT);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

/* thomasonw/RV-C's zeros: 0x77359400 = 0 A, 0x7D00 = 0 A; "do not charge"
 * is no charge current whatever the field says; "not available" left out. */
static void test_zeros(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	fresh(&poll, &rx, false);
	feed(&poll, &rx, "19FEC98F#017801FFFF6888F3 19FFFD8F#0178000400943577 19FFFC8F#0178FFFF64FFFFFF "
			 "19FFFB8F#0178FFFFFFFFFFFF");
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 51.2, 1e-4);
	CHECK_NEAR(s->current, 0, 1e-9);
	CHECK_NEAR(s->soc, 50, 1e-9);
	CHECK_NEAR(s->bms_ccl_a, 0, 1e-9); /* 0x8868: 146 A asked, but "do not charge" */
	CHECK_EQ_INT(s->present & (BMS_HAS_TEMPS | BMS_HAS_SOH | BMS_HAS_REMAIN | BMS_HAS_VOLT_LIMITS), 0);
	fresh(&poll, &rx, false);
	feed(&poll, &rx, "19FEC98F#017803FFFF007DF3 19FFFD8F#0178000400943577 19FFFC8F#0178FFFF64FFFFFF");
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.bms_ccl_a, 0, 1e-9);
	/* no current available: none */
	fresh(&poll, &rx, false);
	feed(&poll, &rx, "19FFFC8F#0178FFFF64FFFFFF 19FFFD8F#01780004FFFFFFFF");
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.present & BMS_HAS_CURRENT, 0);
	/* 1FEC7: disconnects are protections; 1FEA5: the reserve level, a bus off */
	fresh(&poll, &rx, false);
	feed(&poll, &rx, "19FFFC8F#0178FFFF64FFFFFF 19FFFD8F#01780004FFFFFFFF 19FEC78F#0178F4FFFFFFFFFF "
			 "19FEA58F#01784401FFFFFFFF");
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_PACK_OV | BMS_AL_PROTECTION | BMS_AL_SOC_LOW);
	CHECK(poll.snap.chg_mos && !poll.snap.dsg_mos);
	CHECK_EQ_INT(poll.snap.present & BMS_HAS_FULL, 0);
}

/* Other nodes' frames, a claim, standard and remote frames, the same
 * node's instance 2 before and after its instance is known, another
 * source address configured. */
static void test_others(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	/* instance 2's 1FFFD (a starter battery) and instance 1's, both held,
	 * before the first 1FFFC: only instance 1's taken */
	fresh(&poll, &rx, false);
	struct drive_res r = feed(&poll, &rx, "19FFFD8F#01782704CC633577 19FFFD8F#0278000100943577 "
				  "19FFFD44#0177E80300943577 18EEFF44#1111111111111111 305#0102 19FFFD8Fr#8 " DC2);
	CHECK_EQ_INT(r.unexpected, 4);
	CHECK(!(poll.snap.present & BMS_HAS_VOLTAGE)); /* the held 1FFFD was instance 2's (the later one) */
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID); /* no 1FFFD of the battery yet */
	fresh(&poll, &rx, false);
	r = feed(&poll, &rx, "19FFFD8F#0278000100943577 " DC1 " " DC2 " 19FFFD8F#0278000100943577");
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.voltage, 53.15, 1e-4);
	/* the battery at another address: 0x8F's frames are another node's */
	drive_begin(&poll, &rx, 0x90, 0, false);
	poll.persist = 0;
	r = feed(&poll, &rx, SET " 19FFFC90#0178FFFF64FFFFFF 19FFFD90#0178000400943577");
	CHECK_EQ_INT(r.unexpected, 6);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.soc, 50, 1e-9);
}

static void test_broken(void)
{
	static const struct {
		const char *text;
		int rc;
	} bad[] = {
		{ "19FFFC8F#0178FFFF64FF", BMS_E_SHORT },        /* 6 bytes */
		{ "19FFFC8F#0178FFFFCAFFFFFF", BMS_E_RANGE },    /* SOC 101 % */
		{ "19FFFC8F#0178FFFFFFFFFFFF", BMS_E_RANGE },    /* no SOC */
		{ "19FEC98F#017802", BMS_E_SHORT },
	};
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fresh(&poll, &rx, false);
		struct drive_res r = feed(&poll, &rx, bad[i].text);
		CHECK_EQ_INT(r.frames, 1);
		CHECK_EQ_INT(r.nrc ? r.rc[0] : 99, bad[i].rc);
		CHECK_EQ_INT(poll.seen, BMS_CAN_REFUSED);
		CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	}
	/* after the instance is known: 0 V, no voltage, an impossible current */
	static const char *const bad1[] = { "19FFFD8F#0178000000943577", "19FFFD8F#0178FFFF00943577",
					    "19FFFD8F#01782704FFFF35EE" };
	for (size_t i = 0; i < 3; i++) {
		fresh(&poll, &rx, false);
		char text[128];
		snprintf(text, sizeof(text), "%s %s", DC2, bad1[i]);
		struct drive_res r = feed(&poll, &rx, text);
		CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
		CHECK(!drv->timeout(&poll));
		CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	}
	/* a whole set and then a broken frame: the poll refused */
	fresh(&poll, &rx, false);
	feed(&poll, &rx, SET " 19FFFB8F#0178C3");
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

int main(void)
{
	test_table();
	test_set();
	test_rego();
	test_dc6();
	test_zeros();
	test_others();
	test_broken();
	return check_report();
}
