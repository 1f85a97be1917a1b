
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_CURL_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_CURL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <curl/curl.h>

#include "ngx_http_agnitel_upstream.h"


/*
 * Carrier calls made outside any request, by background jobs: libcurl's
 * multi interface driven by the worker's event loop.  A fetch carries the
 * same ngx_http_agnitel_call_t a subrequest does (method, path below the
 * carrier's base URL, query, form, Authorization in; status, rc and
 * response out), so the Twilio builders and parsers serve both.
 */

typedef struct ngx_http_agnitel_fetch_s  ngx_http_agnitel_fetch_t;

typedef void (*ngx_http_agnitel_fetched_pt)(ngx_http_agnitel_fetch_t *f);

struct ngx_http_agnitel_fetch_s {
    ngx_http_agnitel_call_t         call;
    ngx_str_t                       url;      /* absolute: not below base */
    ngx_str_t                      *base;     /* NULL: agnitel_twilio_url */
    ngx_str_t                       header;   /* one more, "Name: value" */
    ngx_pool_t                     *pool;     /* the response's */
    ngx_http_agnitel_fetched_pt     done;
    void                           *data;

    /* private */
    CURL                           *easy;
    struct curl_slist              *headers;
    ngx_queue_t                     queue;
    u_char                         *last;
    u_char                         *end;
    char                            error[CURL_ERROR_SIZE];
};


typedef struct {
    ngx_str_t                       base;     /* no trailing slash */
    ngx_str_t                       ca_file;  /* empty: the system's */
    ngx_msec_t                      timeout;
} ngx_http_agnitel_curl_conf_t;


/* conf NULL: absolute URLs only, until a caller with a base comes */
ngx_int_t ngx_http_agnitel_curl_init(ngx_cycle_t *cycle,
    ngx_http_agnitel_curl_conf_t *conf);
ngx_int_t ngx_http_agnitel_curl_fetch(ngx_http_agnitel_fetch_t *f);
void ngx_http_agnitel_curl_done(void);


#endif /* _NGX_HTTP_AGNITEL_CURL_H_INCLUDED_ */
