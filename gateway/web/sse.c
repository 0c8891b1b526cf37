/* SPDX-License-Identifier: MIT */
/* gateway/web/sse.c - /api/events: the state of /api/state as server-sent
 * events, at most once a second after a poll (SSE_MIN) and at least every
 * SSE_MAX s.  A stream's request is suspended while it has sent the newest
 * state, and resumed when a newer one is made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/util.h"
#include "../model/gw.h"
#include "http_int.h"
#include "status.h"

#define SSE_MIN 1.0                      /* live state at most this often ... */
#define SSE_MAX 5.0                      /* ... and at least this often */

char *http_state_text(struct gw *gw, size_t *len)
{
	char *text = NULL;
	FILE *o = open_memstream(&text, len);
	if (!o)
		return NULL;
	gw_status_json(gw, o);
	if (fclose(o) != 0) {
		free(text);
		return NULL;
	}
	return text;
}


/* The newest state as one server-sent event (its JSON on one line). */
static void make_event(struct gw_http *h)
{
	size_t len = 0;
	char *js = http_state_text(h->gw, &len);
	if (!js)
		return;
	for (size_t i = 0; i < len; i++)
		if (js[i] == '\n' || js[i] == '\r')
			js[i] = ' ';
	char *ev = malloc(len + 32);
	if (!ev) {
		free(js);
		return;
	}
	int n = snprintf(ev, len + 32, "event: state\ndata: %.*s\n\n", (int)len, js);
	free(js);
	free(h->event);
	h->event = ev;
	h->event_len = n > 0 ? (size_t)n : 0;
	h->seq++;
	h->dirty = false;
	h->last_push = gw_mono();
}

static void push_events(struct gw_http *h)
{
	make_event(h);
	bool any = false;
	for (struct req *r = h->reqs; r; r = r->next)
		if (r->kind == RQ_SSE && r->suspended) {
			http_resume(r);
			any = true;
		}
	if (any)
		http_run(h);
}

static void push_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_http *h = container_of(w, struct gw_http, push);
	if (!h->nsse)
		return;
	if (h->dirty || gw_mono() - h->last_push >= SSE_MAX - 0.05)
		push_events(h);
}

void gw_http_changed(struct gw_http *h)
{
	if (h)
		h->dirty = true;
}

static ssize_t sse_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct req *r = cls;
	struct gw_http *h = r->h;
	if (h->stopping)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (r->gone)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (r->off >= r->len && r->seq != h->seq && h->event) {
		char *copy = malloc(h->event_len);
		if (!copy)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		memcpy(copy, h->event, h->event_len);
		free(r->buf);
		r->buf = copy;
		r->len = h->event_len;
		r->off = 0;
		r->seq = h->seq;
	}
	if (r->off < r->len) {
		size_t n = r->len - r->off < max ? r->len - r->off : max;
		memcpy(buf, r->buf + r->off, n);
		r->off += n;
		return (ssize_t)n;
	}
	http_suspend(r); /* until the next state */
	return 0;
}

enum MHD_Result http_start_sse(struct gw_http *h, struct req *r)
{
	static const char hello[] = "retry: 3000\n\n";
	r->kind = RQ_SSE;
	r->buf = malloc(sizeof(hello));
	if (!r->buf)
		return MHD_NO;
	memcpy(r->buf, hello, sizeof(hello) - 1);
	r->len = sizeof(hello) - 1;
	make_event(h); /* a new page gets the state at once */
	r->seq = h->seq - 1;
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_reader, r,
								      (MHD_ContentReaderFreeCallback)http_req_unref);
	if (!resp)
		return MHD_NO;
	r->refs++;
	http_add_common(resp, "text/event-stream", true);
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	enum MHD_Result rc = MHD_queue_response(r->con, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	if (rc == MHD_YES) {
		h->nsse++;
		http_req_list(h, r);
		if (!ev_is_active(&h->push))
			ev_timer_again(h->gw->loop, &h->push);
	}
	return rc;
}

void http_sse_init(struct gw_http *h)
{
	ev_init(&h->push, push_cb);
	h->push.repeat = SSE_MIN;
}
