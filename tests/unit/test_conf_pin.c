/* SPDX-License-Identifier: MIT */
/* tests/unit/test_conf_pin.c - a pack's `pin` (conf/values.c, check.c,
 * keys.c, schema.c; bms/base/pin.c): taken by the protocols whose BMS asks
 * for one (bms_ble.pin), over Bluetooth LE only, of each protocol's form;
 * refused everywhere else with a message that never repeats the value; a
 * secret (conf_key_secret), shown as "set" or "" and never itself; a new
 * pin starts the pack again (its reload class). */
#include <string.h>

#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "../../conf/conf_int.h"
#include "check.h"

static struct conf c;
static char err[CONF_ERR_MAX];

static int load_pin(const char *proto, const char *port, const char *pin)
{
	char text[512];
	snprintf(text, sizeof(text), "[pack.a]\nprotocol = %s\nport = %s\n%s%s%s", proto, port, pin ? "pin = " : "",
		 pin ? pin : "", pin ? "\n" : "");
	err[0] = '\0';
	return conf_load_string(text, "t.ini", &c, err, sizeof(err));
}

/* The load fails naming the pin, the value nowhere in the message. */
static void refused(const char *proto, const char *port, const char *pin, const char *want)
{
	CHECK_EQ_INT(load_pin(proto, port, pin), -1);
	CHECK(strstr(err, "pin") != NULL);
	CHECK(strstr(err, want) != NULL);
	CHECK(strstr(err, pin) == NULL);
	if (!strstr(err, want) || strstr(err, pin))
		fprintf(stderr, "  %s %s: %s\n", proto, pin, err);
}

#define BLE "ble://AA:BB:CC:DD:EE:FF"

static void test_jbd_ant(void)
{
	CHECK_EQ_INT(load_pin("jbd", BLE, "000000"), 0);
	CHECK_STR(c.packs[0].pin, "000000");
	CHECK_EQ_INT(load_pin("jbd", BLE, NULL), 0);
	CHECK_STR(c.packs[0].pin, "");
	CHECK_EQ_INT(load_pin("ant", BLE, "12345678"), 0);
	/* the form: ASCII without blanks, 1..16 characters for both */
	refused("jbd", BLE, "0123456789abcdefg", "1 to 16");
	refused("ant", BLE, "pw\x7f", "not a PIN");
	refused("jbd", BLE, "#1234", "not a PIN");
	/* a wire: the PIN is the Bluetooth module's */
	refused("jbd", "/dev/ttyUSB0", "4711", "Bluetooth module");
	refused("ant", "tcp://127.0.0.1:8899", "4711", "Bluetooth module");
	/* a protocol whose BMS asks for none */
	refused("daly", BLE, "4711", "takes no PIN");
	refused("daly", "/dev/ttyUSB0", "4711", "takes no PIN");
	/* its message lists those that do, from the driver table */
	CHECK(strstr(err, "jbd") && strstr(err, "ant"));
}

static void test_every_driver(void)
{
	/* each driver with ble->pin takes a pin of its form over BLE, its
	 * default (where it has one) too; the others refuse one */
	for (size_t i = 0; bms_drivers[i]; i++) {
		const struct bms_driver *d = bms_drivers[i];
		if (!d->ble || !d->ble->gatt || d->ble->company || d->mb)
			continue;
		const struct bms_ble_pin *p = d->ble->pin;
		if (!p) {
			CHECK_EQ_INT(load_pin(d->name, BLE, "4711"), -1);
			continue;
		}
		char why[160];
		CHECK(p->name != NULL && p->min_len >= 1 && p->max_len >= p->min_len && p->max_len <= BMS_PIN_MAX);
		if (p->dflt)
			CHECK(bms_pin_ok(p, p->dflt, why, sizeof(why)));
		char pin[BMS_PIN_MAX + 2];
		memset(pin, '7', sizeof(pin));
		if (p->max_value) /* a number: its largest (max_len digits) */
			snprintf(pin, sizeof(pin), "%llu", (unsigned long long)p->max_value);
		pin[p->max_len] = '\0';
		CHECK(bms_pin_ok(p, pin, why, sizeof(why)));
		pin[p->max_len] = '7';
		pin[p->max_len + 1] = '\0';
		CHECK(!bms_pin_ok(p, pin, why, sizeof(why)));
		CHECK(strstr(why, pin) == NULL);
	}
}

static void test_form(void)
{
	char why[160];
	const struct bms_ble_pin four = { .name = "PIN", .min_len = 4, .max_len = 4, .digits = true };
	const struct bms_ble_pin u32 = { .name = "password", .min_len = 1, .max_len = 10, .digits = true,
					 .max_value = 4294967295u };
	CHECK(bms_pin_ok(&four, "0042", why, sizeof(why)));
	CHECK(!bms_pin_ok(&four, "042", why, sizeof(why)));
	CHECK(strstr(why, "4 decimal digits") && !strstr(why, "042"));
	CHECK(!bms_pin_ok(&four, "12a4", why, sizeof(why)));
	CHECK(bms_pin_ok(&u32, "4294967295", why, sizeof(why)));
	CHECK(!bms_pin_ok(&u32, "4294967296", why, sizeof(why)));
	CHECK(strstr(why, "up to 4294967295") && !strstr(why, "4294967296"));
	CHECK(!bms_pin_ok(&u32, "9999999999", why, sizeof(why)));
	/* what a poll sends: the pack's, else the maker's default */
	const struct bms_ble_pin dflt = { .name = "password", .min_len = 6, .max_len = 6, .dflt = "ABC123" };
	struct bms_poll poll;
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_STR(bms_pin_of(&poll, &dflt), "ABC123");
	CHECK(bms_pin_of(&poll, &four) == NULL);
	snprintf(poll.pin, sizeof(poll.pin), "XYZ789");
	CHECK_STR(bms_pin_of(&poll, &dflt), "XYZ789");
}

static void test_secret(void)
{
	const struct conf_key *k = conf_key_find(&conf_sect_pack, "pin");
	CHECK(k == &conf__keys[K_PIN]);
	CHECK(conf_key_secret(k));
	struct conf_key_about a;
	conf_key_about(k, &a);
	CHECK_STR(a.type, "secret");
	CHECK(a.secret);
	/* /api/config's text: set or not, never the PIN nor a fingerprint */
	struct conf_pack p;
	char text[64], why[CONF_WHY_MAX];
	memset(&p, 0, sizeof(p));
	conf_key_text(k, &p, text, sizeof(text));
	CHECK_STR(text, "");
	CHECK_EQ_INT(conf__set_value(&conf__keys[K_PIN], &p, "98765", why, sizeof(why)), 0);
	conf_key_text(k, &p, text, sizeof(text));
	CHECK_STR(text, "set");
	/* a bad value: its length in the message, never itself */
	CHECK_EQ_INT(conf__set_value(&conf__keys[K_PIN], &p, "98 765", why, sizeof(why)), -1);
	CHECK(strstr(why, "6 characters") && !strstr(why, "98"));
	/* a new pin starts the pack again; the same pin keeps it */
	CHECK_EQ_INT(conf__keys[K_PIN].reload, CONF_RESTART);
	struct conf_pack q = p;
	CHECK(conf_section_same(&conf_sect_pack, CONF_RESTART, &p, &q));
	snprintf(q.pin, sizeof(q.pin), "98766");
	CHECK(!conf_section_same(&conf_sect_pack, CONF_RESTART, &p, &q));
	/* where it applies (the setup's schema) */
	CHECK(conf_pack_key_applies(&bms_jbd_driver, k));
	CHECK(conf_pack_key_applies(&bms_ant_driver, k));
	CHECK(!conf_pack_key_applies(&bms_daly_driver, k));
}

int main(void)
{
	test_jbd_ant();
	test_every_driver();
	test_form();
	test_secret();
	return check_report();
}
