/* SPDX-License-Identifier: MIT */
/* tests/unit/test_registry.c - the facts written once: the driver registry
 * (bms/drivers.h), the alarm table (bms/bms.h), a driver's own state in a
 * poll (BMS_PRIV(), bms_poll_begin()) and the register offsets other
 * modules take from the register table. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "../../registers/regmap.h"
#include "check.h"

/* The registry: X(sym) in BMS_DRIVER_LIST, as text and as tables. */
static const struct {
	const char *sym;
	const struct bms_driver *drv;
} listed[] = {
#define ROW_(sym) { #sym, &bms_##sym##_driver },
	BMS_DRIVER_LIST(ROW_)
#undef ROW_
};
#define NLISTED (sizeof(listed) / sizeof(listed[0]))

static void test_drivers(void)
{
	size_t n = 0;
	while (bms_drivers[n])
		n++;
	CHECK_EQ_INT(n, NLISTED);
	for (size_t i = 0; i < n; i++) {
		const struct bms_driver *d = bms_drivers[i];
		/* the registry holds the list in order; the ids rise along it
		 * (each is fixed for good: register 103's value, never reused) */
		CHECK(d == listed[i].drv);
		CHECK(d->protocol_id >= 1 && (i == 0 || d->protocol_id > bms_drivers[i - 1]->protocol_id));
		/* protocol key = symbol with '-' for '_' */
		char want[64];
		snprintf(want, sizeof(want), "%s", listed[i].sym);
		for (char *p = want; *p; p++)
			if (*p == '_')
				*p = '-';
		CHECK_STR(d->name, want);
		CHECK(bms_find(d->name) == d);
		for (size_t j = 0; j < i; j++) {
			CHECK(strcmp(d->name, bms_drivers[j]->name) != 0);
			CHECK(d->protocol_id != bms_drivers[j]->protocol_id);
		}
		/* every table is complete */
		CHECK(d->description && d->description[0]);
		CHECK(d->vendor && d->vendor[0]);
		CHECK(d->provides & BMS_HAS_VOLTAGE);
		CHECK(d->scan && d->handle);
		CHECK(d->listen_only || d->next_request);
		CHECK(d->default_baud >= 1200);
		CHECK(d->gap_floor >= 0 && (!d->control || d->control->gap_floor >= 0) && d->interbyte >= 0);
		CHECK(d->min_address <= d->max_address || d->max_address == 0);
		CHECK(d->default_address == 0 ||
		      (d->default_address >= d->min_address && d->default_address <= d->max_address));
		for (const char *p = d->name; *p; p++)
			CHECK(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-');
	}
	CHECK(bms_find("no-such-bms") == NULL);
}

static void test_alarms(void)
{
	for (unsigned b = 0; b < BMS_AL_COUNT; b++) {
		const char *name = bms_alarm_name(b), *label = bms_alarm_label(b), *text = bms_alarm_text(b);
		CHECK(name && label && text && text[0]);
		if (!name || !label)
			continue;
		/* the two spellings of one name */
		CHECK_EQ_INT(strlen(name), strlen(label));
		for (size_t i = 0; name[i]; i++)
			CHECK(toupper((unsigned char)name[i]) == label[i]);
		for (unsigned c = 0; c < b; c++)
			CHECK(strcmp(name, bms_alarm_name(c)) != 0);
	}
	CHECK(bms_alarm_name(BMS_AL_COUNT) == NULL);
	CHECK(bms_alarm_label(BMS_AL_COUNT) == NULL);
	CHECK(bms_alarm_text(BMS_AL_COUNT) == NULL);
	CHECK_EQ_INT(BMS_AL_CELL_OV, 1u << 0);
	CHECK_EQ_INT(BMS_AL_OTHER, 1u << (BMS_AL_COUNT - 1));
	CHECK(BMS_AL_COUNT <= 32);
}

/* A driver's state of a poll: its own type over struct bms_poll.priv,
 * const for a const poll, zeroed by bms_poll_begin() (which keeps what
 * lasts from poll to poll: persist, kept). */
struct test_state {
	uint16_t a;
	double b;
	uint8_t tail[40];
};

static void test_priv(void)
{
	static struct bms_poll poll;
	struct test_state *st = BMS_PRIV(&poll, struct test_state);
	const struct bms_poll *cp = &poll;
	const struct test_state *cst = BMS_PRIV(cp, struct test_state);

	CHECK((void *)st == (void *)poll.priv.bytes);
	CHECK(cst == st);
	CHECK_EQ_INT((uintptr_t)st % _Alignof(max_align_t), 0);
	st->a = 7;
	st->b = 2.5;
	st->tail[39] = 9;
	poll.persist = 0x55;
	poll.kept.ncells = 16;
	bms_poll_begin(&poll, 3, 0, false);
	for (size_t i = 0; i < sizeof(poll.priv.bytes); i++)
		CHECK_EQ_INT(poll.priv.bytes[i], 0);
	CHECK_EQ_INT(st->a, 0);
	CHECK_EQ_INT(poll.persist, 0x55);
	CHECK_EQ_INT(poll.kept.ncells, 16);
	CHECK_EQ_INT(poll.address, 3);
}

static void test_offsets(void)
{
	/* register-map.md: the core offsets other modules rely on */
	CHECK_EQ_INT(reg_offset(REG_SRC_SOC), 0);
	CHECK_EQ_INT(reg_offset(REG_SRC_DSG_MOS), 17);
	CHECK_EQ_INT(reg_offset(REG_SRC_CHG_MOS), 18);
	CHECK_EQ_INT(reg_offset(REG_SRC_FAILURE), 45);
	CHECK_EQ_INT(reg_offset(REG_SRC_ONLINE), 58);
	CHECK_EQ_INT(reg_offset(REG_SRC_AGE), 59);
	CHECK_EQ_INT(reg_offset(REG_SRC_GOOD_POLLS), 99);
}

int main(void)
{
	test_drivers();
	test_alarms();
	test_priv();
	test_offsets();
	return check_report();
}
