/* gateway/server.c - Modbus TCP server on libev.
 *
 * bmsgw frames MBAP itself from non-blocking reads into a per-client buffer
 * (never modbus_receive(), which waits for a whole frame and lets one slow
 * client stall every other), screens each request (unit id, function,
 * quantity, address, freshness) and answers bad ones at once with
 * modbus_reply_exception().  Only well-formed FC3 reads reach modbus_reply(),
 * with the unit's current image copied into the mapping first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <modbus.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw.h"
#include "log.h"
#include "server.h"

#define MBAP_LEN 7
#define ADU_MAX 260 /* MODBUS_TCP_MAX_ADU_LENGTH */

struct gw_client {
	struct gw_server *srv;
	struct gw_client *next, *prev;
	int fd;
	ev_io io;
	ev_timer idle;
	char peer[64];
	size_t len;
	uint8_t buf[ADU_MAX * 2];
};

struct gw_server {
	struct gw *gw;
	int fd;
	ev_io io;
	modbus_t *mb;             /* reply builder only: never connects or receives */
	modbus_mapping_t *map;    /* REG_MAP_SIZE holding registers at `base` */
	struct gw_client *clients;
	int nclients;
	unsigned long refused;
};

int gw_mbap_frame(const uint8_t *buf, size_t len)
{
	if (len < MBAP_LEN)
		return 0;
	unsigned proto = (unsigned)(buf[2] << 8 | buf[3]);
	unsigned n = (unsigned)(buf[4] << 8 | buf[5]); /* unit id + PDU */
	if (proto != 0 || n < 2 || n + 6 > ADU_MAX)
		return -1;
	if (len < n + 6)
		return 0;
	return (int)(n + 6);
}

void gw_screen_request(struct gw *gw, const uint8_t *adu, size_t len, struct gw_screen *out)
{
	memset(out, 0, sizeof(*out));
	out->unit = adu[6];
	out->function = adu[7];
	struct gw_unit *u = &out->target;
	if (!gw_unit_lookup(gw, out->unit, u)) {
		out->exception = MODBUS_EXCEPTION_GATEWAY_PATH;
		return;
	}
	if (out->function != MODBUS_FC_READ_HOLDING_REGISTERS) {
		out->exception = MODBUS_EXCEPTION_ILLEGAL_FUNCTION;
		return;
	}
	if (len != MBAP_LEN + 5) {
		/* FC3 PDU is exactly function + address + quantity */
		out->exception = MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
		return;
	}
	out->addr = (unsigned)(adu[8] << 8 | adu[9]);
	out->count = (unsigned)(adu[10] << 8 | adu[11]);
	if (out->count < 1 || out->count > MODBUS_MAX_READ_REGISTERS) {
		out->exception = MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
		return;
	}
	unsigned base = (unsigned)gw->conf->gw.base;
	if (out->addr < base || out->addr + out->count > base + REG_MAP_SIZE) {
		out->exception = MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS;
		return;
	}
	if (gw->conf->gw.stale_policy == CONF_STALE_EXCEPTION && !gw_unit_online(gw, u) &&
	    reg_range_has_data(out->addr - base, out->count)) {
		out->exception = MODBUS_EXCEPTION_GATEWAY_TARGET;
		return;
	}
}

static void client_free(struct gw_client *c)
{
	struct gw_server *srv = c->srv;
	struct ev_loop *loop = srv->gw->loop;
	ev_io_stop(loop, &c->io);
	ev_timer_stop(loop, &c->idle);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->nclients--;
	free(c);
}

static void client_close(struct gw_client *c, const char *why)
{
	gw_debug("client %s: %s", c->peer, why);
	client_free(c);
}

/* Answer one complete ADU.  Returns -1 if the client must be dropped. */
static int client_answer(struct gw_client *c, const uint8_t *adu, size_t len)
{
	struct gw_server *srv = c->srv;
	struct gw_screen s;
	gw_screen_request(srv->gw, adu, len, &s);
	modbus_set_socket(srv->mb, c->fd);
	int rc;
	if (s.exception) {
		gw_debug("client %s: unit %d fc %d addr %u count %u -> exception 0x%02x", c->peer,
			 s.unit, s.function, s.addr, s.count, s.exception);
		rc = modbus_reply_exception(srv->mb, adu, (unsigned)s.exception);
	} else {
		gw_unit_image(srv->gw, &s.target, srv->map->tab_registers);
		rc = modbus_reply(srv->mb, adu, (int)len, srv->map);
	}
	if (rc < 0) {
		gw_debug("client %s: reply failed: %s", c->peer, modbus_strerror(errno));
		return -1;
	}
	return 0;
}

static void client_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	struct gw_client *c = (struct gw_client *)((char *)w - offsetof(struct gw_client, io));
	ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (n == 0) {
		client_close(c, "closed the connection");
		return;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		client_close(c, strerror(errno));
		return;
	}
	c->len += (size_t)n;
	ev_timer_again(loop, &c->idle);
	for (;;) {
		int al = gw_mbap_frame(c->buf, c->len);
		if (al == 0)
			break;
		if (al < 0) {
			client_close(c, "not Modbus TCP (bad MBAP header)");
			return;
		}
		if (client_answer(c, c->buf, (size_t)al) < 0) {
			client_close(c, "write failed");
			return;
		}
		memmove(c->buf, c->buf + al, c->len - (size_t)al);
		c->len -= (size_t)al;
	}
}

static void client_idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_client *c = (struct gw_client *)((char *)w - offsetof(struct gw_client, idle));
	gw_info("client %s: idle for %.0f s, dropped", c->peer, c->srv->gw->conf->gw.idle_timeout);
	client_free(c);
}

static void peer_name(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
		snprintf(out, len, "%s:%d", host, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
		snprintf(out, len, "[%s]:%d", host, port);
	} else {
		snprintf(out, len, "?");
	}
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	struct gw_server *srv = (struct gw_server *)((char *)w - offsetof(struct gw_server, io));
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(srv->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				gw_warn("accept: %s", strerror(errno));
			return;
		}
		char peer[64];
		peer_name(&ss, peer, sizeof(peer));
		if (srv->nclients >= srv->gw->conf->gw.max_clients) {
			if (srv->refused++ % 100 == 0)
				gw_warn("client %s refused: max_clients (%d) reached (%lu refused so far)",
					peer, srv->gw->conf->gw.max_clients, srv->refused);
			close(fd);
			continue;
		}
		struct gw_client *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->srv = srv;
		c->fd = fd;
		snprintf(c->peer, sizeof(c->peer), "%s", peer);
		ev_io_init(&c->io, client_read_cb, fd, EV_READ);
		ev_io_start(loop, &c->io);
		ev_init(&c->idle, client_idle_cb);
		c->idle.repeat = srv->gw->conf->gw.idle_timeout;
		ev_timer_again(loop, &c->idle);
		c->next = srv->clients;
		if (srv->clients)
			srv->clients->prev = c;
		srv->clients = c;
		srv->nclients++;
		gw_debug("client %s connected (%d open)", peer, srv->nclients);
	}
}

static int listen_socket(const char *host, int port)
{
	char service[8];
	snprintf(service, sizeof(service), "%d", port);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST };
	struct addrinfo *ai = NULL;
	int rc = getaddrinfo(host[0] ? host : NULL, service, &hints, &ai);
	if (rc != 0) {
		hints.ai_flags &= ~AI_NUMERICHOST;
		rc = getaddrinfo(host[0] ? host : NULL, service, &hints, &ai);
	}
	if (rc != 0) {
		gw_err("listen %s:%d: %s", host, port, gai_strerror(rc));
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		gw_err("listen %s:%d: socket: %s", host, port, strerror(errno));
		freeaddrinfo(ai);
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6) {
		int zero = 0; /* [::] also accepts IPv4 */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		gw_err("listen %s:%d: %s%s", host, port, strerror(errno),
		       errno == EACCES ? " (port < 1024 needs root or CAP_NET_BIND_SERVICE)" : "");
		close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
}

struct gw_server *gw_server_new(struct gw *gw)
{
	const struct conf_gateway *g = &gw->conf->gw;
	struct gw_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return NULL;
	srv->gw = gw;
	srv->fd = listen_socket(g->listen_host, g->listen_port);
	if (srv->fd < 0) {
		free(srv);
		return NULL;
	}
	srv->mb = modbus_new_tcp("127.0.0.1", g->listen_port);
	srv->map = modbus_mapping_new_start_address(0, 0, 0, 0, (unsigned)g->base, REG_MAP_SIZE, 0, 0);
	if (!srv->mb || !srv->map) {
		gw_err("libmodbus: %s", modbus_strerror(errno));
		gw_server_free(srv);
		return NULL;
	}
	ev_io_init(&srv->io, accept_cb, srv->fd, EV_READ);
	ev_io_start(gw->loop, &srv->io);
	gw_info("Modbus TCP server on %s%s%s:%d, base %d, %s floats, %d pack(s)",
		strchr(g->listen_host, ':') ? "[" : "", g->listen_host,
		strchr(g->listen_host, ':') ? "]" : "", g->listen_port, g->base,
		g->float_order == CONF_FLOAT_CDAB ? "cdab" : "abcd", gw->npacks);
	return srv;
}

void gw_server_free(struct gw_server *srv)
{
	if (!srv)
		return;
	while (srv->clients)
		client_free(srv->clients);
	if (srv->fd >= 0) {
		ev_io_stop(srv->gw->loop, &srv->io);
		close(srv->fd);
	}
	if (srv->map)
		modbus_mapping_free(srv->map);
	if (srv->mb)
		modbus_free(srv->mb);
	free(srv);
}
