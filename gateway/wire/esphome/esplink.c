/* SPDX-License-Identifier: MIT */
/* gateway/wire/esphome/esplink.c - one ble:// link through an ESPHome
 * Bluetooth proxy: the transport gw_transport_esphome (wire_int.h), on the
 * API session of espclient.c (esp_int.h).
 *
 * A connected link (a driver with ble->gatt), as gateway/wire/ble/ble.c
 * does it through BlueZ:
 *
 *   the session up -> the device's advertisement seen (its address type;
 *   FIND_TIMEOUT) -> BluetoothDeviceRequest connect (with the proxy's GATT
 *   cache where it offers one; [ble] connect_timeout) -> the GATT services
 *   until "done" -> the first of the driver's layouts whose
 *   characteristics are there (notify or indicate; write without response
 *   preferred) -> the unlock where the driver has one (written with
 *   response, read back) -> notify enabled -> up: every notification of
 *   the notify handle goes to the poller as bytes, every request is one
 *   BluetoothGATTWriteRequest (pieces of the MTU less 3; in the driver's
 *   pieces of ble->write_piece bytes where it has them, each after the
 *   proxy answered the one before: BluetoothGATTWriteResponse, which
 *   ESPHome sends for a write without response too).
 *
 * A listen-only driver (ble->company) never connects: each advertisement of
 * the device through the proxy hands its manufacturer data of that
 * company over as a BMS_ADV record.
 *
 * Anything that goes wrong -- the session, a refused connection, a GATT
 * error, the device disconnecting -- closes the link with the reason
 * (link.c logs the outage once and reopens with its backoff).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../core/clock.h"
#include "../../core/log.h"
#include "../../core/util.h"
#include "esp_int.h"

#define FIND_TIMEOUT 20.0   /* s waiting for the device's advertisement */
#define WRITE_TIMEOUT 5.0   /* s waiting for the proxy's answer to a request piece */

static void set_deadline(struct gw_esp_link *k, double s)
{
	ev_timer_stop(k->p->env->loop, &k->timer);
	ev_timer_set(&k->timer, s, 0.);
	ev_timer_start(k->p->env->loop, &k->timer);
}

/* "AA:BB:CC:DD:EE:FF" -> the 48-bit address, most significant byte first. */
static uint64_t mac_u64(const char *mac)
{
	uint64_t a = 0;
	for (int i = 0; i < 6; i++)
		a = a << 8 | (uint64_t)strtoul(mac + 3 * i, NULL, 16);
	return a;
}

/* A UUID of the API (two 64-bit halves, or a 16/32-bit short one on the
 * Bluetooth base) as the drivers write it, lower case. */
static void uuid_text(const uint64_t *u, size_t n, uint32_t short_uuid, char out[37])
{
	uint64_t hi, lo;
	if (n == 2) {
		hi = u[0];
		lo = u[1];
	} else {
		hi = (uint64_t)short_uuid << 32 | 0x00001000u;  /* xxxxxxxx-0000-1000- */
		lo = 0x800000805f9b34fbULL;                      /* 8000-00805f9b34fb */
	}
	snprintf(out, 37, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(hi >> 32), (unsigned)(hi >> 16 & 0xffff),
		 (unsigned)(hi & 0xffff), (unsigned)(lo >> 48), (unsigned long long)(lo & 0xffffffffffffULL));
}

/* The characteristics of one GetServices answer, kept. */
static void add_services(struct gw_esp_link *k, const Esphome__BluetoothGATTGetServicesResponse *r)
{
	for (size_t i = 0; i < r->n_services; i++) {
		const Esphome__BluetoothGATTService *s = r->services[i];
		char svc[37];
		uuid_text(s->uuid, s->n_uuid, s->short_uuid, svc);
		for (size_t j = 0; j < s->n_characteristics; j++) {
			const Esphome__BluetoothGATTCharacteristic *c = s->characteristics[j];
			if (k->nchars == k->capchars) {
				int cap = k->capchars ? 2 * k->capchars : 16;
				struct esp_char *t = cap <= 256 ? realloc(k->chars, (size_t)cap * sizeof(*t)) : NULL;
				if (!t)
					return; /* more than 256: the rest is not looked at */
				k->chars = t;
				k->capchars = cap;
			}
			struct esp_char *e = &k->chars[k->nchars++];
			memcpy(e->svc, svc, sizeof(svc));
			uuid_text(c->uuid, c->n_uuid, c->short_uuid, e->uuid);
			e->handle = c->handle;
			e->props = c->properties;
			e->cccd = 0;
			for (size_t d = 0; d < c->n_descriptors; d++) {
				char du[37];
				uuid_text(c->descriptors[d]->uuid, c->descriptors[d]->n_uuid, c->descriptors[d]->short_uuid, du);
				if (strcmp(du, BMS_UUID16("2902")) == 0)
					e->cccd = c->descriptors[d]->handle;
			}
		}
	}
}

#define P_READ 0x02u
#define P_WWR 0x04u
#define P_WRITE 0x08u
#define P_NOTIFY 0x10u
#define P_INDICATE 0x20u

/* The best characteristic uuid under svc with one of props (write without
 * response first; of two with the same UUID, the one that is not `not`). */
static const struct esp_char *find_char(const struct gw_esp_link *k, const char *svc, const char *uuid, uint32_t props,
					const struct esp_char *not)
{
	const struct esp_char *found = NULL;
	int best = -1;
	for (int i = 0; i < k->nchars; i++) {
		const struct esp_char *c = &k->chars[i];
		if (strcasecmp(c->svc, svc) != 0 || strcasecmp(c->uuid, uuid) != 0 || !(c->props & props))
			continue;
		if (!(props & (P_WRITE | P_WWR)))
			return c;
		int score = (c->props & P_WWR ? 2 : 0) + (c != not);
		if (score > best) {
			best = score;
			found = c;
		}
	}
	return found;
}

/* Notifications of the notifier (EL_NOTIFY), or of the second (EL_NOTIFY2). */
static void notify_enable(struct gw_esp_link *k, enum esp_link_state st)
{
	Esphome__BluetoothGATTNotifyRequest r = ESPHOME__BLUETOOTH_GATTNOTIFY_REQUEST__INIT;
	r.address = k->addr;
	r.handle = st == EL_NOTIFY2 ? k->notify2_h : k->notify_h;
	r.enable = true;
	k->st = st;
	(void)esp_client_send(k->p, ESP_NOTIFY_REQ, &r.base);
}

/* Notifications switched on for the characteristic of the CCCD cccd (01 00,
 * or 02 00 where it only indicates): the client's part on a V3
 * connection (notify_on()); -1 when the session failed. */
static int cccd_on(struct gw_esp_link *k, uint32_t cccd, bool indicate)
{
	if (!cccd)
		return 0;
	uint8_t on[2] = { indicate ? 0x02 : 0x01, 0x00 };
	Esphome__BluetoothGATTWriteDescriptorRequest w = ESPHOME__BLUETOOTH_GATTWRITE_DESCRIPTOR_REQUEST__INIT;
	w.address = k->addr;
	w.handle = cccd;
	w.data.data = on;
	w.data.len = sizeof(on);
	return esp_client_send(k->p, ESP_WRITE_DESC_REQ, &w.base);
}

/* Notifications on: a layout's more notifiers first, in their order (a BMS
 * that greets on each: Dometic), then the notifier. */
static void subscribe(struct gw_esp_link *k)
{
	while (k->sub < k->nmore && !k->more_notify[k->sub])
		k->sub++;
	if (k->sub >= k->nmore) {
		notify_enable(k, EL_NOTIFY);
		return;
	}
	Esphome__BluetoothGATTNotifyRequest r = ESPHOME__BLUETOOTH_GATTNOTIFY_REQUEST__INIT;
	r.address = k->addr;
	r.handle = k->more_h[k->sub];
	r.enable = true;
	k->st = EL_NOTIFYM;
	(void)esp_client_send(k->p, ESP_NOTIFY_REQ, &r.base);
}

/* The more characteristics of layout g (struct bms_gatt.more) into k, all
 * of them there; false when one is not. */
static bool pick_more(struct gw_esp_link *k, const struct bms_gatt *g, const struct bms_driver *d)
{
	k->chans = g->more != NULL;
	k->nmore = 0;
	for (int i = 0; g->more && g->more[i].uuid; i++) {
		bool ntf = g->more[i].notify;
		const struct esp_char *c = i < BMS_GATT_MORE_MAX ? find_char(k, g->service, g->more[i].uuid,
									     ntf ? P_NOTIFY | P_INDICATE : P_WRITE | P_WWR,
									     NULL) : NULL;
		if (!c)
			return false;
		k->more_h[i] = c->handle;
		k->more_cccd[i] = c->cccd;
		k->more_notify[i] = ntf;
		k->more_ind[i] = ntf && !(c->props & P_NOTIFY);
		k->more_cmd[i] = !ntf && (c->props & P_WWR) && !(d->ble->write_request && (c->props & P_WRITE));
		k->nmore = i + 1;
	}
	return true;
}

/* The unlock (struct bms_ble_auth) written with response (a blind one
 * without where the characteristic takes no other); read back at its
 * answer, unless blind. */
static void auth_write(struct gw_esp_link *k, const struct bms_gatt *g, const struct bms_ble_auth *a)
{
	const struct esp_char *c = find_char(k, g->service, a->chr, P_WRITE, NULL);
	if (!c && a->blind)
		c = find_char(k, g->service, a->chr, P_WWR, NULL);
	if (!c) {
		gw_link_closef(k->l, "no unlock characteristic %s (written%s) under service %s", a->chr,
			       a->blind ? "" : " with response", g->service);
		return;
	}
	k->auth_h = c->handle;
	Esphome__BluetoothGATTWriteRequest w = ESPHOME__BLUETOOTH_GATTWRITE_REQUEST__INIT;
	w.address = k->addr;
	w.handle = k->auth_h;
	w.response = (c->props & P_WRITE) != 0;
	w.data.data = (uint8_t *)a->data;
	w.data.len = a->len;
	k->st = a->after_notify ? EL_AUTH_LATE : EL_AUTH_WRITE;
	(void)esp_client_send(k->p, ESP_WRITE_REQ, &w.base);
}

/* The services are known: the first layout the device has, then the
 * unlock or notifications. */
static void pick_layout(struct gw_esp_link *k)
{
	const struct bms_driver *d = k->l->cfg->driver;
	const struct bms_gatt *g0 = d->ble->gatt, *g = g0;
	for (int i = 0; g && g->service && i < k->l->ble_layout; i++)
		g++;
	for (; g && g->service; g++) {
		const struct esp_char *n = find_char(k, g->service, g->notify, P_NOTIFY | P_INDICATE, NULL);
		const char *ws = g->write_service ? g->write_service : g->service;
		const struct esp_char *w = n && g->write ? find_char(k, ws, g->write, P_WRITE | P_WWR, n) : NULL;
		const struct esp_char *n2 = g->notify2 ? find_char(k, g->service, g->notify2, P_NOTIFY | P_INDICATE, NULL)
						       : NULL;
		if (!n || (g->write && !w) || (g->notify2 && !n2) || !pick_more(k, g, d))
			continue;
		k->notify_h = n->handle;
		k->cccd_h = n->cccd;
		k->indicate = !(n->props & P_NOTIFY);
		k->notify2_h = n2 ? n2->handle : 0;
		k->cccd2_h = n2 ? n2->cccd : 0;
		k->indicate2 = n2 && !(n2->props & P_NOTIFY);
		k->write_h = w ? w->handle : 0;
		k->write_cmd = w && (w->props & P_WWR) && !(d->ble->write_request && (w->props & P_WRITE));
		k->l->ble_layout = (int)(g - g0);
		gw_debug("link %s: GATT service %s: notify handle %u, write handle %u (%s)", k->l->port, g->service,
			 k->notify_h, k->write_h, k->write_cmd ? "command" : "request");
		k->sub = 0;
		k->nearly = 0;
		if (d->ble->auth && !d->ble->auth->after_notify)
			auth_write(k, g, d->ble->auth);
		else
			subscribe(k);
		return;
	}
	gw_link_closef(k->l, "no GATT layout of protocol %s on the device (service %s with notify %s and write %s%s)",
		       d->name, g0 ? g0->service : "?", g0 ? g0->notify : "?", g0 && g0->write ? g0->write : "none",
		       g0 && g0[1].service ? ", or the other layouts" : "");
}

/* The connection request, the link's turn come. */
static void send_connect(struct gw_esp_link *k, const struct esp_seen *s)
{
	Esphome__BluetoothDeviceRequest r = ESPHOME__BLUETOOTH_DEVICE_REQUEST__INIT;
	r.address = k->addr;
	r.request_type = k->p->features & ESP_FEAT_CACHE ? ESP_DEV_CONNECT_CACHE : ESP_DEV_CONNECT_NOCACHE;
	r.has_address_type = true;
	r.address_type = s->addr_type;
	k->st = EL_CONNECTING;
	k->nchars = 0;
	set_deadline(k, k->l->env->ble_connect_timeout);
	gw_debug("link %s: connect through proxy %s", k->l->port, k->p->cfg.name);
	(void)esp_client_send(k->p, ESP_DEVICE_REQ, &r.base);
}

/* A link of the proxy is making a connection (one at a time, as an ESP32
 * makes one at a time) or giving its slot back. */
static bool establishing(const struct gw_esp *p)
{
	for (const struct gw_esp_link *k = p->links; k; k = k->next)
		if ((k->st >= EL_CONNECTING && k->st <= EL_AUTH_LATE) || k->st == EL_RELEASING)
			return true;
	return false;
}

/* The slots free for our next connection: the proxy's count less our
 * connections it did not count yet (its report may come after our
 * answer); one while it has not reported. */
static int free_for_us(const struct gw_esp *p)
{
	if (p->free_slots < 0)
		return 1;
	int n = p->free_slots;
	for (const struct gw_esp_link *k = p->links; k; k = k->next) {
		if (!((k->st >= EL_CONNECTING && k->st <= EL_UP) || k->st == EL_RELEASING))
			continue;
		bool counted = false;
		for (int i = 0; i < p->nalloc && !counted; i++)
			counted = p->alloc[i] == k->addr;
		n -= !counted;
	}
	return n;
}

/* An idle link lends its slot: disconnected, its wire parked (the poller
 * waits for its turn), queued again. */
static void lend_slot(struct gw_esp_link *k)
{
	Esphome__BluetoothDeviceRequest r = ESPHOME__BLUETOOTH_DEVICE_REQUEST__INIT;
	r.address = k->addr;
	r.request_type = ESP_DEV_DISCONNECT;
	k->st = EL_RELEASING;
	k->parked = true;
	gw_link_park(k->l);
	gw_debug("link %s: its slot on proxy %s lent until its turn", k->l->port, k->p->cfg.name);
	(void)esp_client_send(k->p, ESP_DEVICE_REQ, &r.base);
}

/* The proxy's slots among its links: the first waiting connects when a
 * slot is free; when none is, the idle link that has held one longest
 * lends it.  So more packs than slots take turns (connect, poll,
 * disconnect), each within one round. */
static void kick(struct gw_esp *p)
{
	if (p->st != ES_READY || establishing(p))
		return;
	struct gw_esp_link *next = NULL, *lender = NULL;
	for (struct gw_esp_link *k = p->links; k; k = k->next) {
		if (k->st == EL_QUEUED && (!next || k->queued < next->queued))
			next = k;
		if (k->st == EL_UP && k->idle && (!lender || k->turn_at < lender->turn_at))
			lender = k;
	}
	if (!next)
		return;
	if (free_for_us(p) > 0) {
		const struct esp_seen *s = esp_client_seen(p, next->addr);
		if (s)
			send_connect(next, s);
	} else if (lender) {
		lend_slot(lender);
	}
}

/* Queue for a slot, once the device's advertisement gave its address type. */
static void connect_device(struct gw_esp_link *k)
{
	if (!esp_client_seen(k->p, k->addr)) {
		if (k->st != EL_FIND) {
			k->st = EL_FIND;
			set_deadline(k, FIND_TIMEOUT);
		}
		return;
	}
	k->st = EL_QUEUED;
	k->queued = ++k->p->queue_seq;
	kick(k->p);
}

/* The session is up (or was when the link opened). */
static void on_ready(struct gw_esp_link *k)
{
	if (k->st != EL_WAIT)
		return;
	if (!(k->p->features & ESP_FEAT_RAW_ADV)) {
		/* a device's address type comes from its advertisements, as do a
		 * listening driver's values */
		gw_link_closef(k->l,
			       "proxy %s relays no raw advertisements (an ESPHome older than mid 2023: update it)",
			       k->p->cfg.name);
		return;
	}
	if (k->adv) {
		k->st = EL_ADV;
		gw_link_up(k->l);
		return;
	}
	if (!(k->p->features & ESP_FEAT_ACTIVE)) {
		gw_link_closef(k->l,
			       "proxy %s makes no connections (expected bluetooth_proxy: active: true in its YAML)",
			       k->p->cfg.name);
		return;
	}
	connect_device(k);
}

/* The proxy's session failed: its outage, naming this link's pack, is the
 * client's line of the log (espclient.c); the link's is covered by it. */
static void on_fail(struct gw_esp_link *k, const char *why)
{
	if (k->st != EL_IDLE)
		gw_link_close_covered(k->l, why); /* calls esp_close() */
}

/* The proxy listens for the notifications: on a V3 connection the client
 * switches them on itself, 01 00 (notify) or 02 00 (indicate) written to
 * the characteristic's CCCD (esphome esp32_ble_client, "the client is
 * responsible for flipping the descriptor value when using the cache";
 * bleak-esphome does the same); then up. */
static void link_up(struct gw_esp_link *k);

static void notify_on(struct gw_esp_link *k)
{
	bool second = k->st == EL_NOTIFY2;
	if (k->st == EL_NOTIFYM) {
		if (cccd_on(k, k->more_cccd[k->sub], k->more_ind[k->sub]) < 0)
			return;
		k->sub++;
		subscribe(k);
		return;
	}
	if (cccd_on(k, second ? k->cccd2_h : k->cccd_h, second ? k->indicate2 : k->indicate) < 0)
		return;
	if (!second && k->notify2_h) {
		notify_enable(k, EL_NOTIFY2);
		return;
	}
	const struct bms_driver *d = k->l->cfg->driver;
	if (d->ble->auth && d->ble->auth->after_notify) {
		auth_write(k, &d->ble->gatt[k->l->ble_layout], d->ble->auth);
		return; /* up at its answer (auth_answer()) */
	}
	link_up(k);
}

/* Notifications on (and an unlock after them written): up. */
static void link_up(struct gw_esp_link *k)
{
	k->st = EL_UP;
	k->wpending = false;
	k->idle = false;
	double now = gw_mono();
	if (k->parked && k->turn_at > 0)
		k->p->round_s = now - k->turn_at;
	k->turn_at = now;
	if (k->parked) {
		k->parked = false;
		gw_link_unpark(k->l);
	} else {
		gw_link_up(k->l);
	}
	/* what a link of channels was told while it came up: its first bytes */
	size_t n = k->nearly;
	k->nearly = 0;
	if (n && k->st == EL_UP)
		gw_link_bytes(k->l, k->early, n);
	kick(k->p);
}

/* The unlock's answers: the write taken, then the byte read back. */
static void auth_answer(struct gw_esp_link *k, unsigned type, const ProtobufCMessage *m)
{
	const struct bms_ble_auth *a = k->l->cfg->driver->ble->auth;
	if (k->st == EL_AUTH_LATE && type == ESP_WRITE_RESP) {
		gw_debug("link %s: unlock written", k->l->port);
		link_up(k);
	} else if (k->st == EL_AUTH_WRITE && type == ESP_WRITE_RESP && a->blind) {
		gw_debug("link %s: unlock written", k->l->port);
		notify_enable(k, EL_NOTIFY);
	} else if (k->st == EL_AUTH_WRITE && type == ESP_WRITE_RESP) {
		Esphome__BluetoothGATTReadRequest r = ESPHOME__BLUETOOTH_GATTREAD_REQUEST__INIT;
		r.address = k->addr;
		r.handle = k->auth_h;
		k->st = EL_AUTH_READ;
		(void)esp_client_send(k->p, ESP_READ_REQ, &r.base);
	} else if (k->st == EL_AUTH_READ && type == ESP_READ_RESP) {
		const Esphome__BluetoothGATTReadResponse *r = (const void *)m;
		if (r->data.len < 1 || r->data.data[0] != a->ok) {
			gw_link_closef(k->l, "the BMS did not take the unlock: handle %u reads %s%02x, not %02x",
				       k->auth_h, r->data.len < 1 ? "nothing " : "", r->data.len < 1 ? 0 : r->data.data[0],
				       a->ok);
			return;
		}
		gw_debug("link %s: unlocked", k->l->port);
		subscribe(k);
	}
}

/* The device's connection changed. */
static void connection_answer(struct gw_esp_link *k, const Esphome__BluetoothDeviceConnectionResponse *c)
{
	if (!c->connected && k->st == EL_RELEASING) {
		k->st = EL_QUEUED;
		k->queued = ++k->p->queue_seq;
		kick(k->p);
		return;
	}
	if (!c->connected) {
		if (k->st == EL_CONNECTING)
			gw_link_closef(k->l, "proxy %s could not connect (error %d%s)", k->p->cfg.name, (int)c->error,
				       k->p->free_slots == 0 ? "; no free connection slot" : "");
		else
			gw_link_closef(k->l, "the device disconnected (proxy %s, error %d)", k->p->cfg.name,
				       (int)c->error);
		return;
	}
	if (k->st != EL_CONNECTING)
		return;
	k->mtu = c->mtu;
	k->st = EL_SERVICES;
	Esphome__BluetoothGATTGetServicesRequest r = ESPHOME__BLUETOOTH_GATTGET_SERVICES_REQUEST__INIT;
	r.address = k->addr;
	(void)esp_client_send(k->p, ESP_SERVICES_REQ, &r.base);
}

static void next_piece(struct gw_esp_link *k);

/* A notification of a link of channels (struct bms_gatt.more) on handle
 * h, if it is one of its notifiers: as its records (BMS_CHR_*, a part of
 * 255 bytes each), the link's bytes, or, while it is being set up, kept
 * for its first bytes. */
static bool channel_value(struct gw_esp_link *k, uint32_t h, const uint8_t *p, size_t n)
{
	int ch = h == k->notify_h ? 0 : -1;
	for (int i = 0; ch < 0 && i < k->nmore; i++)
		if (k->more_notify[i] && k->more_h[i] == h)
			ch = i + 1;
	if (ch < 0)
		return false;
	do {
		uint8_t rec[BMS_CHR_HDR + 255];
		size_t part = n > 255 ? 255 : n, m = bms_chr_record(rec, sizeof(rec), (uint8_t)ch, p, part);
		if (k->st == EL_UP)
			gw_link_bytes(k->l, rec, m);
		else if (k->nearly + m <= sizeof(k->early)) {
			memcpy(k->early + k->nearly, rec, m);
			k->nearly += m;
		}
		p += part;
		n -= part;
	} while (n);
	return true;
}

static void on_message(struct gw_esp_link *k, unsigned type, const ProtobufCMessage *m)
{
	if (k->adv)
		return;
	switch (type) {
	case ESP_CONN_RESP:
		connection_answer(k, (const void *)m);
		return;
	case ESP_SERVICES_RESP:
		if (k->st == EL_SERVICES)
			add_services(k, (const void *)m);
		return;
	case ESP_SERVICES_DONE:
		if (k->st == EL_SERVICES) {
			ev_timer_stop(k->p->env->loop, &k->timer);
			pick_layout(k);
		}
		return;
	case ESP_NOTIFY_RESP: {
		uint32_t h = ((const Esphome__BluetoothGATTNotifyResponse *)m)->handle;
		if ((k->st == EL_NOTIFY && h == k->notify_h) || (k->st == EL_NOTIFY2 && h == k->notify2_h) ||
		    (k->st == EL_NOTIFYM && h == k->more_h[k->sub]))
			notify_on(k);
		return;
	}
	case ESP_NOTIFY_DATA: {
		const Esphome__BluetoothGATTNotifyDataResponse *d = (const void *)m;
		if (k->chans && (k->st == EL_UP || (k->st >= EL_NOTIFYM && k->st <= EL_NOTIFY2)) &&
		    channel_value(k, d->handle, d->data.data, d->data.len))
			return;
		if (k->st == EL_UP && (d->handle == k->notify_h || (k->notify2_h && d->handle == k->notify2_h)) &&
		    d->data.len)
			gw_link_bytes(k->l, d->data.data, d->data.len);
		return;
	}
	case ESP_WRITE_RESP:
		if (k->st == EL_UP && k->wpending && ((const Esphome__BluetoothGATTWriteResponse *)m)->handle == k->write_h) {
			k->wpending = false;
			ev_timer_stop(k->p->env->loop, &k->timer);
			next_piece(k);
		} else {
			auth_answer(k, type, m);
		}
		return;
	case ESP_GATT_ERROR: {
		const Esphome__BluetoothGATTErrorResponse *e = (const void *)m;
		const struct bms_gatt *g = k->l->cfg->driver->ble->gatt;
		if (k->st == EL_NOTIFY && e->handle == k->notify_h && g[k->l->ble_layout + 1].service) {
			/* newer firmware refuses the old layout's notifier (Daly FFF1): the next layout */
			gw_debug("link %s: notify on handle %u refused (GATT error %d); trying the next GATT layout",
				 k->l->port, e->handle, (int)e->error);
			k->l->ble_layout++;
			pick_layout(k);
			return;
		}
		if (k->st == EL_UP && k->wpending && e->handle == k->write_h) {
			/* a piece not taken: the rest of the request dropped (the poll's timeout retries) */
			k->wpending = false;
			ev_timer_stop(k->p->env->loop, &k->timer);
			k->l->txlen = k->l->txoff = 0;
		}
		if (k->st == EL_UP)
			gw_debug("link %s: GATT error %d on handle %u", k->l->port, (int)e->error, e->handle);
		else
			gw_link_closef(k->l, "GATT error %d on handle %u (proxy %s)", (int)e->error, e->handle,
				       k->p->cfg.name);
		return;
	}
	default:
		auth_answer(k, type, m);
	}
}

/* An advertisement of the link's device: its manufacturer data (AD type
 * 0xFF: company, little endian, then the data) of the driver's company,
 * as a BMS_ADV record. */
static void on_advert(struct gw_esp_link *k, const Esphome__BluetoothLERawAdvertisement *a)
{
	if (k->st == EL_FIND) {
		ev_timer_stop(k->p->env->loop, &k->timer);
		connect_device(k);
		return;
	}
	if (k->st != EL_ADV)
		return;
	uint16_t company = k->l->cfg->driver->ble->company;
	const uint8_t *d = a->data.data;
	size_t n = a->data.len;
	for (size_t i = 0; i + 1 < n && d[i]; i += (size_t)d[i] + 1) {
		size_t len = d[i];
		if (i + 1 + len > n)
			return;
		if (d[i + 1] != 0xFF || len < 3 || (uint16_t)(d[i + 2] | d[i + 3] << 8) != company)
			continue;
		uint8_t rec[BMS_ADV_HDR + 255];
		size_t m = len - 3;
		rec[0] = BMS_ADV_MAGIC0;
		rec[1] = BMS_ADV_MAGIC1;
		rec[2] = (uint8_t)(company & 0xff);
		rec[3] = (uint8_t)(company >> 8);
		rec[4] = (uint8_t)m;
		memcpy(rec + BMS_ADV_HDR, d + i + 4, m);
		gw_link_bytes(k->l, rec, BMS_ADV_HDR + m);
	}
}

static const struct esp_users link_users = { on_ready, on_fail, on_message, on_advert, kick };

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_esp_link *k = container_of(w, struct gw_esp_link, timer);
	if (k->st == EL_FIND && !k->p->adverts)
		/* ESPHome relays advertisements, and answers BLE requests, to one API
		 * connection: its first subscriber (bluetooth_proxy.cpp) */
		gw_link_closef(k->l,
			       "proxy %s relayed no advertisement within %.0f s: another client (Home Assistant?) "
			       "may hold its one subscription (a proxy serves one client's Bluetooth)", k->p->cfg.name,
			       FIND_TIMEOUT);
	else if (k->st == EL_FIND)
		gw_link_closef(k->l, "device %s not seen by proxy %s within %.0f s (out of its range, switched off, or "
			       "connected to another device such as a phone)", k->l->cfg->ble_addr, k->p->cfg.name,
			       FIND_TIMEOUT);
	else if (k->st == EL_CONNECTING || k->st == EL_SERVICES)
		gw_link_closef(k->l,
			       "no connection with its GATT services within %g s through proxy %s (connect_timeout)",
			       k->l->env->ble_connect_timeout, k->p->cfg.name);
	else if (k->st == EL_UP && k->wpending)
		gw_link_closef(k->l, "proxy %s did not answer the write of a request piece within %.0f s",
			       k->p->cfg.name, WRITE_TIMEOUT);
}

static void esp_open(struct gw_link *l)
{
	struct gw_esp_link *k = l->tr_data;
	if (!k) {
		struct gw_esp *p = esp_client_get(l->env, &l->cfg->proxy, &link_users);
		k = p ? calloc(1, sizeof(*k)) : NULL;
		if (!k) {
			gw_link_close(l, "out of memory");
			return;
		}
		k->l = l;
		k->adv = l->cfg->driver->ble->company != 0;
		k->addr = mac_u64(l->cfg->ble_addr);
		ev_init(&k->timer, timer_cb);
		esp_client_join(p, k);
		l->tr_data = k;
	}
	l->state = GW_LINK_CONNECTING;
	k->st = EL_WAIT;
	l->ble_layout = 0;
	k->notify_h = k->write_h = k->auth_h = k->notify2_h = 0;
	k->chans = false;
	k->nmore = k->sub = 0;
	k->nearly = 0;
	if (k->p->st == ES_READY)
		on_ready(k);
	else
		esp_client_want(k->p);
}

/* Release what the link holds at the proxy: its connection. */
static void esp_close(struct gw_link *l)
{
	struct gw_esp_link *k = l->tr_data;
	if (!k || k->st == EL_IDLE)
		return;
	enum esp_link_state was = k->st;
	k->st = EL_IDLE;
	k->parked = false;
	ev_timer_stop(k->p->env->loop, &k->timer);
	if (k->p->st == ES_READY && was >= EL_CONNECTING && was <= EL_UP) {
		Esphome__BluetoothDeviceRequest r = ESPHOME__BLUETOOTH_DEVICE_REQUEST__INIT;
		r.address = k->addr;
		r.request_type = ESP_DEV_DISCONNECT;
		(void)esp_client_send(k->p, ESP_DEVICE_REQ, &r.base);
	}
	kick(k->p); /* a slot or the one connection attempt may be free */
}

/* The poll is over: with a link waiting and no slot free, this one lends its. */
static void esp_idle(struct gw_link *l)
{
	struct gw_esp_link *k = l->tr_data;
	if (!k || k->st != EL_UP)
		return;
	k->idle = true;
	kick(k->p);
}

static void esp_release(struct gw_link *l)
{
	struct gw_esp_link *k = l->tr_data;
	if (!k)
		return;
	ev_timer_stop(k->p->env->loop, &k->timer);
	free(k->chars);
	esp_client_leave(k->p, k);
	free(k);
	l->tr_data = NULL;
}

/* One BluetoothGATTWriteRequest of p[0..n) to handle h; -1 when the
 * session failed (the link is closed). */
static int write_to(struct gw_esp_link *k, uint32_t h, bool cmd, const uint8_t *p, size_t n)
{
	Esphome__BluetoothGATTWriteRequest w = ESPHOME__BLUETOOTH_GATTWRITE_REQUEST__INIT;
	w.address = k->addr;
	w.handle = h;
	w.response = !cmd;
	w.data.data = (uint8_t *)p;
	w.data.len = n;
	return esp_client_send(k->p, ESP_WRITE_REQ, &w.base);
}

static int write_gatt(struct gw_esp_link *k, const uint8_t *p, size_t n)
{
	return write_to(k, k->write_h, k->write_cmd, p, n);
}

/* A request of a link of channels: its records, each its data written to
 * its channel (0: the write characteristic, k: the more characteristic k
 * - 1, one that is written); bytes that are no record, or a channel that
 * takes no write, are dropped (a driver's fault: logged). */
static void write_records(struct gw_esp_link *k)
{
	struct gw_link *l = k->l;
	const uint8_t *p = l->tx + l->txoff, *data;
	size_t len = l->txlen - l->txoff, used, n;
	uint8_t ch;
	while (len && k->st == EL_UP) {
		if (!bms_chr_next(p, len, &ch, &data, &n, &used)) {
			gw_debug("link %s: %zu bytes of a request that are no channel's record dropped", l->port,
				 used ? used : len);
			used = used ? used : len;
		} else if (ch == 0) {
			(void)write_to(k, k->write_h, k->write_cmd, data, n);
		} else if (ch <= k->nmore && !k->more_notify[ch - 1]) {
			(void)write_to(k, k->more_h[ch - 1], k->more_cmd[ch - 1], data, n);
		} else {
			gw_debug("link %s: a record for channel %u, which takes no write, dropped", l->port, ch);
		}
		p += used;
		len -= used;
	}
	l->txlen = l->txoff = 0;
}

/* A driver with ble->write_piece: the next piece of l->tx[txoff..txlen),
 * unless one is unanswered (its answer writes the next). */
static void next_piece(struct gw_esp_link *k)
{
	struct gw_link *l = k->l;
	if (k->wpending || k->st != EL_UP)
		return;
	if (l->txoff >= l->txlen) {
		l->txlen = l->txoff = 0;
		return;
	}
	size_t n = gw_link_ble_piece(l, k->write_cmd, k->mtu, l->txlen - l->txoff);
	if (write_gatt(k, l->tx + l->txoff, n) < 0)
		return;
	l->txoff += n;
	k->wpending = true;
	set_deadline(k, WRITE_TIMEOUT);
}

/* One request: GATT writes of the MTU less 3 (without response), or whole,
 * all sent at once; a driver with ble->write_piece: in its pieces, each
 * after the proxy answered the one before. */
static int esp_write(struct gw_link *l)
{
	struct gw_esp_link *k = l->tr_data;
	if (!k || k->st != EL_UP || !k->write_h) {
		l->txlen = l->txoff = 0;
		return 0;
	}
	if (l->cfg->driver->ble->write_piece) {
		next_piece(k);
		return k->st == EL_UP ? 0 : -1;
	}
	if (k->chans) {
		write_records(k);
		return k->st == EL_UP ? 0 : -1;
	}
	size_t off = l->txoff, end = l->txlen;
	while (off < end && k->st == EL_UP) {
		size_t n = gw_link_ble_piece(l, k->write_cmd, k->mtu, end - off);
		if (write_gatt(k, l->tx + off, n) < 0)
			break; /* the session failed: the link is closed */
		off += n;
	}
	l->txlen = l->txoff = 0;
	return k->st == EL_UP ? 0 : -1;
}

/* The name the device advertises, as the proxy relayed it. */
static const char *esp_peer_name(const struct gw_link *l)
{
	const struct gw_esp_link *k = l->tr_data;
	const struct esp_seen *s = k ? esp_client_seen(k->p, k->addr) : NULL;
	return s ? s->name : NULL;
}

/* Notifications come in the proxy's session, as its messages. */
const struct gw_transport gw_transport_esphome = {
	.name = "ble",
	.bms_link = BMS_LINK_BLE,
	.messages = true,
	.fds = 1, /* the poll timerfd; the proxy's socket is shared by its links */
	.silent_reopen = 3,
	.silent_why = "no notification from the BMS for 3 polls; reconnecting",
	.open = esp_open,
	.close = esp_close,
	.release = esp_release,
	.write = esp_write,
	.idle = esp_idle,
	.peer_name = esp_peer_name,
};
