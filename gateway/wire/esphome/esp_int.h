/* SPDX-License-Identifier: MIT */
/* gateway/wire/esphome/esp_int.h - what the files of the ESPHome Bluetooth
 * proxy transport share.  Not for use outside gateway/wire/esphome/.
 *
 *	espcodec.c, espframe.c, espnoise.c  the API's bytes <-> messages
 *	             (plaintext or Noise), pure (espcodec.h)
 *	espclient.c  one API connection to a proxy ([ble_proxy.NAME]): the
 *	             name resolved without blocking, the TCP connection, the
 *	             handshake and session as a state machine, keepalive,
 *	             reconnect with backoff, the advertisements it relays
 *	esplink.c    one ble:// link through a proxy, the transport
 *	             gw_transport_esphome: connect, GATT services, the unlock,
 *	             notify, writes, advertisements for a listen-only driver
 *
 * esplink.c calls into espclient.c; the client tells the links what
 * happens only through struct esp_users (as ble_int.h's ble_users), so
 * the calls run one way.
 *
 * The protocol (ESPHome's native API: aioesphomeapi's api.proto and its
 * connection, https://github.com/esphome/aioesphomeapi/blob/main/aioesphomeapi/; ESPHome's
 * components api and bluetooth_proxy): the client
 * sends Hello, then (an api: password, before ESPHome 2026.1) the
 * password, then DeviceInfo; the proxy relays BLE for it: one
 * BluetoothDeviceRequest connects a device by its 48-bit address, GATT
 * characteristics are named by handle, notifications come back as
 * BluetoothGATTNotifyDataResponse with the device's address.
 */
#ifndef GATEWAY_WIRE_ESPHOME_ESP_INT_H
#define GATEWAY_WIRE_ESPHOME_ESP_INT_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../core/retry.h"
#include "../ble/ble.h"
#include "../wire_int.h"
#include "esphome_api.pb-c.h"

/* Message ids (esphome_api.proto's comments). */
enum {
	ESP_HELLO_REQ = 1, ESP_HELLO_RESP = 2, ESP_AUTH_REQ = 3, ESP_AUTH_RESP = 4, ESP_DISCONNECT_REQ = 5,
	ESP_DISCONNECT_RESP = 6, ESP_PING_REQ = 7, ESP_PING_RESP = 8, ESP_INFO_REQ = 9, ESP_INFO_RESP = 10,
	ESP_ADV_SUB = 66, ESP_DEVICE_REQ = 68, ESP_CONN_RESP = 69, ESP_SERVICES_REQ = 70, ESP_SERVICES_RESP = 71,
	ESP_SERVICES_DONE = 72, ESP_READ_REQ = 73, ESP_READ_RESP = 74, ESP_WRITE_REQ = 75, ESP_NOTIFY_REQ = 78,
	ESP_WRITE_DESC_REQ = 77, ESP_NOTIFY_DATA = 79, ESP_FREE_SUB = 80, ESP_FREE_RESP = 81, ESP_GATT_ERROR = 82, ESP_WRITE_RESP = 83,
	ESP_NOTIFY_RESP = 84, ESP_RAW_ADV = 93,
};

/* DeviceInfoResponse.bluetooth_proxy_feature_flags (aioesphomeapi's
 * BluetoothProxyFeature, https://github.com/esphome/aioesphomeapi/blob/main/aioesphomeapi/model.py) */
#define ESP_FEAT_ACTIVE 0x02u       /* active connections */
#define ESP_FEAT_CACHE 0x04u        /* remote caching: connect with the GATT cache */
#define ESP_FEAT_RAW_ADV 0x20u      /* raw advertisements (id 93) */

/* BluetoothDeviceRequest.request_type */
#define ESP_DEV_DISCONNECT 1u
#define ESP_DEV_CONNECT_CACHE 4u
#define ESP_DEV_CONNECT_NOCACHE 5u

enum esp_state {
	ES_DOWN,        /* no connection; a link's open starts one (after the backoff) */
	ES_RESOLVING,   /* the host name lookup */
	ES_CONNECTING,  /* TCP connect in progress */
	ES_HANDSHAKE,   /* Noise: the handshake */
	ES_SESSION,     /* Hello, the password, DeviceInfo sent: waiting for DeviceInfo */
	ES_READY,       /* the proxy relays */
};

/* A device the proxy's advertisements showed. */
#define ESP_SEEN_MAX 64
struct esp_seen {
	uint64_t addr;
	uint32_t addr_type;
	int rssi;
	char name[64];
	double at;                     /* monotonic time last seen */
	int nuuids;                    /* service UUIDs advertised (lower case, full form) */
	char uuids[GW_BLE_MAX_UUIDS][37];
	int nmfr;                      /* manufacturer data's companies */
	uint16_t companies[GW_BLE_MAX_MFR];
	int nsdata;                    /* service data's UUIDs (lower case, full form) */
	char sdata[GW_BLE_MAX_SDATA][37];
};

struct gw_esp_link;

/* What the client tells the links (esplink.c fills it). */
struct esp_users {
	void (*ready)(struct gw_esp_link *k);                      /* the session is up */
	void (*fail)(struct gw_esp_link *k, const char *why);      /* the session failed */
	void (*message)(struct gw_esp_link *k, unsigned type, const ProtobufCMessage *msg); /* for its address */
	void (*advert)(struct gw_esp_link *k, const Esphome__BluetoothLERawAdvertisement *a);
	void (*slots)(struct gw_esp *p);                           /* the free slots changed */
};

/* One API connection to a proxy, shared by the links through it. */
struct gw_esp {
	struct gw_esp *next;
	struct gw_link_env *env;
	const struct esp_users *users;
	struct conf_ble_proxy cfg;     /* its keys (the key and password are secrets) */
	enum esp_state st;
	int fd;
	ev_io io;
	ev_timer timer;                /* connect/session deadline, or the backoff */
	ev_timer keepalive;            /* a ping while ready; silence ends the session */
	struct gw_lookup *lookup;
	struct esp_codec *codec;
	bool feeding;                  /* inside esp_codec_feed(): the codec is freed after it returns */
	struct esp_codec *dead_codec;  /* ... this one, the session having failed in its callback */
	uint8_t *tx;                   /* bytes not yet written */
	size_t txlen, txcap;
	struct gw_retry rt;
	bool backoff;                  /* timer runs the backoff */
	double last_rx;
	struct gw_esp_link *links;
	/* what /api/state shows */
	char why[200];                 /* why the session last failed ("" = never) */
	unsigned api_major, api_minor;
	char name[64], version[40];
	unsigned features;
	int free_slots, limit;         /* -1 = not reported yet */
	uint64_t alloc[8];             /* the addresses it said hold its slots */
	int nalloc;
	unsigned long queue_seq;       /* the order of the links waiting for a slot */
	double round_s;                /* packs taking turns: the last time between two turns of one, s (0: no turns) */
	unsigned long sessions, adverts, handshake_failures;
	struct esp_seen seen[ESP_SEEN_MAX];
	int nseen;
};

enum esp_link_state {
	EL_IDLE,        /* closed */
	EL_WAIT,        /* the session is not up */
	EL_FIND,        /* waiting for the device's advertisement (its address type) */
	EL_QUEUED,      /* waiting for a connection slot (its turn) */
	EL_CONNECTING,  /* BluetoothDeviceRequest connect sent */
	EL_SERVICES,    /* GATT services coming */
	EL_AUTH_WRITE,  /* the layout's unlock written */
	EL_AUTH_READ,   /* ... and read back */
	EL_NOTIFYM,     /* notify enable sent on a more notifier (struct bms_gatt.more) */
	EL_NOTIFY,      /* notify enable sent (then the CCCD written) */
	EL_NOTIFY2,     /* ... the same for the layout's second notifier */
	EL_AUTH_LATE,   /* an unlock written after the notifications (struct bms_ble_auth.after_notify) */
	EL_UP,          /* notifications flow */
	EL_ADV,         /* advertisements flow (no connection) */
	EL_RELEASING,   /* its slot lent to a link waiting: disconnecting */
};

/* One characteristic of the connected device. */
struct esp_char {
	char svc[37], uuid[37];        /* lower case, full 128-bit form */
	uint32_t handle, props;
	uint32_t cccd;                 /* its Client Characteristic Configuration descriptor (0x2902), 0 = none */
};

struct gw_esp_link {
	struct gw_esp_link *next;      /* in its client's list */
	struct gw_esp *p;
	struct gw_link *l;
	enum esp_link_state st;
	bool adv;                      /* a driver read from advertisements */
	uint64_t addr;
	uint32_t notify_h, write_h, auth_h, cccd_h;
	bool indicate;                 /* the notifier only indicates */
	uint32_t notify2_h, cccd2_h;   /* the layout's second notifier (struct bms_gatt.notify2), 0 = none */
	bool indicate2;
	bool write_cmd;
	/* a layout of channels (struct bms_gatt.more): its more characteristics
	 * (channel k + 1 is more_h[k]), their CCCDs, which notify (or only
	 * indicate), which take a write without response; the next to
	 * subscribe; the set-up's notifications, the link's first bytes */
	bool chans;
	int nmore, sub;
	uint32_t more_h[BMS_GATT_MORE_MAX], more_cccd[BMS_GATT_MORE_MAX];
	bool more_notify[BMS_GATT_MORE_MAX], more_ind[BMS_GATT_MORE_MAX], more_cmd[BMS_GATT_MORE_MAX];
	uint8_t early[512];
	size_t nearly;
	bool wpending;                 /* a request piece written, its answer awaited (ble->write_piece) */
	unsigned mtu;
	struct esp_char *chars;
	int nchars, capchars;
	ev_timer timer;                /* find / connect deadline */
	unsigned long queued;          /* its place in the queue for a slot */
	bool idle;                     /* up, its poll over: its slot may go to a link waiting */
	bool parked;                   /* its wire waits for its turn (gw_link_park) */
	double turn_at;                /* monotonic start of its last turn (0: none yet) */
};

/* ------------------------------------------------------------ espclient.c */

/* The client for the proxy cfg (same keys), made and connecting when
 * none is there; NULL when out of memory. */
struct gw_esp *esp_client_get(struct gw_link_env *env, const struct conf_ble_proxy *cfg,
			      const struct esp_users *users);
/* The link joins the client's list; a client left without links is freed
 * by esp_client_leave(). */
void esp_client_join(struct gw_esp *p, struct gw_esp_link *k);
void esp_client_leave(struct gw_esp *p, struct gw_esp_link *k);
/* Start the session unless it is up, starting or waiting out its backoff. */
void esp_client_want(struct gw_esp *p);
/* Send one message (session up); -1 after failing the session. */
int esp_client_send(struct gw_esp *p, unsigned type, const ProtobufCMessage *msg);
/* The device at addr as advertisements showed it, or NULL. */
const struct esp_seen *esp_client_seen(const struct gw_esp *p, uint64_t addr);

#endif
