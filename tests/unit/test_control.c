/* SPDX-License-Identifier: MIT */
/* tests/unit/test_control.c - the MOSFET control step of the drivers:
 * the exact write frames the public captures and tested projects show, the
 * acknowledgements (and refusals) they answer with, and that the framers
 * find those answers in the byte stream.  The frames and their sources are
 * in bms/PROTOCOLS.md (§2.8, §3.5, §5.6, §6.6, §7.6); the captured ones are
 * also rows of tests/fixtures/vectors.tsv (ids below). */
#include <stdio.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

static struct bms_control cmd(uint8_t address, int fet, bool on)
{
	struct bms_control c;
	memset(&c, 0, sizeof(c));
	c.address = address;
	c.set[fet] = true;
	c.on[fet] = on;
	c.intent[BMS_FET_CHARGE] = c.intent[BMS_FET_DISCHARGE] = true;
	c.intent[fet] = on;
	return c;
}

/* The next request of c equals `hex`. */
static void expect_request(const struct bms_driver *d, struct bms_control *c, const char *hex)
{
	uint8_t want[64], got[64];
	int n = check_hex(hex, want, sizeof(want));
	int m = d->control->request(c, got, sizeof(got));
	CHECK_EQ_INT(m, n);
	if (m == n && memcmp(got, want, (size_t)n) != 0) {
		fprintf(stderr, "  %s: got", d->name);
		for (int i = 0; i < m; i++)
			fprintf(stderr, " %02x", got[i]);
		fprintf(stderr, ", want %s\n", hex);
		CHECK(false);
	} else {
		CHECK(m == n);
	}
}

/* The answer `hex` scans as one frame and control->ack gives `rc`. */
static void expect_ack(const struct bms_driver *d, struct bms_control *c, const char *hex, int rc)
{
	uint8_t f[64];
	int n = check_hex(hex, f, sizeof(f));
	struct bms_poll poll;
	memset(&poll, 0, sizeof(poll));
	poll.link = c->link; /* the pack's poll, on the same link */
	poll.persist = c->persist;
	size_t fl = 0;
	CHECK_EQ_INT(d->scan(&poll, f, (size_t)n, &fl), BMS_SCAN_FRAME);
	CHECK_EQ_INT(fl, n);
	/* nor may it disturb a poll: handle() ignores it */
	bms_poll_begin(&poll, c->address, 0, false);
	poll.link = c->link;
	int h = d->handle(&poll, f, (size_t)n);
	CHECK(h == BMS_E_UNEXPECTED || h == BMS_E_HEADER || h == BMS_E_INVALID);
	CHECK_EQ_INT(d->control->ack(c, f, (size_t)n), rc);
}

static void test_daly(void)
{
	const struct bms_driver *d = &bms_daly_driver;
	/* bms/PROTOCOLS.md §2.8: the frames of python-daly-bms, maland16 and
	 * Daly2MQTT; the discharge ones and their answers captured from Daly's
	 * PC Master tool (dreadnought/python-daly-bms#3; rows DALY-MOS-1..4) */
	struct bms_control c = cmd(1, BMS_FET_CHARGE, false);
	expect_request(d, &c, "A5 40 DA 08 00 00 00 00 00 00 00 00 C7");
	c = cmd(1, BMS_FET_DISCHARGE, true);
	expect_request(d, &c, "A5 40 D9 08 01 00 00 00 00 00 00 00 C7");
	expect_ack(d, &c, "A5 01 D9 08 01 0D 13 0D 21 0D 17 C0 BA", BMS_OK);
	CHECK_EQ_INT(c.step, 1);
	CHECK_EQ_INT(d->control->request(&c, (uint8_t[64]){0}, 64), 0); /* done */
	c = cmd(1, BMS_FET_DISCHARGE, false);
	expect_request(d, &c, "A5 40 D9 08 00 00 00 00 00 00 00 00 C6");
	expect_ack(d, &c, "A5 01 D9 08 00 0D 13 0D 21 0D 17 C0 B9", BMS_OK);
	/* D0 is not what we wrote: refused */
	c = cmd(1, BMS_FET_DISCHARGE, false);
	expect_ack(d, &c, "A5 01 D9 08 01 0D 13 0D 21 0D 17 C0 BA", BMS_E_REFUSED);
	/* another board's answer, another command's: not ours */
	c = cmd(2, BMS_FET_DISCHARGE, true);
	expect_request(d, &c, "A5 41 D9 08 01 00 00 00 00 00 00 00 C8");
	expect_ack(d, &c, "A5 01 D9 08 01 0D 13 0D 21 0D 17 C0 BA", BMS_E_UNEXPECTED);
	/* board 1 learned on host 0x80 (the UART / BT address) */
	c = cmd(1, BMS_FET_CHARGE, true);
	c.persist = 1;
	expect_request(d, &c, "A5 80 DA 08 01 00 00 00 00 00 00 00 08");
	/* both FETs: one frame each, charge first */
	c = cmd(1, BMS_FET_CHARGE, false);
	c.set[BMS_FET_DISCHARGE] = true;
	c.on[BMS_FET_DISCHARGE] = false;
	expect_request(d, &c, "A5 40 DA 08 00 00 00 00 00 00 00 00 C7");
	c.step = 1;
	expect_request(d, &c, "A5 40 D9 08 00 00 00 00 00 00 00 00 C6");
	/* over Bluetooth LE (§14.1): host 0x80 whatever was learned on a
	 * wire, for every board; the board answers as on the wire */
	for (uint8_t board = 1; board <= 2; board++) {
		c = cmd(board, BMS_FET_CHARGE, true);
		c.link = BMS_LINK_BLE;
		expect_request(d, &c, "A5 80 DA 08 01 00 00 00 00 00 00 00 08");
	}
	c = cmd(1, BMS_FET_DISCHARGE, true);
	c.link = BMS_LINK_BLE;
	expect_request(d, &c, "A5 80 D9 08 01 00 00 00 00 00 00 00 07");
	expect_ack(d, &c, "A5 01 D9 08 01 0D 13 0D 21 0D 17 C0 BA", BMS_OK);
}

static void test_daly_modbus(void)
{
	const struct bms_driver *d = &bms_daly_modbus_driver;
	/* bms/PROTOCOLS.md §3.5: the board-1 writes captured from Daly's BMSTool
	 * (syssi/esphome-daly-bms#22; rows DALYN-MOS-1..4); the answer from
	 * 0x50 + board is inferred, none has been captured */
	struct bms_control c = cmd(1, BMS_FET_CHARGE, false);
	expect_request(d, &c, "81 06 01 21 00 00 C7 FC");
	expect_ack(d, &c, "51 06 01 21 00 00 D4 6C", BMS_OK);
	c = cmd(1, BMS_FET_CHARGE, true);
	expect_request(d, &c, "81 06 01 21 00 01 06 3C");
	c = cmd(1, BMS_FET_DISCHARGE, false);
	expect_request(d, &c, "81 06 01 22 00 00 37 FC");
	c = cmd(1, BMS_FET_DISCHARGE, true);
	expect_request(d, &c, "81 06 01 22 00 01 F6 3C");
	c = cmd(2, BMS_FET_CHARGE, false);
	expect_request(d, &c, "82 06 01 21 00 00 C7 CF");
	/* an echo of another value or register is no acknowledgement */
	c = cmd(1, BMS_FET_CHARGE, true);
	expect_ack(d, &c, "51 06 01 21 00 00 D4 6C", BMS_E_UNEXPECTED);
	/* an exception: refused */
	uint8_t e[5] = { 0x51, 0x86, 0x04, 0, 0 };
	uint16_t crc = bms_crc16_modbus(e, 3);
	char hex[32];
	snprintf(hex, sizeof(hex), "51 86 04 %02x %02x", crc & 0xff, crc >> 8);
	expect_ack(d, &c, hex, BMS_E_REFUSED);
	/* the switch settings are read back with a third read */
	struct bms_poll p;
	memset(&p, 0, sizeof(p));
	bms_poll_begin(&p, 1, 0, false);
	p.setpoints = true;
	uint8_t req[16];
	p.step = 2;
	CHECK_EQ_INT(d->next_request(&p, req, sizeof(req)), 8);
	uint8_t want[8];
	check_hex("81 03 01 21 00 02 8A 3D", want, 8);
	CHECK(memcmp(req, want, 8) == 0);
	/* 0x121 = 1, 0x122 = 0 */
	uint8_t r[9] = { 0x51, 0x03, 0x04, 0x00, 0x01, 0x00, 0x00 };
	crc = bms_crc16_modbus(r, 7);
	r[7] = (uint8_t)crc;
	r[8] = (uint8_t)(crc >> 8);
	CHECK_EQ_INT(d->handle(&p, r, 9), BMS_OK);
	CHECK(p.snap.chg_set && !p.snap.dsg_set && (p.snap.present & BMS_HAS_SETPOINT));
	/* without control the poll has two reads */
	bms_poll_begin(&p, 1, 0, false);
	p.step = 2;
	CHECK_EQ_INT(d->next_request(&p, req, sizeof(req)), 0);

	/* over Bluetooth LE (§14.4), in the dialect the polls learned: D2
	 * (persist bit 0 = known, bit 1 clear) writes its switch settings
	 * 0xA5 / 0xA6 from 0xD2 and takes the echo (fl4p/batmon-ha#356) */
	c = cmd(1, BMS_FET_CHARGE, true);
	c.link = BMS_LINK_BLE;
	c.persist = 0x1;
	expect_request(d, &c, "D2 06 00 A5 00 01 4B 8A");
	expect_ack(d, &c, "D2 06 00 A5 00 01 4B 8A", BMS_OK);
	CHECK_EQ_INT(d->control->request(&c, req, sizeof(req)), 0);
	c = cmd(1, BMS_FET_CHARGE, false);
	c.link = BMS_LINK_BLE;
	c.persist = 0x1;
	expect_request(d, &c, "D2 06 00 A5 00 00 8A 4A");
	expect_ack(d, &c, "D2 06 00 A5 00 01 4B 8A", BMS_E_UNEXPECTED); /* not our value */
	expect_ack(d, &c, "51 06 01 21 00 00 D4 6C", BMS_E_UNEXPECTED); /* the other dialect */
	expect_ack(d, &c, "D2 86 04 B2 5A", BMS_E_REFUSED);
	c = cmd(2, BMS_FET_DISCHARGE, true); /* D2 has no board */
	c.link = BMS_LINK_BLE;
	c.persist = 0x1;
	expect_request(d, &c, "D2 06 00 A6 00 01 BB 8A");
	c = cmd(1, BMS_FET_DISCHARGE, false);
	c.link = BMS_LINK_BLE;
	c.persist = 0x1;
	expect_request(d, &c, "D2 06 00 A6 00 00 7A 4A");
	/* the 0x81 dialect learned (bits 0 and 1): the wire's frames */
	c = cmd(1, BMS_FET_CHARGE, true);
	c.link = BMS_LINK_BLE;
	c.persist = 0x3;
	expect_request(d, &c, "81 06 01 21 00 01 06 3C");
	expect_ack(d, &c, "51 06 01 21 00 01 15 AC", BMS_OK);
	/* no dialect known yet: no command */
	c = cmd(1, BMS_FET_CHARGE, true);
	c.link = BMS_LINK_BLE;
	c.persist = 0x4;
	CHECK_EQ_INT(d->control->request(&c, req, sizeof(req)), BMS_E_INVALID);
}

static void test_jbd(void)
{
	const struct bms_driver *d = &bms_jbd_driver;
	/* bms/PROTOCOLS.md §7.6: captured from the Xiaoxiang app with the BMS's
	 * answer (syssi/esphome-jbd-bms; rows JBD-MOS-1..3, JBD-ACK-E1); the 0x80
	 * refusal follows Overkill Solar's register map */
	struct bms_control c = cmd(0, BMS_FET_CHARGE, false);
	expect_request(d, &c, "DD 5A E1 02 00 01 FF 1C 77");
	expect_ack(d, &c, "DD E1 00 00 00 00 77", BMS_OK);
	c = cmd(0, BMS_FET_DISCHARGE, false);
	expect_request(d, &c, "DD 5A E1 02 00 02 FF 1B 77");
	c = cmd(0, BMS_FET_DISCHARGE, true);
	expect_request(d, &c, "DD 5A E1 02 00 00 FF 1D 77");
	/* the mask comes from the intent for both FETs: charge stays locked
	 * when the discharge FET is switched on */
	c = cmd(0, BMS_FET_DISCHARGE, true);
	c.intent[BMS_FET_CHARGE] = false;
	expect_request(d, &c, "DD 5A E1 02 00 01 FF 1C 77");
	c = cmd(0, BMS_FET_DISCHARGE, false);
	c.intent[BMS_FET_CHARGE] = false;
	expect_request(d, &c, "DD 5A E1 02 00 03 FF 1A 77");
	/* status 0x80: refused; the answer to a read: not ours */
	c = cmd(0, BMS_FET_CHARGE, false);
	expect_ack(d, &c, "DD E1 80 00 FF 80 77", BMS_E_REFUSED);
	expect_ack(d, &c, "DD 04 00 02 0C D0 FF 22 77", BMS_E_UNEXPECTED);
}

static void test_jk(void)
{
	const struct bms_driver *d = &bms_jk_driver;
	/* bms/PROTOCOLS.md §5.6: user-tested (syssi/esphome-jk-bms#404), no
	 * answer known */
	struct bms_control c = cmd(0, BMS_FET_CHARGE, false);
	expect_request(d, &c, "4E 57 00 14 00 00 00 00 02 03 00 AB 00 00 00 00 00 68 00 00 01 D1");
	CHECK_EQ_INT(d->control->request(&c, (uint8_t[64]){0}, 64), 0); /* nothing to wait for */
	c = cmd(0, BMS_FET_CHARGE, true);
	expect_request(d, &c, "4E 57 00 14 00 00 00 00 02 03 00 AB 01 00 00 00 00 68 00 00 01 D2");
	c = cmd(0, BMS_FET_DISCHARGE, true);
	expect_request(d, &c, "4E 57 00 14 00 00 00 00 02 03 00 AC 01 00 00 00 00 68 00 00 01 D3");
	c = cmd(0, BMS_FET_DISCHARGE, false);
	expect_request(d, &c, "4E 57 00 14 00 00 00 00 02 03 00 AC 00 00 00 00 00 68 00 00 01 D2");
	CHECK(d->control->unacked);
}

static void test_jk_pb(void)
{
	const struct bms_driver *d = &bms_jk_pb_driver;
	/* bms/PROTOCOLS.md §6.6: JK's Modbus document, frames computed as syssi's
	 * and txubelaxu's ESPHome components send them; the standard FC16
	 * answer */
	struct bms_control c = cmd(1, BMS_FET_CHARGE, false);
	expect_request(d, &c, "01 10 10 70 00 02 04 00 00 00 00 39 4B");
	expect_ack(d, &c, "01 10 10 70 00 02 44 D3", BMS_OK);
	c = cmd(1, BMS_FET_CHARGE, true);
	expect_request(d, &c, "01 10 10 70 00 02 04 00 00 00 01 F8 8B");
	c = cmd(1, BMS_FET_DISCHARGE, false);
	expect_request(d, &c, "01 10 10 74 00 02 04 00 00 00 00 38 B8");
	c = cmd(2, BMS_FET_DISCHARGE, true);
	expect_request(d, &c, "02 10 10 74 00 02 04 00 00 00 01 F6 3C");
	c = cmd(2, BMS_FET_CHARGE, false);
	expect_request(d, &c, "02 10 10 70 00 02 04 00 00 00 00 36 0F");
	/* another pack's ack: not ours */
	c = cmd(2, BMS_FET_CHARGE, false);
	expect_ack(d, &c, "01 10 10 70 00 02 44 D3", BMS_E_UNEXPECTED);
	/* the echo of our own request is skipped whole */
	uint8_t f[16];
	int n = check_hex("01 10 10 70 00 02 04 00 00 00 00 39 4B", f, sizeof(f));
	struct bms_poll p;
	memset(&p, 0, sizeof(p));
	size_t fl = 0;
	CHECK_EQ_INT(d->scan(&p, f, (size_t)n, &fl), BMS_SCAN_SKIP);
	CHECK_EQ_INT(fl, 13);
}

static void test_none(void)
{
	/* no documented control: the configuration refuses `control = true` */
	const char *none[] = { "pylontech", "seplos", "topbms", "sinowealth", "vedirect" };
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		const struct bms_driver *d = bms_find(none[i]);
		CHECK(d && !d->control);
	}
	const char *some[] = { "daly", "daly-modbus", "jbd", "jk", "jk-pb" };
	for (size_t i = 0; i < sizeof(some) / sizeof(some[0]); i++) {
		const struct bms_driver *d = bms_find(some[i]);
		CHECK(d && d->control && d->control->ack && (d->provides & BMS_HAS_MOSFETS));
	}
}

int main(void)
{
	test_daly();
	test_daly_modbus();
	test_jbd();
	test_jk();
	test_jk_pb();
	test_none();
	return check_report();
}
