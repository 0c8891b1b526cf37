/* SPDX-License-Identifier: MIT */
/* tests/unit/test_mqttsess.c - the MQTT session core (gateway/core/mqttsess.c)
 * that the MQTT output and the mqtt-json packs' subscriptions hold.
 *
 * What a refused CONNECT says (gw_mqs_refusal, pure): an MQTT 5 reason
 * code's text and the reason string the broker sent (its bytes outside
 * printable ASCII shown as '?', at most 100), a 3.1.1 return code's text,
 * the hint for a login refused either way.  Then the session on a real
 * libmosquitto client against a broker played here on a loopback socket,
 * in the test's own loop: a broker that speaks 3.1.1 only (its CONNACK 1
 * to an MQTT 5 CONNECT) is asked again at once with 3.1.1, which the
 * session keeps, and the owner hears up, never down; an MQTT 5 refusal
 * with a reason string reaches the owner (and so the log) with that
 * reason; an owner that awaits a SUBACK which never comes hears why, once
 * the attempt's time is up; a QoS 1 message published into a connection
 * that the broker has just reset is held (gw_mqs_publish says so), and
 * libmosquitto sends it again, the same mid, after the reconnection: the
 * MQTT output's backfill counts it in flight rather than sending it twice.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <mqtt_protocol.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../gateway/core/log.h"
#include "../../gateway/core/mqttsess.h"
#include "../../gateway/core/resolve.h"
#include "check.h"

#define WAIT_S 15.0
static struct ev_loop *loop;
#include "loop_check.h"

static void refusal_texts(void)
{
	char b[400];
	gw_mqs_refusal(MQTT_PROTOCOL_V5, MQTT_RC_NOT_AUTHORIZED, NULL, b, sizeof(b));
	CHECK_STR(b, "the broker refused the connection: Not authorized (check [mqtt] username and password_file)");
	gw_mqs_refusal(MQTT_PROTOCOL_V5, MQTT_RC_BAD_USERNAME_OR_PASSWORD, "", b, sizeof(b));
	CHECK(strstr(b, "refused the connection: Bad User Name or Password (check [mqtt]") != NULL);
	gw_mqs_refusal(MQTT_PROTOCOL_V5, MQTT_RC_BANNED, "too many tries\n\x1b[31m", b, sizeof(b));
	CHECK_STR(b, "the broker refused the connection: Banned (\"too many tries??[31m\")");
	gw_mqs_refusal(MQTT_PROTOCOL_V5, MQTT_RC_NOT_AUTHORIZED, "acl says no", b, sizeof(b));
	CHECK_STR(b, "the broker refused the connection: Not authorized (\"acl says no\") "
		     "(check [mqtt] username and password_file)");
	char longer[300];
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	gw_mqs_refusal(MQTT_PROTOCOL_V5, MQTT_RC_SERVER_BUSY, longer, b, sizeof(b));
	const char *q = strchr(b, '"');
	CHECK(q && strlen(q) == 100 + 3); /* "x...x") */
	/* 3.1.1: its return codes' texts; a reason string does not exist there */
	gw_mqs_refusal(MQTT_PROTOCOL_V311, CONNACK_REFUSED_NOT_AUTHORIZED, "ignored", b, sizeof(b));
	CHECK_STR(b, "the broker refused the connection: Connection Refused: not authorised. "
		     "(check [mqtt] username and password_file)");
	gw_mqs_refusal(MQTT_PROTOCOL_V311, CONNACK_REFUSED_IDENTIFIER_REJECTED, NULL, b, sizeof(b));
	CHECK_STR(b, "the broker refused the connection: Connection Refused: identifier rejected.");
	/* MQTT 5's 0x87 is no 3.1.1 code: no hint, and the other way round */
	gw_mqs_refusal(MQTT_PROTOCOL_V311, MQTT_RC_NOT_AUTHORIZED, NULL, b, sizeof(b));
	CHECK(strstr(b, "check") == NULL);
	gw_mqs_refusal(MQTT_PROTOCOL_V5, CONNACK_REFUSED_NOT_AUTHORIZED, NULL, b, sizeof(b));
	CHECK(strstr(b, "check") == NULL);
}

/* ---- a broker played here: one connection at a time, its answer to
 * CONNECT chosen by the test ---- */

enum answer { ONLY_311, REFUSE_V5_WITH_REASON, ACCEPT_SILENT, ACCEPT_PUBACK };

static struct fake {
	int lfd, cfd;
	ev_io lio, cio;
	enum answer answer;
	uint8_t rx[512];
	size_t rxlen;
	int levels[8];                 /* the protocol level of each CONNECT */
	int nconnects;
	bool seen;                     /* this connection's CONNECT came */
	struct {                       /* ACCEPT_PUBACK: the PUBLISHes heard */
		int connection;        /* the CONNECT it followed (1, 2, ...) */
		int mid;
		bool dup;
		char topic[32];
	} pubs[8];
	int npubs;
} fb;

static void fake_drop(void)
{
	if (fb.cfd >= 0) {
		ev_io_stop(loop, &fb.cio);
		close(fb.cfd);
		fb.cfd = -1;
	}
	fb.rxlen = 0;
	fb.seen = false;
}

static void fake_send(const void *p, size_t n)
{
	CHECK_EQ_INT(write(fb.cfd, p, n), n);
}

/* The broker's end resets the connection (RST, not FIN). */
static void fake_reset(void)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	CHECK_EQ_INT(setsockopt(fb.cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	fake_drop();
}

/* A whole CONNECT in fb.rx: answer it. */
static void fake_connect(void)
{
	size_t at = 2 + 2 + 4; /* fixed header (short), "\0\4MQTT" */
	int level = fb.rxlen > at ? fb.rx[at] : -1;
	if (fb.nconnects < 8)
		fb.levels[fb.nconnects] = level;
	fb.nconnects++;
	if (fb.answer == ONLY_311 && level != 4) {
		fake_send("\x20\x02\x00\x01", 4); /* CONNACK, 3.1.1: unacceptable protocol version */
		fake_drop();
	} else if (fb.answer == ONLY_311) {
		fake_send("\x20\x02\x00\x00", 4);
	} else if (fb.answer == REFUSE_V5_WITH_REASON) {
		/* CONNACK, MQTT 5: flags, 0x87, properties (12 bytes): the reason
		 * string "no way \u00e9" (valid UTF-8, as libmosquitto checks) */
		static const uint8_t ack[] = { 0x20, 15, 0x00, 0x87, 12, 0x1f, 0x00, 9, 'n', 'o', ' ', 'w', 'a', 'y', ' ',
					       0xc3, 0xa9 };
		fake_send(ack, sizeof(ack));
		fake_drop();
	} else {
		fake_send("\x20\x03\x00\x00\x00", 5); /* CONNACK 0, MQTT 5, no properties */
	}
}

/* A whole PUBLISH of remaining length n at p (after its fixed header):
 * heard, and at QoS 1 acknowledged (MQTT 5 PUBACK, success). */
static void fake_publish(uint8_t flags, const uint8_t *p, size_t n)
{
	int qos = (flags >> 1) & 3;
	size_t tl = n >= 2 ? (size_t)p[0] << 8 | p[1] : 0;
	if (qos != 1 || n < 2 + tl + 2 || fb.npubs >= 8)
		return;
	int mid = p[2 + tl] << 8 | p[3 + tl];
	fb.pubs[fb.npubs].connection = fb.nconnects;
	fb.pubs[fb.npubs].mid = mid;
	fb.pubs[fb.npubs].dup = flags & 8;
	snprintf(fb.pubs[fb.npubs].topic, sizeof(fb.pubs[0].topic), "%.*s", (int)tl, (const char *)p + 2);
	fb.npubs++;
	const uint8_t ack[] = { 0x40, 2, (uint8_t)(mid >> 8), (uint8_t)mid };
	fake_send(ack, sizeof(ack));
}

/* The packets whole in fb.rx: the first of a connection is its CONNECT;
 * with ACCEPT_PUBACK the PUBLISHes after it are heard. */
static void fake_packets(void)
{
	while (fb.cfd >= 0 && fb.rxlen >= 2) {
		size_t len = 0, at = 1;
		for (int shift = 0; at < fb.rxlen && at <= 4; shift += 7) {
			len |= (size_t)(fb.rx[at] & 0x7f) << shift;
			if (!(fb.rx[at++] & 0x80))
				break;
		}
		if (at > fb.rxlen || (fb.rx[at - 1] & 0x80) || fb.rxlen < at + len)
			return; /* not whole yet */
		if (!fb.seen) {
			fb.seen = true;
			fake_connect();
		} else if (fb.answer == ACCEPT_PUBACK && (fb.rx[0] >> 4) == 3)
			fake_publish(fb.rx[0] & 0x0f, fb.rx + at, len);
		if (fb.cfd < 0)
			return;
		memmove(fb.rx, fb.rx + at + len, fb.rxlen - at - len);
		fb.rxlen -= at + len;
	}
}

static void fake_read(struct ev_loop *l, ev_io *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	ssize_t n = read(fb.cfd, fb.rx + fb.rxlen, sizeof(fb.rx) - fb.rxlen);
	if (n <= 0) {
		fake_drop();
		return;
	}
	fb.rxlen += (size_t)n;
	fake_packets();
}

static void fake_accept(struct ev_loop *l, ev_io *w, int revents)
{
	(void)w;
	(void)revents;
	int fd = accept(fb.lfd, NULL, NULL);
	if (fd < 0)
		return;
	fake_drop();
	fb.cfd = fd;
	ev_io_init(&fb.cio, fake_read, fd, EV_READ);
	ev_io_start(l, &fb.cio);
}

static int fake_start(enum answer a)
{
	memset(&fb, 0, sizeof(fb));
	fb.cfd = -1;
	fb.answer = a;
	fb.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	if (bind(fb.lfd, (struct sockaddr *)&sa, sl) < 0 || listen(fb.lfd, 4) < 0 ||
	    getsockname(fb.lfd, (struct sockaddr *)&sa, &sl) < 0)
		return -1;
	ev_io_init(&fb.lio, fake_accept, fb.lfd, EV_READ);
	ev_io_start(loop, &fb.lio);
	return ntohs(sa.sin_port);
}

static void fake_stop(void)
{
	fake_drop();
	ev_io_stop(loop, &fb.lio);
	close(fb.lfd);
}

/* ---- the owner ---- */

static struct heard {
	int ups, downs;
	int acked[4], nacked;          /* the mids acknowledged */
	char why[400];
} h;

static void o_up(void *arg)
{
	(void)arg;
	h.ups++;
}

static void o_down(void *arg, const char *why)
{
	(void)arg;
	h.downs++;
	snprintf(h.why, sizeof(h.why), "%s", why);
}

static void o_message(void *arg, const struct mosquitto_message *msg)
{
	(void)arg;
	(void)msg;
}

static void o_published(void *arg, int mid)
{
	(void)arg;
	if (h.nacked < 4)
		h.acked[h.nacked] = mid;
	h.nacked++;
}

static const struct gw_mqs_owner owner = { .up = o_up, .down = o_down, .message = o_message,
					   .published = o_published };

/* The broker played here answering `a`, and session s on it with opts o
 * (with login: user "u", password "Secret-1"), the owner's record cleared,
 * started (the loop not run yet: MQTT 5 still). */
static void session_start(struct gw_mqs *s, struct gw_resolver *r, enum answer a, const struct gw_mqs_opts *o,
			  bool login)
{
	int port = fake_start(a);
	CHECK(port > 0);
	struct conf_mqtt c;
	memset(&c, 0, sizeof(c));
	snprintf(c.host, sizeof(c.host), "127.0.0.1");
	c.port = port;
	c.keepalive = 30;
	snprintf(c.client_id, sizeof(c.client_id), "t");
	if (login) {
		snprintf(c.username, sizeof(c.username), "u");
		snprintf(c.password, sizeof(c.password), "Secret-1");
	}
	memset(&h, 0, sizeof(h));
	CHECK_EQ_INT(gw_mqs_init(s, loop, r, &c, o, &owner, NULL), 0);
	CHECK_EQ_INT(s->protocol, MQTT_PROTOCOL_V5);
	gw_mqs_start(s);
}

static void only_311(struct gw_resolver *r)
{
	struct gw_mqs s;
	const struct gw_mqs_opts o = { .name = "t311", .client_id = "t311", .retry = true };
	session_start(&s, r, ONLY_311, &o, false);
	RUN_UNTIL(h.ups == 1);
	CHECK_EQ_INT(fb.nconnects, 2);
	CHECK_EQ_INT(fb.levels[0], 5);
	CHECK_EQ_INT(fb.levels[1], 4);
	CHECK_EQ_INT(s.protocol, MQTT_PROTOCOL_V311);
	CHECK_EQ_INT(s.state, GW_MQS_UP);
	CHECK_EQ_INT(h.downs, 0);          /* asked again at once: no outage */
	CHECK_EQ_INT(s.rt.outage_logged, 0);
	CHECK_EQ_INT(s.connects, 1);
	/* the broker drops it: down, then again with 3.1.1 only */
	fake_drop();
	RUN_UNTIL(h.downs == 1 && h.ups == 2);
	CHECK(strstr(h.why, "connection lost") != NULL);
	CHECK_EQ_INT(fb.nconnects, 3);
	CHECK_EQ_INT(fb.levels[2], 4);
	CHECK_EQ_INT(s.reconnects, 1);
	gw_mqs_stop(&s);
	gw_mqs_disconnect(&s, false);
	gw_mqs_free(&s);
	fake_stop();
}

static void v5_reason(struct gw_resolver *r)
{
	struct gw_mqs s;
	const struct gw_mqs_opts o = { .name = "tv5", .client_id = "tv5" };
	session_start(&s, r, REFUSE_V5_WITH_REASON, &o, true);
	RUN_UNTIL(h.downs == 1);
	CHECK_STR(h.why, "the broker refused the connection: Not authorized (\"no way ??\") "
			 "(check [mqtt] username and password_file)");
	CHECK_STR(s.last_error, h.why);
	CHECK_EQ_INT(s.protocol, MQTT_PROTOCOL_V5); /* a refusal for another reason keeps MQTT 5 */
	CHECK_EQ_INT(s.state, GW_MQS_DOWN);
	/* without retry nothing more happens until the owner starts it again */
	CHECK(!ev_is_active(&s.again));
	gw_mqs_start(&s);
	RUN_UNTIL(h.downs == 2);
	CHECK_EQ_INT(fb.nconnects, 2);
	gw_mqs_free(&s);
	CHECK_EQ_INT(s.cfg.password[0], 0); /* zeroed at free */
	fake_stop();
}

static void awaits_suback(struct gw_resolver *r)
{
	struct gw_mqs s;
	const struct gw_mqs_opts o = { .name = "tsub", .client_id = "tsub", .awaits = "SUBACK", .timeout = 1. };
	session_start(&s, r, ACCEPT_SILENT, &o, false);
	RUN_UNTIL(h.ups == 1);
	CHECK(!s.ready && ev_is_active(&s.again)); /* the deadline runs on */
	RUN_UNTIL(h.downs == 1);
	CHECK_STR(h.why, "no answer (SUBACK) within 1 s");
	gw_mqs_free(&s);
	fake_stop();
}

/* Until the client's socket has the broker's reset (the loop not run:
 * libmosquitto has not seen it). */
static bool reset_arrived(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, (int)(WAIT_S * 1000)) == 1 && (p.revents & (POLLERR | POLLHUP | POLLIN));
}

static void held_publish(struct gw_resolver *r)
{
	struct gw_mqs s;
	const struct gw_mqs_opts o = { .name = "theld", .client_id = "theld", .retry = true };
	session_start(&s, r, ACCEPT_PUBACK, &o, false);
	RUN_UNTIL(h.ups == 1);
	/* taken and written while the connection holds: acknowledged */
	int mid = 0, rc = -1;
	CHECK(gw_mqs_publish(&s, &mid, "t/live", "1", 1, 1, false, &rc));
	CHECK_EQ_INT(rc, MOSQ_ERR_SUCCESS);
	RUN_UNTIL(h.nacked == 1);
	CHECK_EQ_INT(h.acked[0], mid);
	/* the broker resets the connection; before the session hears of it a
	 * QoS 1 message meets the dead socket: held, its mid given */
	fake_reset();
	CHECK(reset_arrived(mosquitto_socket(s.mosq)));
	int held = 0;
	CHECK(gw_mqs_publish(&s, &held, "t/history", "{\"time\":1}", 10, 1, false, &rc));
	CHECK(rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_ERRNO || rc == MOSQ_ERR_NO_CONN);
	CHECK(held != 0 && held != mid);
	/* QoS 0 is not held: libmosquitto drops it with the connection */
	CHECK(!gw_mqs_publish(&s, NULL, "t/live", "2", 1, 0, false, &rc));
	CHECK(rc != MOSQ_ERR_SUCCESS);
	/* a topic libmosquitto refuses is never taken, whatever the QoS */
	CHECK(!gw_mqs_publish(&s, NULL, "t/#", "3", 1, 1, false, &rc));
	CHECK_EQ_INT(rc, MOSQ_ERR_INVAL);
	/* the session reconnects; libmosquitto sends the held message again, the
	 * same mid, marked a duplicate, once, and its PUBACK reaches the owner */
	RUN_UNTIL(h.downs == 1 && h.ups == 2 && h.nacked == 2);
	CHECK_EQ_INT(h.acked[1], held);
	CHECK_EQ_INT(fb.npubs, 2);
	CHECK_EQ_INT(fb.pubs[1].connection, 2);
	CHECK_EQ_INT(fb.pubs[1].mid, held);
	CHECK(fb.pubs[1].dup);
	CHECK_STR(fb.pubs[1].topic, "t/history");
	CHECK_EQ_INT(fb.pubs[0].connection, 1);
	CHECK(!fb.pubs[0].dup);
	gw_mqs_stop(&s);
	gw_mqs_disconnect(&s, false);
	gw_mqs_free(&s);
	fake_stop();
}

int main(void)
{
	refusal_texts();
	loop = ev_default_loop(0);
	loop_check_init();
	struct gw_resolver *r = gw_resolver_new(loop);
	CHECK(r != NULL);
	only_311(r);
	v5_reason(r);
	awaits_suback(r);
	held_publish(r);
	gw_resolver_free(r);
	return check_report();
}
