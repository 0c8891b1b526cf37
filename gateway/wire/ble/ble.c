/* SPDX-License-Identifier: MIT */
/* gateway/wire/ble/ble.c - one Bluetooth LE link: the transport
 * gw_transport_ble (wire_int.h), BlueZ through its D-Bus API (sd-bus,
 * libsystemd) on the daemon's libev loop.  The files it builds on are
 * listed in ble_int.h.
 *
 * A connected link (a driver with ble->gatt):
 *
 *   find the device (discovery with Transport=le only while BlueZ does not
 *   know it) -> wait for the adapter's connection slot (one Connect at a
 *   time per adapter: many controllers take one LE Create Connection at a
 *   time, bluez#631) -> Device1.Connect (timeout [ble] connect_timeout) ->
 *   ServicesResolved -> the first of the driver's GATT layouts whose
 *   characteristics are there (notify side: Flags notify or indicate; write
 *   side: write-without-response preferred, WriteValue type "command", else
 *   "request") -> the driver's unlock where it has one (struct
 *   bms_ble_auth) -> StartNotify (then on the layout's second notifier, where
 *   it has one: struct bms_gatt.notify2) -> an unlock written after the
 *   notifications (after_notify) -> up: every PropertiesChanged
 *   Value of the notify characteristic (and of the second) goes to the
 *   poller as bytes, one stream (the framers reassemble and tell the frames
 *   apart), every request is one WriteValue (in the driver's pieces of
 *   ble->write_piece bytes where it has them, each after the one before
 *   was answered).
 *
 * An advertisement link (a driver with ble->company) never connects: while
 * one is configured discovery runs (Transport=le, DuplicateData), and each
 * ManufacturerData[company] the device's PropertiesChanged carries is handed
 * over as a BMS_ADV record.
 *
 * Anything that goes wrong closes the link with the reason (ble_int.h):
 * link.c logs the outage once and retries with its backoff.
 */
#ifdef HAVE_SYSTEMD

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ble_int.h"
#include "../../core/clock.h"
#include "../../core/log.h"
#include "../../core/util.h"
#include "../wire_int.h"

#define WRITE_TIMEOUT (5 * USEC)    /* one WriteValue */
#define FIND_TIMEOUT 20.0           /* s of discovery for a device BlueZ does not know */

/* ------------------------------------------------------------ one link */

static void ble_link_advance(struct gw_ble_link *b);

static void timer_link_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_ble_link *b = container_of(w, struct gw_ble_link, timer);
	if (b->st == BL_FIND)
		gw_link_closef(b->l, "device %s not found within %.0f s of discovery (out of range, switched off, or "
			       "connected to another device such as a phone)", b->l->cfg->ble_addr, FIND_TIMEOUT);
	else if (b->st == BL_RESOLVING)
		gw_link_closef(b->l, "connected, but BlueZ did not resolve the GATT services within %g s",
			       b->l->env->ble_connect_timeout);
}

/* The device's characteristic uuid with one of the flags under a service
 * of uuid svc: the first, or for a write the best (write without response
 * first; of two with the same UUID, JK's new module, the one that is not
 * `not`, the notifier). */
static struct ble_obj *find_char(struct gw_ble_link *b, const char *svc, const char *uuid, unsigned flags,
				 const struct ble_obj *not)
{
	struct ble_obj *found = NULL;
	int best = -1;
	for (struct ble_obj *s = b->m->objs; s; s = s->next) {
		if (!(s->ifs & OBJ_SERVICE) || !ble_under(s->path, b->dev) || strcasecmp(s->uuid, svc) != 0)
			continue;
		for (struct ble_obj *c = b->m->objs; c; c = c->next) {
			if (!(c->ifs & OBJ_CHAR) || !ble_under(c->path, s->path) || strcasecmp(c->uuid, uuid) != 0 ||
			    !(c->flags & flags))
				continue;
			int score = (c->flags & CF_WWR ? 2 : 0) + (c != not);
			if (score > best) {
				best = score;
				found = c;
			}
			if (!(flags & (CF_WRITE | CF_WWR)))
				return found; /* a notifier: the first */
		}
		if (found)
			return found;
	}
	return NULL;
}

/* The more characteristics of layout g (struct bms_gatt.more) into b, all
 * of them there (a notifier notifies or indicates, the others take a
 * write); false when one is not. */
static bool pick_more(struct gw_ble_link *b, const struct bms_gatt *g)
{
	b->chans = g->more != NULL;
	b->nmore = 0;
	for (int i = 0; g->more && g->more[i].uuid; i++) {
		if (i >= BMS_GATT_MORE_MAX)
			return false;
		bool ntf = g->more[i].notify;
		struct ble_obj *c = find_char(b, g->service, g->more[i].uuid, ntf ? CF_NOTIFY | CF_INDICATE :
					      CF_WRITE | CF_WWR, NULL);
		if (!c)
			return false;
		snprintf(b->more[i], sizeof(b->more[i]), "%s", c->path);
		b->more_notify[i] = ntf;
		b->more_cmd[i] = !ntf && (c->flags & CF_WWR) && !(b->l->cfg->driver->ble->write_request &&
								    (c->flags & CF_WRITE));
		b->nmore = i + 1;
	}
	return true;
}

/* The characteristics of the first of the driver's layouts from the link's
 * ble_layout on that the device has (ble_layout set to it), or false. */
static bool pick_chars(struct gw_ble_link *b)
{
	const struct bms_gatt *g0 = b->l->cfg->driver->ble->gatt, *g = g0;
	for (int k = 0; g && g->service && k < b->l->ble_layout; k++)
		g++;
	for (; g && g->service; g++) {
		struct ble_obj *notify = find_char(b, g->service, g->notify, CF_NOTIFY | CF_INDICATE, NULL);
		struct ble_obj *notify2 = g->notify2 ? find_char(b, g->service, g->notify2, CF_NOTIFY | CF_INDICATE, NULL)
						     : NULL;
		const char *ws = g->write_service ? g->write_service : g->service;
		struct ble_obj *write = notify && g->write ? find_char(b, ws, g->write, CF_WRITE | CF_WWR, notify) : NULL;
		if (notify && (write || !g->write) && (notify2 || !g->notify2) && pick_more(b, g)) {
			/* no write: a BMS that only notifies (Topband), never written to */
			snprintf(b->notify, sizeof(b->notify), "%s", notify->path);
			snprintf(b->notify2, sizeof(b->notify2), "%s", notify2 ? notify2->path : "");
			snprintf(b->write, sizeof(b->write), "%s", write ? write->path : "");
			/* with response where the layout says so and the characteristic can */
			b->write_cmd = write && (write->flags & CF_WWR) != 0 &&
				       !(b->l->cfg->driver->ble->write_request && (write->flags & CF_WRITE));
			b->mtu = write ? write->mtu : notify->mtu;
			b->l->ble_layout = (int)(g - g0);
			gw_debug("link %s: GATT service %s: notify %s%s%s, write %s (%s)", b->l->port, g->service,
				 notify->path, notify2 ? " and " : "", notify2 ? notify2->path : "",
				 write ? write->path : "none", b->write_cmd ? "command" : "request");
			return true;
		}
	}
	return false;
}

static void start_notify(struct gw_ble_link *b);
static void queue_kick(struct gw_ble *m, struct ble_obj *ad);

/* The link's call (b->call) answered msg: the slot released; its error, or NULL. */
static const sd_bus_error *call_done(struct gw_ble_link *b, sd_bus_message *msg)
{
	b->call = sd_bus_slot_unref(b->call);
	return sd_bus_message_get_error(msg);
}

/* Notifications flow: the link is up, or back from lending its connection. */
static void link_is_up(struct gw_ble_link *b)
{
	b->st = BL_UP;
	b->idle = false;
	b->turn_at = gw_mono();
	if (b->parked) {
		b->parked = false;
		gw_link_unpark(b->l);
	} else {
		gw_link_up(b->l);
	}
	/* what a link of channels was told while it came up: its first bytes */
	size_t n = b->nearly;
	b->nearly = 0;
	if (n && b->st == BL_UP)
		gw_link_bytes(b->l, b->early, n);
}

static void auth_call(struct gw_ble_link *b, const struct bms_gatt *g, const struct bms_ble_auth *a);

/* The notifications are on: the unlock written after them where the
 * driver has one (struct bms_ble_auth.after_notify), else up. */
static void notify_done(struct gw_ble_link *b)
{
	const struct bms_driver *d = b->l->cfg->driver;
	if (d->ble->auth && d->ble->auth->after_notify)
		auth_call(b, &d->ble->gatt[b->l->ble_layout], d->ble->auth);
	else
		link_is_up(b);
}

/* StartNotify on the layout's second notifier answered: up, or the link
 * fails (no other layout is tried: the first notifier was taken). */
static int on_notify2(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct gw_ble_link *b = ud;
	const sd_bus_error *e = call_done(b, msg);
	if (e) {
		char t[200];
		gw_link_closef(b->l, "StartNotify on %s: %s", b->notify2, ble_err_text(e, t, sizeof(t)));
		return 0;
	}
	notify_done(b);
	return 0;
}

static int on_notify(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct gw_ble_link *b = ud;
	const sd_bus_error *e = call_done(b, msg);
	if (e) {
		char t[200];
		const struct bms_gatt *g = b->l->cfg->driver->ble->gatt;
		if ((sd_bus_error_has_name(e, "org.bluez.Error.NotPermitted") ||
		     sd_bus_error_has_name(e, "org.bluez.Error.NotSupported")) && g[b->l->ble_layout + 1].service) {
			/* newer firmware refuses the old layout's notifier (Daly FFF1): the next layout */
			gw_debug("link %s: StartNotify on %s: %s; trying the next GATT layout", b->l->port, b->notify,
				 ble_err_text(e, t, sizeof(t)));
			b->l->ble_layout++;
			start_notify(b);
			return 0;
		}
		gw_link_closef(b->l, "StartNotify on %s: %s", b->notify, ble_err_text(e, t, sizeof(t)));
		return 0;
	}
	if (b->notify2[0]) {
		/* the layout's second notifier: up when it notifies too */
		int r = ble_call(b->m, &b->call, b->notify2, IF_CHAR, "StartNotify", on_notify2, b, CALL_TIMEOUT, NULL);
		if (r < 0)
			gw_link_closef(b->l, "StartNotify: %s", strerror(-r));
		return 0;
	}
	notify_done(b);
	return 0;
}

/* StartNotify on the chosen notifier. */
static void notify_call(struct gw_ble_link *b)
{
	b->st = BL_NOTIFY;
	int r = ble_call(b->m, &b->call, b->notify, IF_CHAR, "StartNotify", on_notify, b, CALL_TIMEOUT, NULL);
	if (r < 0)
		gw_link_closef(b->l, "StartNotify: %s", strerror(-r));
}

static void subscribe(struct gw_ble_link *b);

/* StartNotify on a more notifier answered: the next, or the link fails. */
static int on_more_notify(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct gw_ble_link *b = ud;
	const sd_bus_error *e = call_done(b, msg);
	if (e) {
		char t[200];
		gw_link_closef(b->l, "StartNotify on %s: %s", b->more[b->sub], ble_err_text(e, t, sizeof(t)));
		return 0;
	}
	b->sub++;
	subscribe(b);
	return 0;
}

/* Notifications on: a layout's more notifiers first, in their order (a BMS
 * that greets on each: Dometic), then the notifier. */
static void subscribe(struct gw_ble_link *b)
{
	while (b->sub < b->nmore && !b->more_notify[b->sub])
		b->sub++;
	if (b->sub >= b->nmore) {
		notify_call(b);
		return;
	}
	b->st = BL_NOTIFY;
	int r = ble_call(b->m, &b->call, b->more[b->sub], IF_CHAR, "StartNotify", on_more_notify, b, CALL_TIMEOUT,
			 NULL);
	if (r < 0)
		gw_link_closef(b->l, "StartNotify: %s", strerror(-r));
}

/* The unlock read back: its first byte must be the driver's ok byte. */
static int on_auth_read(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct gw_ble_link *b = ud;
	const struct bms_ble_auth *a = b->l->cfg->driver->ble->auth;
	const sd_bus_error *e = call_done(b, msg);
	char t[200];
	if (e) {
		gw_link_closef(b->l, "reading the unlock back from %s: %s", b->auth, ble_err_text(e, t, sizeof(t)));
		return 0;
	}
	const void *p = NULL;
	size_t n = 0;
	int r = sd_bus_message_read_array(msg, 'y', &p, &n);
	if (r < 0 || n < 1 || ((const uint8_t *)p)[0] != a->ok) {
		gw_link_closef(b->l, "the BMS did not take the unlock: %s reads %s%02x, not %02x", b->auth,
			       r < 0 || n < 1 ? "nothing " : "", r < 0 || n < 1 ? 0 : ((const uint8_t *)p)[0], a->ok);
		return 0;
	}
	gw_debug("link %s: unlocked (%s reads %02x)", b->l->port, b->auth, a->ok);
	subscribe(b);
	return 0;
}

static int on_auth_write(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct gw_ble_link *b = ud;
	const struct bms_ble_auth *a = b->l->cfg->driver->ble->auth;
	const sd_bus_error *e = call_done(b, msg);
	if (e) {
		char t[200];
		gw_link_closef(b->l, "writing the unlock to %s: %s", b->auth, ble_err_text(e, t, sizeof(t)));
		return 0;
	}
	if (a->blind) {
		/* nothing to read back: written is unlocked */
		gw_debug("link %s: unlock written to %s", b->l->port, b->auth);
		if (a->after_notify)
			link_is_up(b);
		else
			notify_call(b);
		return 0;
	}
	int r = ble_call(b->m, &b->call, b->auth, IF_CHAR, "ReadValue", on_auth_read, b, CALL_TIMEOUT, "a{sv}", 0);
	if (r < 0)
		gw_link_closef(b->l, "ReadValue: %s", strerror(-r));
	return 0;
}

/* The driver's unlock (struct bms_ble_auth) under the layout's service:
 * its bytes written with response (a blind one as a command where the
 * characteristic takes no other), then read back (on_auth_read()), then
 * notifications, or the link up (after_notify). */
static void auth_call(struct gw_ble_link *b, const struct bms_gatt *g, const struct bms_ble_auth *a)
{
	struct ble_obj *c = find_char(b, g->service, a->chr, CF_WRITE, NULL);
	if (!c && a->blind)
		c = find_char(b, g->service, a->chr, CF_WWR, NULL);
	if (!c) {
		gw_link_closef(b->l, "no unlock characteristic %s (written%s) under service %s", a->chr,
			       a->blind ? "" : " with response", g->service);
		return;
	}
	bool request = (c->flags & CF_WRITE) != 0;
	snprintf(b->auth, sizeof(b->auth), "%s", c->path);
	b->st = BL_AUTH;
	sd_bus_message *msg = NULL;
	int r = sd_bus_message_new_method_call(b->m->bus, &msg, BLUEZ, b->auth, IF_CHAR, "WriteValue");
	if (r >= 0)
		r = sd_bus_message_append_array(msg, 'y', a->data, a->len);
	if (r >= 0)
		r = sd_bus_message_append(msg, "a{sv}", 1, "type", "s", request ? "request" : "command");
	if (r >= 0)
		r = sd_bus_call_async(b->m->bus, &b->call, msg, on_auth_write, b, WRITE_TIMEOUT);
	sd_bus_message_unref(msg);
	if (r < 0)
		gw_link_closef(b->l, "WriteValue (unlock): %s", strerror(-r));
}

/* Connected and resolved: the characteristics, the unlock where the layout
 * has one, then notifications. */
static void start_notify(struct gw_ble_link *b)
{
	if (!pick_chars(b)) {
		const struct bms_gatt *g = b->l->cfg->driver->ble->gatt;
		gw_link_closef(b->l, "no GATT layout of protocol %s on the device (service %s with notify %s and "
			       "write %s%s); a stale GATT cache is cleared with bluetoothctl remove %s",
			       b->l->cfg->driver->name, g ? g->service : "?", g ? g->notify : "?",
			       g ? (g->write ? g->write : "none") : "?",
			       g && g[1].service ? ", or the other layouts" : "", b->l->cfg->ble_addr);
		return;
	}
	const struct bms_driver *d = b->l->cfg->driver;
	b->sub = 0;
	b->nearly = 0;
	if (d->ble->auth && !d->ble->auth->after_notify)
		auth_call(b, &d->ble->gatt[b->l->ble_layout], d->ble->auth);
	else
		subscribe(b);
}

static int on_connect(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct gw_ble_link *b = ud;
	struct gw_ble *m = b->m;
	b->call = sd_bus_slot_unref(b->call);
	struct ble_obj *ad = ble_obj_find(m, b->adapter);
	if (ad && ad->connecting == b)
		ad->connecting = NULL;
	const sd_bus_error *e = sd_bus_message_get_error(msg);
	if (e) {
		char t[200];
		ble_err_text(e, t, sizeof(t));
		if (sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY))
			gw_link_closef(b->l, "no connection within %g s (connect_timeout)",
				       b->l->env->ble_connect_timeout);
		else if (sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_OBJECT) ||
			 sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_METHOD) ||
			 sd_bus_error_has_name(e, "org.bluez.Error.DoesNotExist")) {
			b->dev[0] = '\0';
			gw_link_closef(b->l, "BlueZ no longer knows device %s (%s)", b->l->cfg->ble_addr, t);
		} else if (sd_bus_error_has_name(e, "org.bluez.Error.InProgress"))
			gw_link_closef(b->l, "connect: BlueZ says a connection attempt is already in progress (%s)", t);
		else
			gw_link_closef(b->l, "connect: %s", t);
	} else {
		b->st = BL_RESOLVING;
		struct ble_obj *dev = ble_obj_find(m, b->dev);
		if (dev && dev->resolved) {
			start_notify(b);
		} else {
			ev_timer_set(&b->timer, b->l->env->ble_connect_timeout, 0.);
			ev_timer_start(m->loop, &b->timer);
		}
	}
	if (ad)
		queue_kick(m, ad);
	return 0;
}

/* A link holds one of its adapter's connections (or is giving it back). */
static bool holds(const struct gw_ble_link *b)
{
	return b->st == BL_CONNECTING || b->st == BL_RESOLVING || b->st == BL_AUTH || b->st == BL_NOTIFY ||
	       b->st == BL_UP || b->st == BL_RELEASING;
}

static int on_released(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct gw_ble_link *b = ud;
	b->call = sd_bus_slot_unref(b->call);
	(void)msg; /* disconnected or not, the turn is over: the link waits for its next */
	if (b->st != BL_RELEASING)
		return 0;
	b->st = BL_QUEUED;
	b->queued = ++b->m->queue_seq;
	struct ble_obj *ad = ble_obj_find(b->m, b->adapter);
	if (ad)
		queue_kick(b->m, ad);
	return 0;
}

/* An idle link lends its connection: Disconnect(), its wire parked (the
 * poller waits for its turn), queued again when BlueZ answers. */
static void lend(struct gw_ble_link *b)
{
	b->st = BL_RELEASING;
	b->parked = true;
	gw_link_park(b->l);
	gw_debug("link %s: its connection lent until its turn", b->l->port);
	if (ble_call(b->m, &b->call, b->dev, IF_DEVICE, "Disconnect", on_released, b, CALL_TIMEOUT, NULL) < 0)
		gw_link_closef(b->l, "Disconnect: cannot send it");
}

/* With [ble] max_connections held on the adapter, the first link waiting
 * takes the connection of the idle one that has held its longest; true
 * while none is free. */
static bool adapter_full(struct gw_ble *m, struct ble_obj *ad, int max)
{
	int held = 0;
	struct gw_ble_link *lender = NULL;
	for (struct gw_ble_link *b = m->links; b; b = b->next) {
		if (strcmp(b->adapter, ad->path) != 0)
			continue;
		held += holds(b);
		if (b->st == BL_UP && b->idle && (!lender || b->turn_at < lender->turn_at))
			lender = b;
	}
	if (held < max)
		return false;
	if (lender)
		lend(lender);
	return true;
}

/* The adapter's connection slot is free: the link that queued first connects. */
static void queue_kick(struct gw_ble *m, struct ble_obj *ad)
{
	while (!ad->connecting) {
		struct gw_ble_link *next = NULL;
		for (struct gw_ble_link *b = m->links; b; b = b->next)
			if (b->st == BL_QUEUED && strcmp(b->adapter, ad->path) == 0 && (!next || b->queued < next->queued))
				next = b;
		if (!next || adapter_full(m, ad, next->l->env->ble_max_connections))
			return;
		struct ble_obj *dev = ble_obj_find(m, next->dev);
		if (!dev) {
			next->st = BL_WAIT;
			ble_link_advance(next);
			continue;
		}
		next->st = BL_CONNECTING;
		ad->connecting = next;
		gw_debug("link %s: Connect %s", next->l->port, next->dev);
		uint64_t usec = (uint64_t)(next->l->env->ble_connect_timeout * (double)USEC);
		int r = ble_call(m, &next->call, next->dev, IF_DEVICE, "Connect", on_connect, next, usec, NULL);
		if (r < 0) {
			ad->connecting = NULL;
			gw_link_closef(next->l, "Connect: %s", strerror(-r));
		}
	}
}

/* Take the link as far as BlueZ's mirrored state allows. */
static void ble_link_advance(struct gw_ble_link *b)
{
	struct gw_ble *m = b->m;
	const struct conf_pack *cfg = b->l->cfg;
	if (!m->ready) {
		b->st = BL_WAIT;
		ble_objects_request(m);
		return;
	}
	struct ble_obj *ad = ble_adapter_find(m, cfg->ble_adapter);
	if (!ad) {
		if (cfg->ble_adapter[0])
			gw_link_closef(b->l, "no Bluetooth adapter %s (bluetoothctl list shows the adapters)",
				       cfg->ble_adapter);
		else
			gw_link_closef(b->l, "no Bluetooth adapter (bluetoothctl list shows none)");
		return;
	}
	snprintf(b->adapter, sizeof(b->adapter), "%s", ad->path);
	if (!ad->powered) {
		gw_link_closef(b->l, "adapter %s is powered off (bluetoothctl power on)", strrchr(ad->path, '/') + 1);
		return;
	}
	if (b->adv) {
		b->st = BL_ADV_START;
		ble_disc_update(m, ad);
		return;
	}
	struct ble_obj *dev = ble_device_find(m, ad->path, cfg->ble_addr);
	if (!dev) {
		if (b->st != BL_FIND) {
			gw_debug("link %s: BlueZ does not know the device: discovery", b->l->port);
			b->st = BL_FIND;
			ev_timer_set(&b->timer, FIND_TIMEOUT, 0.);
			ev_timer_start(m->loop, &b->timer);
		}
		ble_disc_update(m, ad);
		return;
	}
	ev_timer_stop(m->loop, &b->timer);
	snprintf(b->dev, sizeof(b->dev), "%s", dev->path);
	if (b->st == BL_FIND) {
		b->st = BL_WAIT;
		ble_disc_update(m, ad); /* nobody else may want it */
	}
	if (b->st == BL_RESOLVING) {
		ev_timer_stop(m->loop, &b->timer);
		start_notify(b);
		return;
	}
	if (dev->connected && dev->resolved) {
		/* BlueZ kept (or re-made) the connection: no Connect needed */
		start_notify(b);
		return;
	}
	b->st = BL_QUEUED;
	b->queued = ++m->queue_seq;
	queue_kick(m, ad);
}

/* ------------------------------------------------------------ the transport */

static void link_fail_why(struct gw_ble_link *b, const char *why)
{
	gw_link_close(b->l, why);
}

/* what the mirror and discovery tell the links */
static const struct ble_users link_users = { link_fail_why, ble_link_advance, NULL, NULL };

static void ble_open(struct gw_link *l)
{
	struct gw_link_env *env = l->env;
	char why[200];
	if (!env->ble && !(env->ble = ble_new(env->loop, &link_users))) {
		gw_link_close(l, "out of memory");
		return;
	}
	struct gw_ble *m = env->ble;
	if (!l->tr_data) {
		struct gw_ble_link *b = calloc(1, sizeof(*b));
		if (!b) {
			gw_link_close(l, "out of memory");
			return;
		}
		b->m = m;
		b->l = l;
		b->adv = l->cfg->driver->ble->company != 0;
		ev_init(&b->timer, timer_link_cb);
		b->next = m->links;
		m->links = b;
		l->tr_data = b;
	}
	if (ble_bus_open(m, why, sizeof(why)) < 0) {
		gw_link_close(l, why);
		return;
	}
	l->state = GW_LINK_CONNECTING;
	struct gw_ble_link *b = l->tr_data;
	b->st = BL_WAIT;
	l->ble_layout = 0;
	b->dev[0] = b->notify[0] = b->notify2[0] = b->write[0] = b->auth[0] = '\0';
	b->chans = false;
	b->nmore = b->sub = 0;
	b->nearly = 0;
	ble_link_advance(b);
}

/* Release what the link holds at BlueZ: the call in flight, the adapter's
 * connection slot, the connection itself, discovery nobody wants any more. */
static void ble_close(struct gw_link *l)
{
	struct gw_ble_link *b = l->tr_data;
	if (!b || b->st == BL_IDLE)
		return;
	struct gw_ble *m = b->m;
	enum ble_state was = b->st;
	b->st = BL_IDLE;
	b->parked = false;
	b->call = sd_bus_slot_unref(b->call);
	b->wcall = sd_bus_slot_unref(b->wcall);
	ev_timer_stop(m->loop, &b->timer);
	struct ble_obj *ad = b->adapter[0] ? ble_obj_find(m, b->adapter) : NULL;
	if (m->bus && b->dev[0] && ble_obj_find(m, b->dev) &&
	    (was == BL_CONNECTING || was == BL_RESOLVING || was == BL_AUTH || was == BL_NOTIFY || was == BL_UP)) {
		/* also cancels a connection attempt in progress */
		(void)ble_call(m, NULL, b->dev, IF_DEVICE, "Disconnect", NULL, NULL, 0, NULL);
	}
	b->dev[0] = b->notify[0] = b->notify2[0] = b->write[0] = b->auth[0] = '\0';
	if (ad) {
		if (ad->connecting == b)
			ad->connecting = NULL;
		queue_kick(m, ad); /* a connection of the adapter may be free */
		ble_disc_update(m, ad);
	}
}

/* The poll is over: with a link waiting and the adapter full, this one may lend its connection. */
static void ble_idle(struct gw_link *l)
{
	struct gw_ble_link *b = l->tr_data;
	if (!b || b->st != BL_UP)
		return;
	b->idle = true;
	struct ble_obj *ad = ble_obj_find(b->m, b->adapter);
	if (ad)
		queue_kick(b->m, ad);
}

static void unlink_ble(struct gw_link *l)
{
	struct gw_ble_link *b = l->tr_data;
	if (!b)
		return;
	for (struct gw_ble_link **pp = &b->m->links; *pp; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	b->wcall = sd_bus_slot_unref(b->wcall);
	free(b);
	l->tr_data = NULL;
}

static int on_write(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	(void)ud;
	const sd_bus_error *e = sd_bus_message_get_error(msg);
	if (e) {
		char t[200];
		gw_debug("ble: WriteValue %s: %s", sd_bus_message_get_path(msg) ? sd_bus_message_get_path(msg) : "",
			 ble_err_text(e, t, sizeof(t)));
	}
	return 0;
}

/* One WriteValue(bytes, {"type": "command" | "request"}) of p[0..n); with
 * done, the answer goes to done(b) through the link's slot wcall. */
static int ble_write_to(struct gw_ble_link *b, const char *path, bool cmd, const uint8_t *p, size_t n,
			sd_bus_message_handler_t done)
{
	sd_bus_message *msg = NULL;
	int r = sd_bus_message_new_method_call(b->m->bus, &msg, BLUEZ, path, IF_CHAR, "WriteValue");
	if (r >= 0)
		r = sd_bus_message_append_array(msg, 'y', p, n);
	if (r >= 0)
		r = sd_bus_message_append(msg, "a{sv}", 1, "type", "s", cmd ? "command" : "request");
	if (r >= 0)
		r = done ? sd_bus_call_async(b->m->bus, &b->wcall, msg, done, b, WRITE_TIMEOUT)
			 : sd_bus_call_async(b->m->bus, NULL, msg, on_write, NULL, WRITE_TIMEOUT);
	sd_bus_message_unref(msg);
	return r;
}

static int ble_write_value(struct gw_ble_link *b, const uint8_t *p, size_t n, sd_bus_message_handler_t done)
{
	return ble_write_to(b, b->write, b->write_cmd, p, n, done);
}

static int ble_write_failed(struct gw_link *l, int r)
{
	char why[160];
	snprintf(why, sizeof(why), "WriteValue: %s", strerror(-r));
	gw_link_close(l, why);
	return -1;
}

static int on_piece_written(sd_bus_message *msg, void *ud, sd_bus_error *ret_error);

/* A driver with ble->write_piece: the next piece of l->tx[txoff..txlen),
 * unless one is in flight (its answer writes the next). */
static int ble_next_piece(struct gw_ble_link *b)
{
	struct gw_link *l = b->l;
	if (b->wcall)
		return 0;
	if (l->txoff >= l->txlen) {
		l->txlen = l->txoff = 0;
		return 0;
	}
	size_t n = gw_link_ble_piece(l, b->write_cmd, b->mtu, l->txlen - l->txoff);
	int r = ble_write_value(b, l->tx + l->txoff, n, on_piece_written);
	if (r < 0)
		return ble_write_failed(l, r);
	l->txoff += n;
	return 0;
}

/* BlueZ answered a piece's WriteValue: the next piece, or after an error
 * the rest of the request dropped (the poll's timeout retries). */
static int on_piece_written(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct gw_ble_link *b = ud;
	b->wcall = sd_bus_slot_unref(b->wcall);
	const sd_bus_error *e = sd_bus_message_get_error(msg);
	if (e) {
		char t[200];
		gw_debug("link %s: WriteValue of a request piece: %s; the rest of the request dropped", b->l->port,
			 ble_err_text(e, t, sizeof(t)));
		b->l->txlen = b->l->txoff = 0;
		return 0;
	}
	if (b->st == BL_UP)
		(void)ble_next_piece(b);
	return 0;
}

/* A request of a link of channels: its records, each its data written to
 * its channel (0: the write characteristic, k: more[k - 1], one that is
 * written); bytes that are no record, or a channel that takes no write,
 * are dropped (a driver's fault: logged). */
static int ble_write_records(struct gw_ble_link *b)
{
	struct gw_link *l = b->l;
	const uint8_t *p = l->tx + l->txoff;
	size_t len = l->txlen - l->txoff, used, n;
	const uint8_t *data;
	uint8_t k;
	int r = 0;
	while (len && r >= 0) {
		if (!bms_chr_next(p, len, &k, &data, &n, &used)) {
			gw_debug("link %s: %zu bytes of a request that are no channel's record dropped", l->port,
				 used ? used : len);
			used = used ? used : len;
		} else if (k == 0 && b->write[0]) {
			r = ble_write_to(b, b->write, b->write_cmd, data, n, NULL);
		} else if (k >= 1 && k <= b->nmore && !b->more_notify[k - 1]) {
			r = ble_write_to(b, b->more[k - 1], b->more_cmd[k - 1], data, n, NULL);
		} else {
			gw_debug("link %s: a record for channel %u, which takes no write, dropped", l->port, k);
		}
		p += used;
		len -= used;
	}
	l->txlen = l->txoff = 0;
	return r < 0 ? ble_write_failed(l, r) : 0;
}

/* One request: WriteValue in pieces of the ATT MTU less 3 for a write
 * without response, all queued at once; a driver with ble->write_piece:
 * in its pieces, each after BlueZ answered the one before. */
static int ble_write(struct gw_link *l)
{
	struct gw_ble_link *b = l->tr_data;
	if (!b || b->st != BL_UP || !b->m->bus || !b->write[0]) {
		l->txlen = l->txoff = 0;
		return 0;
	}
	if (l->cfg->driver->ble->write_piece)
		return ble_next_piece(b);
	if (b->chans)
		return ble_write_records(b);
	size_t off = l->txoff, end = l->txlen;
	int r = 0;
	while (off < end && r >= 0) {
		size_t n = gw_link_ble_piece(l, b->write_cmd, b->mtu, end - off);
		r = ble_write_value(b, l->tx + off, n, NULL);
		off += n;
	}
	l->txlen = l->txoff = 0;
	return r < 0 ? ble_write_failed(l, r) : 0;
}

/* The Name of the device (Device1), as BlueZ mirrors it. */
static const char *ble_peer_name(const struct gw_link *l)
{
	const struct gw_ble_link *b = l->tr_data;
	const struct ble_obj *d = b && b->dev[0] ? ble_obj_find(b->m, b->dev) : NULL;
	return d ? d->name : NULL;
}

/* Notifications come as D-Bus signals. */
const struct gw_transport gw_transport_ble = {
	.name = "ble",
	.bms_link = BMS_LINK_BLE,
	.messages = true,
	.fds = 1, /* the poll timerfd; the one D-Bus socket is counted once (daemon.c) */
	.silent_reopen = 3,
	.silent_why = "no notification from the BMS for 3 polls; reconnecting",
	.open = ble_open,
	.close = ble_close,
	.release = unlink_ble,
	.write = ble_write,
	.idle = ble_idle,
	.peer_name = ble_peer_name,
};

#endif /* HAVE_SYSTEMD */
