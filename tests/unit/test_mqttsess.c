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
 * the attempt's time is up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <mqtt_protocol.h>
#include <netinet/in.h>
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

enum answer { ONLY_311, REFUSE_V5_WITH_REASON, ACCEPT_SILENT };

static struct fake {
	int lfd, cfd;
	ev_io lio, cio;
	enum answer answer;
	uint8_t rx[512];
	size_t rxlen;
	int levels[8];                 /* the protocol level of each CONNECT */
	int nconnects;
} fb;

static void fake_drop(void)
{
	if (fb.cfd >= 0) {
		ev_io_stop(loop, &fb.cio);
		close(fb.cfd);
		fb.cfd = -1;
	}
	fb.rxlen = 0;
}

static void fake_send(const void *p, size_t n)
{
	CHECK_EQ_INT(write(fb.cfd, p, n), n);
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
		fake_send("\x20\x03\x00\x00\x00", 5); /* CONNACK 0, MQTT 5, no properties; then nothing */
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
	size_t had = fb.rxlen;
	fb.rxlen += (size_t)n;
	/* the first packet is the CONNECT (remaining length < 128 here) */
	if (had < 2 + (size_t)fb.rx[1] && fb.rxlen >= 2 && fb.rxlen >= 2 + (size_t)fb.rx[1])
		fake_connect();
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

static const struct gw_mqs_owner owner = { .up = o_up, .down = o_down, .message = o_message };

static void broker_conf(struct conf_mqtt *c, int port)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->host, sizeof(c->host), "127.0.0.1");
	c->port = port;
	c->keepalive = 30;
	snprintf(c->client_id, sizeof(c->client_id), "t");
}

static void only_311(struct gw_resolver *r)
{
	int port = fake_start(ONLY_311);
	CHECK(port > 0);
	struct conf_mqtt c;
	broker_conf(&c, port);
	struct gw_mqs s;
	memset(&h, 0, sizeof(h));
	const struct gw_mqs_opts o = { .name = "t311", .client_id = "t311", .retry = true };
	CHECK_EQ_INT(gw_mqs_init(&s, loop, r, &c, &o, &owner, NULL), 0);
	CHECK_EQ_INT(s.protocol, MQTT_PROTOCOL_V5);
	gw_mqs_start(&s);
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
	int port = fake_start(REFUSE_V5_WITH_REASON);
	struct conf_mqtt c;
	broker_conf(&c, port);
	snprintf(c.username, sizeof(c.username), "u");
	snprintf(c.password, sizeof(c.password), "Secret-1");
	struct gw_mqs s;
	memset(&h, 0, sizeof(h));
	const struct gw_mqs_opts o = { .name = "tv5", .client_id = "tv5" };
	CHECK_EQ_INT(gw_mqs_init(&s, loop, r, &c, &o, &owner, NULL), 0);
	gw_mqs_start(&s);
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
	int port = fake_start(ACCEPT_SILENT);
	struct conf_mqtt c;
	broker_conf(&c, port);
	struct gw_mqs s;
	memset(&h, 0, sizeof(h));
	const struct gw_mqs_opts o = { .name = "tsub", .client_id = "tsub", .awaits = "SUBACK", .timeout = 1. };
	CHECK_EQ_INT(gw_mqs_init(&s, loop, r, &c, &o, &owner, NULL), 0);
	gw_mqs_start(&s);
	RUN_UNTIL(h.ups == 1);
	CHECK(!s.ready && ev_is_active(&s.again)); /* the deadline runs on */
	RUN_UNTIL(h.downs == 1);
	CHECK_STR(h.why, "no answer (SUBACK) within 1 s");
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
	gw_resolver_free(r);
	return check_report();
}
