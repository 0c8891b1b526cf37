/* SPDX-License-Identifier: MIT */
/* tests/unit/test_units.c - the images the Modbus server sends
 * (gateway/modbus/image.c, gw_unit_image_wire) of the units of
 * gateway/model/units.c, on a fake clock: the `now`
 * passed in.  At every step the long-lived cache must show what a new one
 * (which encodes afresh) shows at that instant, and the registers that
 * change are checked exactly: the heartbeat and the age turn at whole
 * seconds, the online flag drops the instant stale_after has passed (for a
 * pack and within the bank), a poll, every counter, the energy and a reload
 * show at once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/daemon/daemon.h"
#include "../../gateway/modbus/image.h"
#include "../../gateway/model/bankstate.h"
#include "../../gateway/model/gw.h"
#include "../../gateway/poll/control.h"
#include "../../gateway/wire/wire.h"
#include "check.h"
#include "sections.h"

static struct gw gw;

/* the float voltage, register-map.md offset 10 (its first row is the u16 at 1) */
#define FLOAT_VOLTAGE_OFF 10

static unsigned reg_at(const uint8_t *img, enum reg_src src)
{
	int o = reg_offset(src);
	return (unsigned)(img[2 * o] << 8 | img[2 * o + 1]);
}

/* A u32 register pair, high word first. */
static unsigned long u32_at(const uint8_t *img, enum reg_src src)
{
	int o = reg_offset(src);
	return (unsigned long)img[2 * o] << 24 | (unsigned long)img[2 * o + 1] << 16 |
	       (unsigned long)img[2 * o + 2] << 8 | img[2 * o + 3];
}

/* u's image from the long-lived cache im at now, checked against a new cache. */
static const uint8_t *image(const struct gw_unit *u, double now, struct gw_images *im)
{
	struct gw_images *fresh = gw_images_new();
	const uint8_t *a = gw_unit_image_wire(&gw, u, now, im);
	const uint8_t *b = gw_unit_image_wire(&gw, u, now, fresh);
	CHECK(memcmp(a, b, 2 * REG_MAP_SIZE) == 0);
	gw_images_free(fresh);
	return a;
}

static void poll_good(struct gw_pack *p, double at, float soc, float volts)
{
	memset(&p->snap, 0, sizeof(p->snap));
	p->snap.present = BMS_HAS_VOLTAGE | BMS_HAS_SOC;
	p->snap.voltage = volts;
	p->snap.soc = soc;
	reg_encode_data(&p->snap, gw.conf->gw.float_order, p->data_regs);
	p->have_data = true;
	p->last_good = at;
	p->good_polls++;
}

static void setup(void)
{
	char err[256];
	struct conf *c = malloc(sizeof(*c));
	const char ini[] = "[gateway]\nstate_file = none\nstale_after = 30\n[bank]\n"
			   "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\ncapacity = 100\n"
			   "[pack.b]\nprotocol = daly\nport = /dev/ttyUSB1\ncapacity = 100\n";
	CHECK(c && conf_load_string(ini, "t.ini", c, err, sizeof(err)) == 0);
	CHECK_EQ_INT(gw_init(&gw, NULL, c), 0);
	gw.start = 1000.0;
}

/* The clock alone: heartbeat, age and freshness at their exact instants. */
static void test_clock(struct gw_images *im)
{
	struct gw_unit u;
	CHECK(gw_unit_lookup(&gw, 1, &u) && u.pack == gw.packs[0]);
	struct gw_pack *p = u.pack;
	poll_good(p, 1000.5, 80, 52.1f);
	const uint8_t *img = image(&u, 1000.5, im);
	CHECK_EQ_INT(reg_at(img, REG_SRC_HEARTBEAT), 0);
	CHECK_EQ_INT(reg_at(img, REG_SRC_AGE), 0);
	CHECK_EQ_INT(reg_at(img, REG_SRC_ONLINE), 1);
	CHECK_EQ_INT(reg_at(img, REG_SRC_SOC), p->data_regs[reg_offset(REG_SRC_SOC)]);
	CHECK_EQ_INT(u32_at(img, REG_SRC_GOOD_POLLS), 1);
	CHECK_EQ_INT(reg_at(image(&u, nextafter(1001.0, 0), im), REG_SRC_HEARTBEAT), 0);
	CHECK_EQ_INT(reg_at(image(&u, 1001.0, im), REG_SRC_HEARTBEAT), 1);
	CHECK_EQ_INT(reg_at(image(&u, 1001.4999, im), REG_SRC_AGE), 0);
	CHECK_EQ_INT(reg_at(image(&u, 1001.5, im), REG_SRC_AGE), 1);
	CHECK_EQ_INT(reg_at(image(&u, 1065.75, im), REG_SRC_HEARTBEAT), 65);
	/* stale_after = 30: fresh up to last_good + 30, stale just after */
	img = image(&u, 1030.5, im);
	CHECK_EQ_INT(reg_at(img, REG_SRC_ONLINE), 1);
	CHECK_EQ_INT(reg_at(img, REG_SRC_AGE), 30);
	img = image(&u, nextafter(1030.5, INFINITY), im);
	CHECK_EQ_INT(reg_at(img, REG_SRC_ONLINE), 0);
	CHECK_EQ_INT(reg_at(img, REG_SRC_HEARTBEAT), 30);
	/* the age saturates */
	CHECK_EQ_INT(reg_at(image(&u, 1000.5 + 70000, im), REG_SRC_AGE), 65535);
}

/* What happens between two requests of the same second shows at once. */
static void test_changes(struct gw_images *im)
{
	struct gw_unit u;
	CHECK(gw_unit_lookup(&gw, 1, &u));
	struct gw_pack *p = u.pack;
	double now = 1031.25;
	CHECK_EQ_INT(reg_at(image(&u, now, im), REG_SRC_ONLINE), 0);
	poll_good(p, now, 81, 52.3f);
	const uint8_t *img = image(&u, now, im);
	CHECK_EQ_INT(reg_at(img, REG_SRC_ONLINE), 1);
	CHECK_EQ_INT(reg_at(img, REG_SRC_AGE), 0);
	CHECK_EQ_INT(reg_at(img, REG_SRC_SOC), p->data_regs[reg_offset(REG_SRC_SOC)]);
	CHECK_EQ_INT(u32_at(img, REG_SRC_GOOD_POLLS), 2);
	p->failed_polls++;
	CHECK_EQ_INT(u32_at(image(&u, now, im), REG_SRC_FAILED_POLLS), 1);
	p->bus_stats->timeouts++;
	CHECK_EQ_INT(reg_at(image(&u, now, im), REG_SRC_WIRE_TIMEOUTS), 1);
	p->bus_stats->checksum_errors += 2;
	CHECK_EQ_INT(reg_at(image(&u, now, im), REG_SRC_WIRE_CHECKSUM), 2);
	p->bus_stats->short_frames += 3;
	CHECK_EQ_INT(reg_at(image(&u, now, im), REG_SRC_WIRE_SHORT), 3);
	/* refused commands are not the pack's failures (a failed and a
	 * confirmed one: test_poller.c, over a wire) */
	for (int i = 0; i < 4; i++)
		gw_control_refused(p, "test", "FC06 at 307 count 1", 3, "the value must be 0 (off) or 1 (on)");
	CHECK_EQ_INT(reg_at(image(&u, now, im), REG_SRC_CTL_FAILED), 0);
	CHECK_EQ_INT(gw_control_refusals(p), 4);
	CHECK_EQ_INT(reg_at(image(&u, now, im), REG_SRC_CTL_DONE), 0);
	unsigned long e = u32_at(image(&u, now, im), REG_SRC_ENERGY_IN);
	p->energy.in_kwh += 12.5; /* 0.01 kWh a count */
	img = image(&u, now, im);
	CHECK_EQ_INT(u32_at(img, REG_SRC_ENERGY_IN), e + 1250);
	/* a reload with the other float order: the kept snapshot encoded again */
	uint8_t before[2 * REG_MAP_SIZE];
	int vo = FLOAT_VOLTAGE_OFF;
	memcpy(before, img, sizeof(before));
	gw.conf->gw.float_order = gw.conf->gw.float_order == REG_FLOAT_CDAB ? REG_FLOAT_ABCD : REG_FLOAT_CDAB;
	reg_encode_data(&p->snap, gw.conf->gw.float_order, p->data_regs);
	gw.reloads++;
	img = image(&u, now, im);
	CHECK(memcmp(before + 2 * vo, img + 2 * vo + 2, 2) == 0 && memcmp(before + 2 * vo + 2, img + 2 * vo, 2) == 0);
	/* the highest SOC today shows only on the day it was reached */
	struct tm tm;
	p->soc_day = gw_local_now(&tm);
	p->soc_max = 81;
	p->soc_max_hour = 13;
	p->soc_max_minute = 7;
	poll_good(p, now, 81, 52.3f);
	img = image(&u, now, im);
	CHECK_EQ_INT(reg_at(img, REG_SRC_SOC_MAX), 81);
	CHECK_EQ_INT(reg_at(img, REG_SRC_SOC_MAX_HOUR), 13);
	CHECK_EQ_INT(reg_at(img, REG_SRC_SOC_MAX_MINUTE), 7);
	p->soc_day--;
	poll_good(p, now, 81, 52.3f);
	CHECK_EQ_INT(reg_at(image(&u, now, im), REG_SRC_SOC_MAX), 0);
	/* a change the key cannot see (nothing in the daemon does this) is
	 * served from the cache until the heartbeat turns */
	int so = reg_offset(REG_SRC_SOC);
	unsigned old = reg_at(image(&u, now, im), REG_SRC_SOC);
	p->data_regs[so] = (uint16_t)(old + 1);
	CHECK_EQ_INT(reg_at(gw_unit_image_wire(&gw, &u, now + 0.5, im), REG_SRC_SOC), old);
	CHECK_EQ_INT(reg_at(gw_unit_image_wire(&gw, &u, 1032.0, im), REG_SRC_SOC), old + 1);
}

/* The bank: fresh as long as one pack is, as old as its freshest. */
static void test_bank(struct gw_images *im)
{
	struct gw_unit u;
	CHECK(gw_unit_lookup(&gw, 0, &u) && u.bank);
	struct gw_pack *a = gw.packs[0], *b = gw.packs[1];
	unsigned long e;
	poll_good(a, 1040.0, 60, 52.0f);
	poll_good(b, 1020.0, 70, 52.2f);
	const uint8_t *img = image(&u, 1050.0, im);
	CHECK_EQ_INT(reg_at(img, REG_SRC_BANK_ONLINE), 2);
	CHECK_EQ_INT(u32_at(img, REG_SRC_BANK_ONLINE_MASK), 3);
	CHECK_EQ_INT(reg_at(img, REG_SRC_AGE), 10);
	img = image(&u, nextafter(1050.0, INFINITY), im);
	CHECK_EQ_INT(reg_at(img, REG_SRC_BANK_ONLINE), 1);
	CHECK_EQ_INT(u32_at(img, REG_SRC_BANK_ONLINE_MASK), 1);
	CHECK_EQ_INT(reg_at(img, REG_SRC_ONLINE), 1);
	CHECK_EQ_INT(reg_at(img, REG_SRC_SOC), a->data_regs[reg_offset(REG_SRC_SOC)]);
	/* b answers again: in the aggregate at once */
	poll_good(b, 1050.5, 70, 52.2f);
	img = image(&u, 1050.5, im);
	CHECK_EQ_INT(reg_at(img, REG_SRC_BANK_ONLINE), 2);
	CHECK_EQ_INT(reg_at(img, REG_SRC_AGE), 0);
	b->failed_polls += 5;
	CHECK_EQ_INT(u32_at(image(&u, 1050.5, im), REG_SRC_FAILED_POLLS), 5 + a->failed_polls);
	e = u32_at(image(&u, 1050.5, im), REG_SRC_ENERGY_OUT);
	gw.bank_energy.out_kwh += 1;
	CHECK_EQ_INT(u32_at(image(&u, 1050.5, im), REG_SRC_ENERGY_OUT), e + 100);
	/* the bank's SOC by the one rule (engine/banksoc.h): the BMSs' SOCs over
	 * the packs' capacities (a Daly's SOC alone: capacity = 100 each); a
	 * pack without any capacity is left out and named, the bank's
	 * capacities unknown */
	struct gw_bank_state bs;
	gw_bank_compute_at(&gw, 1050.5, &bs);
	CHECK_NEAR(bs.snap.soc, 65, 1e-4);
	CHECK(bs.snap.present & BMS_HAS_FULL);
	CHECK_NEAR(bs.snap.full_ah, 200, 1e-4);
	CHECK_EQ_INT(bs.soc.left_out, 0);
	gw.conf->packs[1].soc.capacity = -1;
	gw_bank_compute_at(&gw, 1050.5, &bs);
	CHECK_NEAR(bs.snap.soc, 60, 1e-4);
	CHECK_EQ_INT(bs.soc.left_out, 2);
	CHECK(!(bs.snap.present & (BMS_HAS_FULL | BMS_HAS_REMAIN)));
	gw.conf->packs[1].soc.capacity = 100;
	/* a missing pack: one of the bank not fresh (a balancer unit would not be) */
	CHECK_EQ_INT(bs.missing, 0);
	gw_bank_compute_at(&gw, 1071.0, &bs);
	CHECK_EQ_INT(bs.missing, 1);
	CHECK_EQ_INT(bs.missing_mask, 1); /* a: its last poll at 1040 */
	/* both stale: offline, and the bank has no data (age 65535) */
	img = image(&u, 1089.5, im);
	CHECK_EQ_INT(reg_at(img, REG_SRC_ONLINE), 0);
	CHECK_EQ_INT(reg_at(img, REG_SRC_BANK_ONLINE), 0);
	CHECK_EQ_INT(reg_at(img, REG_SRC_AGE), 65535);
	CHECK_EQ_INT(reg_at(image(&u, 1080.5, im), REG_SRC_AGE), 30);
	/* the pack units share the cache with the bank's */
	struct gw_unit up;
	CHECK(gw_unit_lookup(&gw, 2, &up) && up.pack == b);
	CHECK_EQ_INT(reg_at(image(&up, 1060.5, im), REG_SRC_AGE), 10);
	CHECK_EQ_INT(reg_at(image(&u, 1060.5, im), REG_SRC_AGE), 10);
}

/* On the real clock: the same registers as gw_unit_image(), with the
 * seconds half a second from turning. */
static void test_real_clock(struct gw_images *im)
{
	double now = gw_mono();
	gw.start = now - 10.5;
	for (int unit = 0; unit <= 2; unit++) {
		struct gw_unit u;
		CHECK(gw_unit_lookup(&gw, unit, &u));
		poll_good(gw.packs[0], now - 2.5, 55, 51.0f);
		uint16_t regs[REG_MAP_SIZE];
		gw_unit_image(&gw, &u, regs);
		const uint8_t *img = gw_unit_image_wire(&gw, &u, gw_mono(), im);
		int diff = 0;
		for (int r = 0; r < REG_MAP_SIZE; r++)
			diff += img[2 * r] != regs[r] >> 8 || img[2 * r + 1] != (regs[r] & 0xff);
		CHECK_EQ_INT(diff, 0);
		CHECK_EQ_INT(reg_at(img, REG_SRC_HEARTBEAT), 10);
	}
}

int main(void)
{
	install_sections(); /* the outputs' sections, as the daemon hands them down */
	setup();
	struct gw_images *im = gw_images_new();
	CHECK(im != NULL);
	test_clock(im);
	test_changes(im);
	test_bank(im);
	test_real_clock(im);
	gw_images_free(im);
	return check_report();
}
