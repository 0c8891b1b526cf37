/* SPDX-License-Identifier: MIT */
/* gateway/venus/venus_item.c - a unit's items and the
 * com.victronenergy.BusItem interface on its connection, as velib_python's
 * VeDbusService serves it (its vedbus module, victronenergy/velib_python at
 * 588697e; ve_utils' wrap_dbus_value):
 *
 *   GetValue   on a path: its value in a variant (a double, an int32, a
 *              string), an empty array of int32 (ai) when invalid; on / or
 *              a node between (/Dc, /Dc/0 ...): a dictionary of the paths
 *              below it, relative, to their values (a{sv})
 *   GetText    on a path: its text ("53.20V"), "---" when invalid; on a
 *              node: a dictionary of the texts (a{ss})
 *   GetItems   on /: every path to {Value, Text} (a{sa{sv}}), which is how
 *              Victron's dbusmonitor scans a service
 *   SetValue   0 when taken, 1 on a read-only path or a value of the wrong
 *              type (VeDbusItemExport.SetValue's "NOT OK"), 2 when the
 *              value was refused (its callback's "NOT OK": /CustomName
 *              longer than 63 or not printable, the settings away)
 *
 * A change is a PropertiesChanged ({Value, Text}) on its path, as
 * VeDbusItemExport.local_set_value sends, and the changes of one build are
 * one ItemsChanged on / too, as a VeDbusService context sends them: the
 * clients of either kind (dbusmonitor listens to both) see each.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venus_int.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-bus.h>
#endif

/* ---- the items --------------------------------------------------------- */

static struct vn_item *item_at(struct vn_unit *u, const char *path)
{
	if (u->cursor < u->nitems && strcmp(u->items[u->cursor].path, path) == 0)
		return &u->items[u->cursor++];
	for (int k = 0; k < u->nitems; k++)
		if (strcmp(u->items[k].path, path) == 0) {
			u->cursor = k + 1;
			return &u->items[k];
		}
	if (u->nitems == u->cap) {
		int cap = u->cap ? u->cap * 2 : 96;
		struct vn_item *n = realloc(u->items, (size_t)cap * sizeof(*n));
		if (!n)
			return NULL;
		u->items = n;
		u->cap = cap;
	}
	struct vn_item *it = &u->items[u->nitems++];
	memset(it, 0, sizeof(*it));
	snprintf(it->path, sizeof(it->path), "%s", path);
	snprintf(it->text, sizeof(it->text), "---");
	it->changed = true; /* a new path: in the next ItemsChanged */
	u->cursor = u->nitems;
	return it;
}

struct vn_item *vn_item_find(const struct vn_unit *u, const char *path)
{
	for (int k = 0; k < u->nitems; k++)
		if (strcmp(u->items[k].path, path) == 0)
			return &u->items[k];
	return NULL;
}

void vn_item_writable(struct vn_unit *u, const char *path)
{
	struct vn_item *it = vn_item_find(u, path);
	if (it)
		it->writable = true;
}

static void set(struct vn_item *it, enum vn_kind k, int32_t i, double d, const char *s, const char *text)
{
	bool same = it->kind == k && (k != VN_INT || it->i == i) && (k != VN_DOUBLE || it->d == d) &&
		    (k != VN_STRING || strcmp(it->s, s) == 0);
	if (same)
		return;
	it->kind = k;
	it->i = i;
	it->d = d;
	snprintf(it->s, sizeof(it->s), "%s", k == VN_STRING ? s : "");
	snprintf(it->text, sizeof(it->text), "%s", text);
	it->changed = true;
}

void vn_put_int(struct vn_unit *u, const char *path, long v)
{
	struct vn_item *it = item_at(u, path);
	if (!it)
		return;
	char t[VN_TEXT_MAX];
	if (strcmp(path, "/ProductId") == 0)
		snprintf(t, sizeof(t), "0x%lX", v); /* as VeDbusItemExport.GetText shows it */
	else
		snprintf(t, sizeof(t), "%ld", v);
	it->round = u->round;
	set(it, VN_INT, (int32_t)v, 0, NULL, t);
}

void vn_put_double(struct vn_unit *u, const char *path, double v, int prec, const char *unit)
{
	if (!isfinite(v)) {
		vn_put_invalid(u, path);
		return;
	}
	struct vn_item *it = item_at(u, path);
	if (!it)
		return;
	char t[VN_TEXT_MAX];
	snprintf(t, sizeof(t), "%.*f%s", prec, v, unit);
	it->round = u->round;
	set(it, VN_DOUBLE, 0, v, NULL, t);
}

void vn_put_string(struct vn_unit *u, const char *path, const char *v)
{
	struct vn_item *it = item_at(u, path);
	if (!it)
		return;
	it->round = u->round;
	set(it, VN_STRING, 0, 0, v, v);
}

void vn_put_invalid(struct vn_unit *u, const char *path)
{
	struct vn_item *it = item_at(u, path);
	if (!it)
		return;
	it->round = u->round;
	set(it, VN_INVALID, 0, 0, NULL, "---");
}

void vn_items_begin(struct vn_unit *u)
{
	u->round++;
	u->cursor = 0;
}

void vn_items_end(struct vn_unit *u)
{
	for (int k = 0; k < u->nitems; k++)
		if (u->items[k].round != u->round)
			set(&u->items[k], VN_INVALID, 0, 0, NULL, "---");
}

void vn_items_free(struct vn_unit *u)
{
	free(u->items);
	u->items = NULL;
	u->nitems = u->cap = u->cursor = 0;
}

#ifdef HAVE_SYSTEMD

/* ---- on the bus -------------------------------------------------------- */

/* The value as ve_utils.wrap_dbus_value wraps it: a variant. */
static int append_value(sd_bus_message *m, const struct vn_item *it)
{
	switch (it->kind) {
	case VN_INT:
		return sd_bus_message_append(m, "v", "i", it->i);
	case VN_DOUBLE:
		return sd_bus_message_append(m, "v", "d", it->d);
	case VN_STRING:
		return sd_bus_message_append(m, "v", "s", it->s);
	default: {
		int r = sd_bus_message_open_container(m, 'v', "ai");
		if (r >= 0)
			r = sd_bus_message_append(m, "ai", 0);
		return r >= 0 ? sd_bus_message_close_container(m) : r;
	}
	}
}

/* {Value: v, Text: s} */
static int append_props(sd_bus_message *m, const struct vn_item *it)
{
	int r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'e', "sv");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", "Value");
	if (r >= 0)
		r = append_value(m, it);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_append(m, "{sv}", "Text", "s", it->text);
	return r >= 0 ? sd_bus_message_close_container(m) : r;
}

int vn_items_signal(struct vn_unit *u)
{
	sd_bus *bus = u->conn.bus;
	int sent = 0, nchanged = 0;
	for (int k = 0; k < u->nitems; k++)
		nchanged += u->items[k].changed;
	if (!nchanged)
		return 0;
	if (!bus || !u->named) {
		for (int k = 0; k < u->nitems; k++)
			u->items[k].changed = false;
		return 0;
	}
	sd_bus_message *all = NULL;
	int ra = sd_bus_message_new_signal(bus, &all, "/", VN_IFACE, "ItemsChanged");
	if (ra >= 0)
		ra = sd_bus_message_open_container(all, 'a', "{sa{sv}}");
	for (int k = 0; k < u->nitems; k++) {
		struct vn_item *it = &u->items[k];
		if (!it->changed)
			continue;
		it->changed = false;
		sd_bus_message *m = NULL;
		int r = sd_bus_message_new_signal(bus, &m, it->path, VN_IFACE, "PropertiesChanged");
		if (r >= 0)
			r = append_props(m, it);
		if (r >= 0 && sd_bus_send(bus, m, NULL) >= 0)
			sent++;
		sd_bus_message_unref(m);
		if (ra >= 0)
			ra = sd_bus_message_open_container(all, 'e', "sa{sv}");
		if (ra >= 0)
			ra = sd_bus_message_append(all, "s", it->path);
		if (ra >= 0)
			ra = append_props(all, it);
		if (ra >= 0)
			ra = sd_bus_message_close_container(all);
	}
	if (ra >= 0)
		ra = sd_bus_message_close_container(all);
	if (ra >= 0 && sd_bus_send(bus, all, NULL) >= 0)
		sent++;
	sd_bus_message_unref(all);
	u->signals += (unsigned long)sent;
	return sent;
}

/* path is / or a node above some item: the relative paths below it. */
static bool is_node(const struct vn_unit *u, const char *path, size_t *plen)
{
	size_t n = strcmp(path, "/") == 0 ? 0 : strlen(path);
	*plen = n;
	for (int k = 0; k < u->nitems; k++)
		if (strncmp(u->items[k].path, path, n) == 0 && u->items[k].path[n] == '/')
			return true;
	return false;
}

/* Send the reply m that r says was built whole (r >= 0), and drop it: 1
 * once sent (sd-bus's "handled"), else r. */
static int send_reply(sd_bus_message *m, int r)
{
	if (r >= 0)
		r = sd_bus_send(NULL, m, NULL);
	sd_bus_message_unref(m);
	return r < 0 ? r : 1;
}

/* GetValue (a{sv}) or GetText (a{ss}) of a node, in a variant. */
static int reply_node(sd_bus_message *call, const struct vn_unit *u, size_t plen, bool text)
{
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_return(call, &m);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', text ? "a{ss}" : "a{sv}");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', text ? "{ss}" : "{sv}");
	for (int k = 0; r >= 0 && k < u->nitems; k++) {
		const struct vn_item *it = &u->items[k];
		const char *path = sd_bus_message_get_path(call);
		if (strncmp(it->path, path, plen) != 0 || it->path[plen] != '/')
			continue;
		if (text) {
			r = sd_bus_message_append(m, "{ss}", it->path + plen + 1, it->text);
			continue;
		}
		r = sd_bus_message_open_container(m, 'e', "sv");
		if (r >= 0)
			r = sd_bus_message_append(m, "s", it->path + plen + 1);
		if (r >= 0)
			r = append_value(m, it);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return send_reply(m, r);
}

static int reply_items(sd_bus_message *call, const struct vn_unit *u)
{
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_return(call, &m);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sa{sv}}");
	for (int k = 0; r >= 0 && k < u->nitems; k++) {
		r = sd_bus_message_open_container(m, 'e', "sa{sv}");
		if (r >= 0)
			r = sd_bus_message_append(m, "s", u->items[k].path);
		if (r >= 0)
			r = append_props(m, &u->items[k]);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return send_reply(m, r);
}

static int reply_value(sd_bus_message *call, const struct vn_item *it)
{
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_return(call, &m);
	if (r >= 0)
		r = append_value(m, it);
	return send_reply(m, r);
}

/* SetValue(v) of item it: the code VeDbusItemExport.SetValue answers. */
static int set_value(sd_bus_message *call, struct vn_unit *u, struct vn_item *it)
{
	char type = 0;
	const char *contents = NULL;
	if (!sd_bus_message_has_signature(call, "v"))
		return sd_bus_reply_method_errorf(call, SD_BUS_ERROR_INVALID_ARGS, "SetValue takes one variant");
	int code = 1;
	if (it->writable && sd_bus_message_peek_type(call, &type, &contents) > 0 && type == 'v' && contents &&
	    strcmp(contents, "s") == 0) {
		const char *v = NULL;
		code = 2;
		if (sd_bus_message_read(call, "v", "s", &v) >= 0 && v && strlen(v) < VN_TEXT_MAX) {
			bool printable = true;
			for (const char *c = v; *c; c++)
				printable = printable && (unsigned char)*c >= 0x20 && *c != 0x7f;
			if (printable && (strcmp(v, it->s) == 0 || (u->set_name && u->set_name(u, v))))
				code = 0;
		}
	}
	if (code != 0)
		u->refused++;
	return sd_bus_reply_method_return(call, "i", code);
}

static int on_call(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	(void)err;
	struct vn_unit *u = ud;
	const char *iface = sd_bus_message_get_interface(m), *member = sd_bus_message_get_member(m);
	const char *path = sd_bus_message_get_path(m);
	if (!member || !path || (iface && strcmp(iface, VN_IFACE) != 0))
		return 0; /* sd-bus answers: no such method */
	struct vn_item *it = vn_item_find(u, path);
	size_t plen = 0;
	if (it && strcmp(member, "GetValue") == 0)
		return reply_value(m, it);
	if (it && strcmp(member, "GetText") == 0)
		return sd_bus_reply_method_return(m, "s", it->text);
	if (it && strcmp(member, "SetValue") == 0)
		return set_value(m, u, it);
	if (strcmp(member, "GetItems") == 0 && strcmp(path, "/") == 0)
		return reply_items(m, u);
	if (!it && is_node(u, path, &plen) && (strcmp(member, "GetValue") == 0 || strcmp(member, "GetText") == 0))
		return reply_node(m, u, plen, member[3] == 'T');
	return 0;
}

int vn_items_serve(struct vn_unit *u)
{
	u->object = sd_bus_slot_unref(u->object);
	return sd_bus_add_fallback(u->conn.bus, &u->object, "/", on_call, u);
}

#endif /* HAVE_SYSTEMD */
