/* SPDX-License-Identifier: MIT */
/* tests/unit/test_setwrite.c - writing a BMS's own settings: each family's
 * steps (bms/setwrite.h) on frames computed from the documents and checked
 * by their checksums, broken ones too, and the bounds and order a change
 * is checked against first (gateway/engine/setbounds.c).
 *
 * jbd (bms/PROTOCOLS.md §7.8): the register map's example `DD 5A 24 02 0E
 * 10 FF BC 77` (cell OVP 3.600 V) and `DD 5A 10 02 27 10 FF B7 77` (100 Ah);
 * the factory entry `DD 5A 00 02 56 78 FF 30 77`; the write acknowledgement
 * captured from the Xiaoxiang app (`DD <reg> 00 00 00 00 77`); our own echo
 * ignored; a refusal (status 0x80) and a wrong read-back left without
 * saving (`DD 5A 01 02 00 00 FF FD 77`); 0x2D written whole, bit 2 alone
 * changed; a bad checksum no answer.
 * daly (§2.12): `A5 40 21 08 00 00 00 00 00 00 02 2B 3B` (55.5 %, zero
 * date, dbus-serialbattery / python-daly-bms), the board's answer D0 = 1,
 * D0 = 0 a refusal, our echo (host 0x40) never an answer, the read-back
 * from 0x90 D6-D7.
 */
#include <string.h>

#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "../../gateway/engine/setbounds.h"
#include "check.h"

static int hex(const char *h, uint8_t *b)
{
	return check_hex(h, b, 64);
}

/* The next frame of c equals the hex h. */
static void expect_req(const struct bms_driver *d, struct bms_wchange *c, const char *h)
{
	uint8_t want[64], got[64];
	int n = hex(h, want);
	int m = d->writer->request(c, got, sizeof(got));
	CHECK_EQ_INT(m, n);
	if (m == n && n > 0 && memcmp(got, want, (size_t)n) != 0) {
		fprintf(stderr, "  frame differs from %s\n", h);
		check_failed++;
	} else {
		check_passed++;
	}
}

static int feed(const struct bms_driver *d, struct bms_wchange *c, const char *h)
{
	uint8_t b[64];
	int n = hex(h, b);
	return d->writer->answer(c, b, (size_t)n);
}

static void jbd_done(void)
{
	const struct bms_driver *d = &bms_jbd_driver;
	struct bms_wchange c = { .key = BMS_W_CELL_OVP_V };
	char why[160];
	int64_t raw;
	CHECK_EQ_INT(bms_wfield_raw(&d->writer->field[BMS_W_CELL_OVP_V], 3.6, &raw, why, sizeof(why)), 0);
	c.raw = raw;
	CHECK_EQ_INT(raw, 3600);
	expect_req(d, &c, "DD 5A 00 02 56 78 FF 30 77");               /* enter */
	CHECK_EQ_INT(feed(d, &c, "DD 5A 00 02 56 78 FF 30 77"), BMS_E_UNEXPECTED); /* our echo */
	CHECK_EQ_INT(feed(d, &c, "DD 00 00 00 00 00 77"), BMS_OK);
	CHECK(c.unlocked);
	CHECK_EQ_INT((int)c.persist, 1); /* the polls' mark: factory mode entered */
	expect_req(d, &c, "DD A5 24 00 FF DC 77");                      /* read the old value */
	CHECK_EQ_INT(feed(d, &c, "DD 03 00 02 0E 42 FF AE 77"), BMS_E_UNEXPECTED); /* no 0x24 answer */
	CHECK_EQ_INT(feed(d, &c, "DD 24 00 02 0E 42 FF AE 77"), BMS_OK); /* 3.650 V */
	CHECK(c.have_old && c.old_raw == 3650);
	expect_req(d, &c, "DD 5A 24 02 0E 10 FF BC 77");               /* the register map's example */
	CHECK_EQ_INT(feed(d, &c, "DD 24 00 00 00 00 77"), BMS_OK);
	expect_req(d, &c, "DD A5 24 00 FF DC 77");                      /* read back */
	CHECK_EQ_INT(feed(d, &c, "DD 24 00 02 0E 10 FF E0 77"), BMS_OK);
	CHECK(c.have_back && c.back_raw == 3600);
	expect_req(d, &c, "DD 5A 01 02 28 28 FF AD 77");               /* leave, saved */
	CHECK_EQ_INT(feed(d, &c, "DD 01 00 00 00 00 77"), BMS_OK);
	CHECK(!c.unlocked && !c.refused);
	CHECK_EQ_INT((int)c.persist, 0); /* left: nothing for the polls */
	uint8_t out[32];
	CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 0);
	/* capacity, 100 Ah: the register map's second example */
	struct bms_wchange k = { .key = BMS_W_CAPACITY_AH, .step = 2 };
	CHECK_EQ_INT(bms_wfield_raw(&d->writer->field[BMS_W_CAPACITY_AH], 100, &raw, why, sizeof(why)), 0);
	k.raw = raw;
	expect_req(d, &k, "DD 5A 10 02 27 10 FF B7 77");
	/* discharge over-current 100 A is D8 F0 */
	struct bms_wchange o = { .key = BMS_W_DISCHARGE_OCP_A, .step = 2 };
	CHECK_EQ_INT(bms_wfield_raw(&d->writer->field[BMS_W_DISCHARGE_OCP_A], 100, &raw, why, sizeof(why)), 0);
	o.raw = raw;
	CHECK_EQ_INT(raw, -10000);
	expect_req(d, &o, "DD 5A 29 02 D8 F0 FE 0D 77");
}

static void jbd_refused(void)
{
	const struct bms_driver *d = &bms_jbd_driver;
	struct bms_wchange c = { .key = BMS_W_CELL_OVP_V, .raw = 3600 };
	uint8_t out[32];
	CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 9);
	CHECK_EQ_INT(feed(d, &c, "DD 00 00 00 00 00 77"), BMS_OK);
	CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 7);
	CHECK_EQ_INT(feed(d, &c, "DD 24 00 02 0E 42 FF AE 77"), BMS_OK);
	CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 9);
	CHECK_EQ_INT(feed(d, &c, "DD 24 80 00 FF 80 77"), BMS_E_REFUSED);  /* the write refused */
	CHECK(c.refused);
	expect_req(d, &c, "DD 5A 01 02 00 00 FF FD 77");                 /* left without saving */
	CHECK_EQ_INT(feed(d, &c, "DD 01 00 00 00 00 77"), BMS_OK);
	CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 0);
	/* the entry refused (a password): nothing to leave */
	struct bms_wchange e = { .key = BMS_W_CELL_OVP_V, .raw = 3600 };
	CHECK_EQ_INT(d->writer->request(&e, out, sizeof(out)), 9);
	CHECK_EQ_INT(feed(d, &e, "DD 00 80 00 FF 80 77"), BMS_E_REFUSED);
	CHECK_EQ_INT(d->writer->request(&e, out, sizeof(out)), 0);
	/* a wrong read-back: left without saving */
	struct bms_wchange w = { .key = BMS_W_CELL_OVP_V, .raw = 3600, .step = 3, .unlocked = true };
	CHECK_EQ_INT(feed(d, &w, "DD 24 00 02 0E 42 FF AE 77"), BMS_OK);
	expect_req(d, &w, "DD 5A 01 02 00 00 FF FD 77");
	/* the gateway gives up (no answer) inside factory mode: leave it */
	struct bms_wchange q = { .key = BMS_W_CELL_OVP_V, .raw = 3600, .step = 2, .unlocked = true, .quit = true,
				  .persist = 1 };
	expect_req(d, &q, "DD 5A 01 02 00 00 FF FD 77");
	CHECK_EQ_INT((int)q.persist, 1); /* unanswered: the next poll leaves it */
	CHECK_EQ_INT(feed(d, &q, "DD 01 80 00 FF 80 77"), BMS_E_REFUSED); /* the leaving refused too */
	CHECK_EQ_INT((int)q.persist, 1);
	/* broken: a bad checksum, a short answer to a read */
	struct bms_wchange b = { .key = BMS_W_CELL_OVP_V, .raw = 3600, .step = 1, .unlocked = true };
	CHECK_EQ_INT(feed(d, &b, "DD 24 00 02 0E 42 FF AB 77"), BMS_E_CHECKSUM);
	CHECK_EQ_INT(feed(d, &b, "DD 24 00 00 00 00 77"), BMS_E_SHORT);
	CHECK_EQ_INT(feed(d, &b, "DD 24 00 05 0E"), BMS_E_CHECKSUM);
	CHECK_EQ_INT(b.step, 1);
}

static void jbd_balancer(void)
{
	const struct bms_driver *d = &bms_jbd_driver;
	struct bms_wchange c = { .key = BMS_W_BALANCER, .raw = 0, .step = 1, .unlocked = true };
	CHECK_EQ_INT(feed(d, &c, "DD 2D 00 02 00 0D FF F1 77"), BMS_OK); /* 0x000D: balance on, bits 0 and 3 */
	CHECK(c.old_raw == 1);
	expect_req(d, &c, "DD 5A 2D 02 00 09 FF C8 77");               /* 0x0009: bit 2 alone cleared */
}

static void daly_soc(void)
{
	const struct bms_driver *d = &bms_daly_driver;
	struct bms_wchange c = { .key = BMS_W_SOC, .address = 1 };
	char why[160];
	int64_t raw;
	CHECK_EQ_INT(bms_wfield_raw(&d->writer->field[BMS_W_SOC], 55.5, &raw, why, sizeof(why)), 0);
	c.raw = raw;
	expect_req(d, &c, "A5 40 21 08 00 00 00 00 00 00 02 2B 3B");
	CHECK_EQ_INT(feed(d, &c, "A5 40 21 08 00 00 00 00 00 00 02 2B 3B"), BMS_E_UNEXPECTED); /* echo */
	CHECK_EQ_INT(feed(d, &c, "A5 01 21 08 01 00 00 00 00 00 00 00 D0"), BMS_OK);
	expect_req(d, &c, "A5 40 90 08 00 00 00 00 00 00 00 00 7D");
	CHECK_EQ_INT(feed(d, &c, "A5 01 90 08 02 0E 00 00 75 30 02 2B 20"), BMS_OK);
	CHECK(c.have_back && c.back_raw == 555);
	uint8_t out[16];
	CHECK_EQ_INT(d->writer->request(&c, out, sizeof(out)), 0);
	/* with the date, board 2, over Bluetooth LE host 0x80 */
	struct bms_wchange t = { .key = BMS_W_SOC, .raw = 1000, .address = 2, .date = { 24, 6, 1, 12, 0, 0 } };
	expect_req(d, &t, "A5 41 21 08 18 06 01 0C 00 00 03 E8 25");
	struct bms_wchange r = { .key = BMS_W_SOC, .raw = 555, .address = 1 };
	CHECK_EQ_INT(feed(d, &r, "A5 01 21 08 00 00 00 00 00 00 00 00 CF"), BMS_E_REFUSED);
	CHECK_EQ_INT(d->writer->request(&r, out, sizeof(out)), 0);
	CHECK_EQ_INT(feed(d, &r, "A5 01 21 08 01 00 00 00 00 00 00 00 D1"), BMS_E_CHECKSUM);
	/* off the 0.1 % step, over 100 % */
	CHECK(bms_wfield_raw(&d->writer->field[BMS_W_SOC], 55.55, &raw, why, sizeof(why)) < 0);
	CHECK(bms_wfield_raw(&d->writer->field[BMS_W_SOC], 100.1, &raw, why, sizeof(why)) < 0);
}

static int ask(enum bms_wkey k, double v, enum conf_chemistry ch, const struct bms_settings *have, char *why)
{
	const struct bms_writer *w = bms_jbd_driver.writer;
	struct gw_wset_ask a = { k, v, w, w->wire, ch, have };
	int64_t raw;
	return gw_wset_check(&a, &raw, why, 200);
}

static void bounds(void)
{
	struct bms_settings s = { 0 };
	char why[200];
	bms_settings_put(&s, BMS_SET_CELL_OVP_V, 3.65f);
	bms_settings_put(&s, BMS_SET_CELL_OVP_RELEASE_V, 3.40f);
	bms_settings_put(&s, BMS_SET_CELL_UVP_RELEASE_V, 2.90f);
	bms_settings_put(&s, BMS_SET_CELL_UVP_V, 2.50f);
	bms_settings_put(&s, BMS_SET_BALANCE_START_V, 3.40f);
	CHECK_EQ_INT(ask(BMS_W_CELL_OVP_V, 3.60, CONF_CHEM_LFP, &s, why), 0);
	CHECK_EQ_INT(ask(BMS_W_CELL_OVP_V, 3.80, CONF_CHEM_LFP, &s, why), 422);
	CHECK(strstr(why, "lfp's highest 3.65 V") != NULL);
	CHECK_EQ_INT(ask(BMS_W_CELL_OVP_V, 4.20, CONF_CHEM_NMC, &s, why), 0);     /* nmc: 3.00-4.20 */
	CHECK_EQ_INT(ask(BMS_W_CELL_OVP_V, 2.80, CONF_CHEM_LTO, &s, why), 422);   /* under its release */
	CHECK_EQ_INT(ask(BMS_W_CELL_OVP_V, 3.41, CONF_CHEM_LFP, &s, why), 422);   /* 0.01 V over the release */
	CHECK_EQ_INT(ask(BMS_W_CELL_OVP_V, 3.42, CONF_CHEM_LFP, &s, why), 0);     /* 0.02 V over: the balance start under */
	CHECK_EQ_INT(ask(BMS_W_CELL_OVP_V, 3.6005, CONF_CHEM_LFP, &s, why), 422); /* off the 1 mV step */
	CHECK_EQ_INT(ask(BMS_W_CELL_UVP_V, 2.89, CONF_CHEM_LFP, &s, why), 422);   /* under its release by 0.01 */
	CHECK_EQ_INT(ask(BMS_W_CELL_UVP_V, 2.49, CONF_CHEM_LFP, &s, why), 422);   /* under lfp's 2.50 */
	CHECK_EQ_INT(ask(BMS_W_CELL_UVP_RELEASE_V, 3.41, CONF_CHEM_LFP, &s, why), 422); /* over the balance start */
	CHECK_EQ_INT(ask(BMS_W_BALANCE_START_V, 3.65, CONF_CHEM_LFP, &s, why), 422);    /* not under the OVP */
	CHECK_EQ_INT(ask(BMS_W_BALANCE_START_V, 2.90, CONF_CHEM_LFP, &s, why), 0);      /* at the UVP release */
	CHECK_EQ_INT(ask(BMS_W_BALANCE_DELTA_V, 0.6, CONF_CHEM_LFP, &s, why), 422);
	CHECK_EQ_INT(ask(BMS_W_BALANCE_DELTA_V, 0.003, CONF_CHEM_LFP, &s, why), 0);
	CHECK_EQ_INT(ask(BMS_W_CAPACITY_AH, 0.5, CONF_CHEM_LFP, &s, why), 422);
	CHECK_EQ_INT(ask(BMS_W_CAPACITY_AH, 655.35, CONF_CHEM_LFP, &s, why), 0);
	CHECK_EQ_INT(ask(BMS_W_CAPACITY_AH, 655.36, CONF_CHEM_LFP, &s, why), 422);
	CHECK_EQ_INT(ask(BMS_W_CHARGE_OCP_A, 100.01, CONF_CHEM_LFP, &s, why), 0);
	CHECK_EQ_INT(ask(BMS_W_CHARGE_OCP_A, 100.001, CONF_CHEM_LFP, &s, why), 422);
	CHECK_EQ_INT(ask(BMS_W_BALANCER, 2, CONF_CHEM_LFP, &s, why), 422);
	CHECK_EQ_INT(ask(BMS_W_SOC, 50, CONF_CHEM_LFP, &s, why), 422);             /* jbd writes no SOC */
	/* a partner never read: 503 */
	struct bms_settings none = { 0 };
	CHECK_EQ_INT(ask(BMS_W_CELL_OVP_V, 3.60, CONF_CHEM_LFP, &none, why), 503);
	CHECK(strstr(why, "not read") != NULL);
	CHECK_EQ_INT(ask(BMS_W_BALANCE_DELTA_V, 0.01, CONF_CHEM_LFP, &none, why), 0);
	/* effective range: the protocol's within the chemistry's */
	double lo, hi, step;
	gw_wset_range(bms_jbd_driver.writer, BMS_W_CELL_OVP_V, CONF_CHEM_NMC, &lo, &hi, &step);
	CHECK_NEAR(lo, 3.0, 1e-9);
	CHECK_NEAR(hi, 4.2, 1e-9);
	CHECK_NEAR(step, 0.001, 1e-12);
	gw_wset_range(bms_jbd_driver.writer, BMS_W_DISCHARGE_OCP_A, CONF_CHEM_LFP, &lo, &hi, &step);
	CHECK_NEAR(lo, 1.0, 1e-9);
	CHECK_NEAR(hi, 327.68, 1e-9);
}

static void vocabulary(void)
{
	CHECK_EQ_INT(bms_wkey_find("cell_ovp_v"), BMS_W_CELL_OVP_V);
	CHECK_EQ_INT(bms_wkey_find("soc"), BMS_W_SOC);
	CHECK_EQ_INT(bms_wkey_find("pack_ovp_v"), -1);
	CHECK_EQ_INT(bms_wkey_read(BMS_W_BALANCER), BMS_SET_BALANCER);
	CHECK_EQ_INT(bms_wkey_read(BMS_W_SOC), BMS_SET_COUNT);
	/* every key's read name is its own */
	for (int k = 1; k < BMS_W_COUNT; k++)
		CHECK_STR(bms_settings_name(bms_wkey_read((enum bms_wkey)k)), bms_wkey_name((enum bms_wkey)k));
	CHECK_EQ_INT(bms_writer_keys(bms_jk_driver.writer, BMS_LINK_WIRE), 0);
	CHECK_EQ_INT(bms_writer_keys(bms_daly_driver.writer, BMS_LINK_WIRE), BMS_W_BIT(BMS_W_SOC));
}

int main(void)
{
	vocabulary();
	jbd_done();
	jbd_refused();
	jbd_balancer();
	daly_soc();
	bounds();
	return check_report();
}
