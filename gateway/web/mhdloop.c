/* SPDX-License-Identifier: MIT */
/* gateway/web/mhdloop.c - libmicrohttpd on bmsgw's loop (http_int.h).
 *
 * libmicrohttpd runs in its external-epoll mode: one ev_io on MHD's epoll
 * descriptor and one ev_timer from MHD_get_timeout(), and MHD_run() after
 * either; no thread per request, no internal thread.  A request that waits
 * (a login, a history query, the next live event, a setup answer) is
 * suspended and resumed when what it waits for comes.  libmicrohttpd does
 * not watch a suspended connection's socket (0.9.75 takes it out of its
 * epoll set), so bmsgw does, in an epoll set of its own: a client that
 * leaves while its request waits frees its connection at once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "../core/log.h"
#include "../core/util.h"
#include "../history/history.h"
#include "../model/gw.h"
#include "auth.h"
#include "http_int.h"

void http_req_unref(struct req *r)
{
	if (--r->refs > 0)
		return;
	free(r->buf);
	free(r->body);
	free(r->ans.json);
	free(r);
}

void http_req_list(struct gw_http *h, struct req *r)
{
	if (r->listed)
		return;
	r->listed = true;
	r->prev = NULL;
	r->next = h->reqs;
	if (h->reqs)
		h->reqs->prev = r;
	h->reqs = r;
}

void http_req_unlist(struct gw_http *h, struct req *r)
{
	if (!r->listed)
		return;
	r->listed = false;
	if (r->prev)
		r->prev->next = r->next;
	else
		h->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->next = r->prev = NULL;
}

/* r's socket in (on) or out of the set watched for its client's leaving
 * (an end of stream or an error: EPOLLRDHUP, EPOLLHUP, EPOLLERR). */
static void watch_hangup(struct req *r, bool on)
{
	struct gw_http *h = r->h;
	if (r->watched == on || h->hup_fd < 0)
		return;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->con, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return;
	struct epoll_event ev = { .events = EPOLLRDHUP, .data.ptr = r };
	if (epoll_ctl(h->hup_fd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, ci->connect_fd, &ev) == 0 || !on)
		r->watched = on;
}

void http_unwatch(struct req *r)
{
	watch_hangup(r, false);
}

void http_suspend(struct req *r)
{
	if (r->suspended)
		return;
	r->suspended = true;
	MHD_suspend_connection(r->con);
	watch_hangup(r, true);
}

void http_resume(struct req *r)
{
	if (!r->suspended)
		return;
	r->suspended = false;
	watch_hangup(r, false);
	MHD_resume_connection(r->con);
}

/* r's client left while r was suspended: what it waited for is dropped,
 * and libmicrohttpd closes the connection at its next run. */
static void client_gone(struct req *r)
{
	r->gone = true;
	r->fail = true;
	gw_auth_cancel(&r->ask);
	gw_history_cancel(&r->q);
	gw_setup_cancel(&r->wait); /* an apply under way goes on; its answer has no one to go to */
	gw_bmsapi_cancel(&r->bset); /* a change of a BMS setting too */
	http_resume(r);
}

static void hup_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_http *h = container_of(w, struct gw_http, hup);
	struct epoll_event evs[32];
	int n = epoll_wait(h->hup_fd, evs, 32, 0);
	for (int i = 0; i < n; i++)
		client_gone(evs[i].data.ptr); /* resumed, none freed before http_run() */
	if (n > 0)
		http_run(h);
}

static void arm_timer(struct gw_http *h)
{
	struct ev_loop *loop = h->gw->loop;
	MHD_UNSIGNED_LONG_LONG ms;
	ev_timer_stop(loop, &h->timer);
	if (MHD_get_timeout(h->d, &ms) == MHD_YES) {
		ev_timer_set(&h->timer, (double)ms / 1000.0, 0.);
		ev_timer_start(loop, &h->timer);
	}
}

void http_run(struct gw_http *h)
{
	if (h->running) {
		h->rerun = true;
		return;
	}
	h->running = true;
	do {
		h->rerun = false;
		MHD_run(h->d);
	} while (h->rerun);
	h->running = false;
	arm_timer(h);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	http_run(container_of(w, struct gw_http, io));
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	http_run(container_of(w, struct gw_http, timer));
}

int http_loop_start(struct gw_http *h, char *err, size_t errlen)
{
	struct ev_loop *loop = h->gw->loop;
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!di) {
		snprintf(err, errlen, "http: libmicrohttpd has no epoll descriptor");
		return -1;
	}
	ev_io_init(&h->io, io_cb, di->epoll_fd, EV_READ);
	ev_io_start(loop, &h->io);
	/* without it (out of descriptors) a suspended request's client is
	 * seen leaving only when the request is resumed, as before */
	h->hup_fd = epoll_create1(EPOLL_CLOEXEC);
	if (h->hup_fd >= 0) {
		ev_io_init(&h->hup, hup_cb, h->hup_fd, EV_READ);
		ev_io_start(loop, &h->hup);
	} else {
		gw_warn("http: epoll_create1: %s: a client leaving a waiting request is seen only when it is answered",
			strerror(errno));
	}
	ev_init(&h->timer, timer_cb);
	arm_timer(h);
	return 0;
}

void http_loop_stop(struct gw_http *h)
{
	struct ev_loop *loop = h->gw->loop;
	ev_io_stop(loop, &h->io);
	ev_timer_stop(loop, &h->timer);
	if (h->hup_fd >= 0) {
		ev_io_stop(loop, &h->hup);
		close(h->hup_fd);
	}
}
