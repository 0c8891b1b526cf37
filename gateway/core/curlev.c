/* SPDX-License-Identifier: MIT */
/* gateway/core/curlev.c - libcurl's multi interface on libev (curlev.h):
 * curl_multi_socket_action() from an ev_io per socket libcurl asks to
 * watch (CURLMOPT_SOCKETFUNCTION) and from one ev_timer it sets
 * (CURLMOPT_TIMERFUNCTION); the transfers that ended read with
 * curl_multi_info_read() after each, and handed to their callbacks. */
#include <stdlib.h>

#include "../../conf/conf.h"
#include "curlev.h"
#include "log.h"

/* What CURLOPT_PRIVATE of a transfer holds. */
struct cev_xfer {
	gw_curlev_done done;
	void *arg;
	CURL *e;
	struct cev_xfer *prev, *next;  /* the multi handle's transfers */
};

struct gw_curlev {
	struct ev_loop *loop;
	CURLM *multi;
	ev_timer timer;                /* libcurl's timeout */
	int running;                   /* transfers added and not ended */
	struct cev_xfer *xfers;        /* ... listed */
};

static void unlink_xfer(struct gw_curlev *m, struct cev_xfer *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		m->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	m->running--;
}

/* The ev_io of one socket libcurl asked us to watch. */
struct cev_sock {
	ev_io io;
	struct gw_curlev *m;
};

static bool global_done;

bool gw_curlev_global(void)
{
	if (!global_done && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
		global_done = true;
	return global_done;
}

void gw_curlev_global_end(void)
{
	if (global_done)
		curl_global_cleanup();
	global_done = false;
}

/* The transfers that ended, each off the multi handle before its callback
 * (which may start another on it). */
static void check_done(struct gw_curlev *m)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(m->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *e = msg->easy_handle; /* msg is libcurl's until the handle goes */
		CURLcode rc = msg->data.result;
		struct cev_xfer *x = NULL;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(m->multi, e);
		curl_easy_setopt(e, CURLOPT_PRIVATE, NULL);
		if (x) {
			unlink_xfer(m, x);
			struct cev_xfer done = *x;
			free(x);
			done.done(done.arg, e, rc);
		}
	}
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	struct cev_sock *s = w->data;
	struct gw_curlev *m = s->m;
	int action = (revents & EV_READ ? CURL_CSELECT_IN : 0) | (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int running = 0;
	curl_multi_socket_action(m->multi, w->fd, action, &running);
	check_done(m);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_curlev *m = w->data;
	int running = 0;
	curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(m);
}

/* CURLMOPT_SOCKETFUNCTION: watch socket fd for what libcurl wants. */
static int sock_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	(void)e;
	struct gw_curlev *m = userp;
	struct cev_sock *s = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			ev_io_stop(m->loop, &s->io);
			free(s);
		}
		curl_multi_assign(m->multi, fd, NULL);
		return 0;
	}
	if (!s) {
		if (!(s = calloc(1, sizeof(*s))))
			return -1;
		s->m = m;
		curl_multi_assign(m->multi, fd, s);
	} else
		ev_io_stop(m->loop, &s->io);
	int ev = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
	ev_io_init(&s->io, on_io, fd, ev);
	s->io.data = s;
	ev_io_start(m->loop, &s->io);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: call libcurl back after ms (-1: never). */
static int timer_cb(CURLM *multi, long ms, void *userp)
{
	(void)multi;
	struct gw_curlev *m = userp;
	ev_timer_stop(m->loop, &m->timer);
	if (ms >= 0) {
		ev_timer_set(&m->timer, (double)ms / 1000.0, 0.);
		ev_timer_start(m->loop, &m->timer);
	}
	return 0;
}

struct gw_curlev *gw_curlev_new(struct ev_loop *loop)
{
	if (!gw_curlev_global())
		return NULL;
	struct gw_curlev *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->loop = loop;
	if (!(m->multi = curl_multi_init())) {
		free(m);
		return NULL;
	}
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
	ev_timer_init(&m->timer, on_timer, 0., 0.);
	m->timer.data = m;
	return m;
}

bool gw_curlev_add(struct gw_curlev *m, CURL *e, gw_curlev_done done, void *arg)
{
	struct cev_xfer *x = malloc(sizeof(*x));
	if (!x)
		return false;
	*x = (struct cev_xfer){ done, arg, e, NULL, m->xfers };
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	if (curl_multi_add_handle(m->multi, e) != CURLM_OK) {
		curl_easy_setopt(e, CURLOPT_PRIVATE, NULL);
		free(x);
		return false;
	}
	if (m->xfers)
		m->xfers->prev = x;
	m->xfers = x;
	m->running++;
	return true;
}

void gw_curlev_remove(struct gw_curlev *m, CURL *e)
{
	struct cev_xfer *x = NULL;
	if (!e)
		return;
	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
	if (!x)
		return; /* not ours, or ended */
	curl_multi_remove_handle(m->multi, e); /* its sockets' watchers go with CURL_POLL_REMOVE */
	curl_easy_setopt(e, CURLOPT_PRIVATE, NULL);
	unlink_xfer(m, x);
	free(x);
}

CURL *gw_curlev_easy(const char *url, const char *protocols, long connect_ms, long total_ms, char *errbuf,
		     const char *ca_file)
{
	CURL *e = curl_easy_init();
	if (!e)
		return NULL;
	errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protocols);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, total_ms);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	if (ca_file[0]) {
		/* read here (conf/rfile.c: a FIFO planted in its place never holds
		 * the loop, another user's link is never followed), curl takes a
		 * copy; unreadable: no CA is trusted, and the transfer fails */
		char why[CONF_PORT_MAX + 200];
		size_t n = 0;
		char *pem = conf_file_read(ca_file, false, &n, why, sizeof(why));
		struct curl_blob blob = { .data = pem ? pem : "", .len = n, .flags = CURL_BLOB_COPY };
		if (!pem)
			gw_log_keyed(GW_LOG_WARN, "curl ca_file", "TLS: %s: no CA is trusted", why);
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
		free(pem);
	}
	return e;
}

void gw_curlev_end(struct gw_curlev *m, CURL **e, struct curl_slist **headers)
{
	if (*e) {
		gw_curlev_remove(m, *e); /* nothing when it ended */
		curl_easy_cleanup(*e);
		*e = NULL;
	}
	curl_slist_free_all(*headers);
	*headers = NULL;
}

int gw_curlev_running(const struct gw_curlev *m)
{
	return m ? m->running : 0;
}

void gw_curlev_free(struct gw_curlev *m)
{
	if (!m)
		return;
	while (m->xfers) {
		CURL *e = m->xfers->e;
		gw_curlev_remove(m, e);
		curl_easy_cleanup(e);
	}
	ev_timer_stop(m->loop, &m->timer);
	curl_multi_cleanup(m->multi);
	free(m);
}
