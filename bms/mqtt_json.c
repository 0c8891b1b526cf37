/* SPDX-License-Identifier: MIT */
/* bms/mqtt_json.c - mqtt-json: a pack whose values arrive as one JSON
 * object a message on an MQTT topic (an ESPHome or YamBMS node, an
 * aiobmsble-based reader publishing to a broker), mapped by the pack's
 * `fields =` (bms/jsonmap.h; bms/PROTOCOLS.md "mqtt-json").
 *
 * Listen only: the MQTT transport (gateway/wire/mqttlink.c) subscribes to
 * the pack's topic and hands every message to the framer as one record
 * (BMS_MSG_MAGIC0 ...); nothing is ever published.  A poll waits for the
 * next message; a message that is no JSON object, lacks a required field
 * or carries a value out of its range fails the poll whole (the gateway
 * counts it as a bad message), so the pack's cache is only ever replaced
 * by a whole valid message.  The BMS settings a map names (setting_<key>)
 * and the message a poll takes carries (held in struct bms_poll.set_read)
 * replace those kept once finish() takes the message (struct
 * bms_kept.settings, shown read only); one the message lacks keeps its
 * last value.
 */
#include <string.h>

#include "bms.h"
#include "jsonmap.h"

/* One record: the header, then its length of payload. */
static enum bms_scan mj_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	enum bms_scan r;
	if (!bms_scan_start(buf, len, BMS_MSG_MAGIC0, &r, n))
		return r;
	if (len < BMS_MSG_HDR)
		return BMS_SCAN_NEED;
	size_t body = (size_t)buf[3] | (size_t)buf[4] << 8;
	if (buf[1] != BMS_MSG_MAGIC1 || (buf[2] & ~BMS_MSG_TOO_LONG) || body > BMS_JSON_MSG_MAX) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (len < BMS_MSG_HDR + body)
		return BMS_SCAN_NEED;
	*n = BMS_MSG_HDR + body;
	return BMS_SCAN_FRAME;
}

static int mj_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len < BMS_MSG_HDR || (frame[2] & BMS_MSG_TOO_LONG))
		return BMS_E_SHORT; /* longer than BMS_JSON_MSG_MAX: not taken */
	if (!poll->jsonmap)
		return BMS_E_INVALID;
	char why[120];
	int rc = bms_jsonmap_apply(poll->jsonmap, (const char *)frame + BMS_MSG_HDR, len - BMS_MSG_HDR, &poll->snap,
				   &poll->set_read, why, sizeof(why));
	if (poll->invert_current && rc == BMS_OK)
		poll->snap.current = -poll->snap.current;
	return rc;
}

static int mj_finish(struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	if (!(s->present & BMS_HAS_VOLTAGE) || s->voltage <= 0)
		return BMS_E_INVALID;
	for (int k = 0; k < BMS_SET_COUNT; k++) /* the message taken: its settings, key by key */
		if (bms_settings_has(&poll->set_read, (enum bms_set_key)k))
			bms_settings_put(&poll->kept.settings, (enum bms_set_key)k, poll->set_read.v[k]);
	return BMS_OK;
}

const struct bms_driver bms_mqtt_json_driver = {
	.name = "mqtt-json",
	.description = "a pack whose values arrive as JSON on an MQTT topic (ESPHome, YamBMS, aiobmsble nodes), "
		       "mapped by `fields =`",
	.vendor = "MQTT JSON",
	.protocol_id = 49,
	.max_cells = BMS_MAX_CELLS, /* a map's cells_mv may be a high-voltage pack's */
	/* what a map may give */
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
		    BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP |
		    BMS_HAS_MOSFETS | BMS_HAS_BALANCING | BMS_HAS_ALARMS | BMS_HAS_CUR_LIMITS,
	.default_baud = 9600, /* no line: the broker's TCP connection */
	.gap_floor = 0,
	.interbyte = 0, /* a message is handed over whole */
	.min_address = 0,
	.max_address = 0,
	/* a node publishes every few seconds to a minute: a poll waits for the next message */
	.default_timeout = 60.0,
	.listen_only = true,
	.messages = true,
	.next_request = NULL,
	.scan = mj_scan,
	.handle = mj_handle,
	.finish = mj_finish,
};
