/* SPDX-License-Identifier: MIT */
/* gateway/core/curlev.h - libcurl's multi interface driven by the daemon's
 * libev loop, for every output that sends through libcurl (alerts, influx):
 * one multi handle on a loop, an ev_io per socket libcurl names and one
 * ev_timer for its timeouts (libcurl's example evhiperfifo,
 * https://curl.se/libcurl/c/evhiperfifo.html), and a completion callback
 * per easy handle.  Name resolution, connecting, TLS and the exchange all
 * proceed as the sockets are ready: nothing waits on the loop. */
#ifndef GATEWAY_CORE_CURLEV_H
#define GATEWAY_CORE_CURLEV_H

#include <curl/curl.h>
#include <ev.h>
#include <stdbool.h>

struct gw_curlev;

/* A transfer ended: e is the caller's again (off the multi handle, to
 * clean up or to add again), rc libcurl's result.  Called from the loop,
 * never from inside gw_curlev_add(). */
typedef void (*gw_curlev_done)(void *arg, CURL *e, CURLcode rc);

/* curl_global_init() once for the process (every user calls it; the
 * first does it).  false when libcurl does not start. */
bool gw_curlev_global(void);
/* curl_global_cleanup() at exit, after every multi handle is gone (any
 * user may call it; only the first call after a start does it). */
void gw_curlev_global_end(void);

/* A multi handle on loop (NULL: out of memory, or libcurl not started). */
struct gw_curlev *gw_curlev_new(struct ev_loop *loop);
/* Its end: the transfers still under way abandoned (their easy handles
 * cleaned up, their callbacks not called), its watchers stopped. */
void gw_curlev_free(struct gw_curlev *m);
/* Start easy handle e (set up by the caller; CURLOPT_PRIVATE is the
 * module's): done(arg, e, rc) when it ends.  false when libcurl refuses
 * it (e still the caller's). */
bool gw_curlev_add(struct gw_curlev *m, CURL *e, gw_curlev_done done, void *arg);
/* Abandon transfer e (no callback): off the multi handle, e the caller's. */
void gw_curlev_remove(struct gw_curlev *m, CURL *e);
/* An easy handle with what every transfer of bmsgw sets: url, the
 * protocols it may speak (libcurl's list: "http,https"), no signals, the
 * connect and whole-transfer timeouts (ms), libcurl's words of a failure
 * into errbuf (CURL_ERROR_SIZE bytes, emptied), the CAs of ca_file (""
 * the system's; read here as every file bmsgw reads, conf/rfile.c, and
 * handed over as text: none when it cannot be read, said).  NULL when out of memory. */
CURL *gw_curlev_easy(const char *url, const char *protocols, long connect_ms, long total_ms, char *errbuf,
		     const char *ca_file);
/* A transfer's end: *e off the multi handle (nothing when it ended),
 * cleaned up and NULL; its header list *headers freed and NULL. */
void gw_curlev_end(struct gw_curlev *m, CURL **e, struct curl_slist **headers);
/* Transfers under way. */
int gw_curlev_running(const struct gw_curlev *m);

#endif
