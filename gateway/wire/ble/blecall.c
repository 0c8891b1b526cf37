/* SPDX-License-Identifier: MIT */
/* gateway/wire/ble/blecall.c - the method calls on BlueZ, each asynchronous
 * with its own timeout (sd_bus_call_async: nothing waits), and an error's
 * text for the log.  A file of its own under the mirror (blemirror.c),
 * discovery and the links that call BlueZ, so that the mirror does not
 * call back into the bus (blebus.c), which calls the mirror.
 */
#ifdef HAVE_SYSTEMD

#include <stdarg.h>
#include <stdio.h>

#include "ble_int.h"

int ble_call(struct gw_ble *m, sd_bus_slot **slot, const char *path, const char *iface, const char *member,
	     sd_bus_message_handler_t cb, void *ud, uint64_t usec, const char *types, ...)
{
	sd_bus_message *msg = NULL;
	int r = sd_bus_message_new_method_call(m->bus, &msg, BLUEZ, path, iface, member);
	if (r >= 0 && types) {
		va_list ap;
		va_start(ap, types);
		r = sd_bus_message_appendv(msg, types, ap);
		va_end(ap);
	}
	if (r >= 0) {
		if (cb)
			r = sd_bus_call_async(m->bus, slot, msg, cb, ud, usec);
		else if ((r = sd_bus_message_set_expect_reply(msg, 0)) >= 0)
			r = sd_bus_send(m->bus, msg, NULL);
	}
	sd_bus_message_unref(msg);
	return r;
}

const char *ble_err_text(const sd_bus_error *e, char *buf, size_t cap)
{
	if (e && sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY))
		snprintf(buf, cap, "no answer from BlueZ in time");
	else if (e && e->message && e->message[0])
		snprintf(buf, cap, "%s: %s", e->name ? e->name : "error", e->message);
	else
		snprintf(buf, cap, "%s", e && e->name ? e->name : "failed");
	return buf;
}

#endif /* HAVE_SYSTEMD */
