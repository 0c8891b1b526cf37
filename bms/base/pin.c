/* SPDX-License-Identifier: MIT */
/* bms/base/pin.c - the secret a Bluetooth BMS asks for (struct
 * bms_ble_pin, the pack's `pin =`): its form, and what a poll sends.
 * Pure, like the rest of bms/: the configuration checks a pin with
 * bms_pin_ok(), whose message never repeats it. */
#include "../bms.h"

#include <stdio.h>
#include <string.h>

bool bms_pin_ok(const struct bms_ble_pin *p, const char *pin, char *why, size_t cap)
{
	size_t n = strlen(pin);
	unsigned max = p->max_len && p->max_len <= BMS_PIN_MAX ? p->max_len : BMS_PIN_MAX;
	bool digits = true, printable = true;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)pin[i];
		printable = printable && c > 0x20 && c < 0x7F;
		digits = digits && c >= '0' && c <= '9';
		if (c >= '0' && c <= '9' && v <= 0xFFFFFFFFull)
			v = v * 10 + (uint64_t)(c - '0');
	}
	const char *kind = p->digits ? "decimal digits" : "printable ASCII characters without blanks";
	if (n < p->min_len || n > max || !printable || (p->digits && !digits)) {
		if (p->min_len == max)
			snprintf(why, cap, "a %s of this protocol is %u %s (the value is not repeated here)", p->name,
				 max, kind);
		else
			snprintf(why, cap, "a %s of this protocol is %u to %u %s (the value is not repeated here)", p->name,
				 p->min_len, max, kind);
		return false;
	}
	if (p->digits && p->max_value && v > p->max_value) {
		snprintf(why, cap, "a %s of this protocol is a number up to %lu (the value is not repeated here)",
			 p->name, (unsigned long)p->max_value);
		return false;
	}
	return true;
}

const char *bms_pin_of(const struct bms_poll *poll, const struct bms_ble_pin *p)
{
	if (poll->pin[0])
		return poll->pin;
	return p ? p->dflt : NULL;
}
