
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_AGNITEL_KEY_LEN         32
#define NGX_HTTP_AGNITEL_DEFAULT_MAP     (256 * 1024 * 1024)
#define NGX_HTTP_AGNITEL_DEFAULT_GROW    (4 * 1024 * 1024)
#define NGX_HTTP_AGNITEL_MIN_GROW        (64 * 1024)

/* ids are a prefix and 16 lowercase hex characters */
#define NGX_HTTP_AGNITEL_ID_LEN          16
#define NGX_HTTP_AGNITEL_WS_ID_LEN       (sizeof("ws_") - 1 + 16)
#define NGX_HTTP_AGNITEL_KEY_ID_LEN      (sizeof("key_") - 1 + 16)
#define NGX_HTTP_AGNITEL_PN_ID_LEN       (sizeof("pn_") - 1 + 16)


typedef struct ngx_http_agnitel_store_s  ngx_http_agnitel_store_t;
typedef struct ngx_http_agnitel_write_s  ngx_http_agnitel_write_t;
typedef struct ngx_http_agnitel_ring_s   ngx_http_agnitel_ring_t;


/* rate card types */
#define NGX_HTTP_AGNITEL_LOCAL           1
#define NGX_HTTP_AGNITEL_MOBILE          2
#define NGX_HTTP_AGNITEL_TOLL_FREE       3


/* a rate card row, money in micro-units */
typedef struct {
    u_char                      country[2];
    ngx_uint_t                  type;
    int64_t                     monthly;
    int64_t                     inbound;
    int64_t                     outbound;
    u_char                      currency[3];
} ngx_http_agnitel_rate_t;


typedef struct {
    ngx_str_t                   store_path;
    size_t                      map_size;
    size_t                      grow;           /* 0: off */

    ngx_str_t                   key_file;
    u_char                      key[NGX_HTTP_AGNITEL_KEY_LEN];

    ngx_str_t                   sip_termination_uri;
    ngx_str_t                   voice_url;
    ngx_str_t                   status_url;

    /* ngx_http_agnitel_rate_t: the built-in rows, then agnitel_rate's */
    ngx_array_t                *rates;

    /* agnitel_jobs: interval 0 when jobs are off */
    ngx_msec_t                  jobs_interval;
    ngx_msec_t                  reconcile_after;
    ngx_msec_t                  jobs_timeout;

    /* the jobs' names (src/jobs), in their order, NULL after the last */
    const char                **job_names;

    /*
     * agnitel_twilio_managed: the platform's account, parent of the
     * managed subaccounts, and its Basic credentials; the terms' version
     */
    ngx_str_t                   managed_sid;
    ngx_str_t                   managed_authorization;
    ngx_str_t                   terms_version;

    /* agnitel_verify: the Verify service for mobile OTPs, its credentials */
    ngx_str_t                   verify_service;
    ngx_str_t                   verify_authorization;

    /*
     * agnitel_india_account: the platform's account at the Indian carrier,
     * its Basic credentials, how often its numbers renew; agnitel_india_url
     */
    ngx_str_t                   india_sid;
    ngx_str_t                   india_authorization;
    time_t                      india_renewal;
    ngx_str_t                   india_url;

    /* agnitel_kyc_dir: where sealed KYC documents are kept */
    ngx_str_t                   kyc_dir;

    /* agnitel_billing, in seconds */
    time_t                      billing_cycle;
    time_t                      billing_renewal;
    time_t                      billing_window;

    /* where background calls go (libcurl), and the CAs they trust */
    ngx_str_t                   twilio_url;
    ngx_str_t                   ca_file;

    /* set when a location uses agnitel_api or agnitel_admin */
    unsigned                    handlers:1;

#if (NGX_THREADS)
    /* nginx's default thread pool, where writes are committed */
    ngx_thread_pool_t          *thread_pool;

    /* mapped by the master for its workers' shared writes, or NULL */
    ngx_http_agnitel_ring_t    *ring;
#endif

    /* per process: opened in init_process, closed in exit_process */
    ngx_http_agnitel_store_t   *store;
} ngx_http_agnitel_main_conf_t;


typedef struct {
    /* agnitel_twilio_api: the internal location carrier calls go to */
    ngx_str_t                   twilio_api;

    /* agnitel_verify_api: the internal location Verify calls go to */
    ngx_str_t                   verify_api;

    /* agnitel_india_api: the one the Indian carrier's calls go to */
    ngx_str_t                   india_api;

    /* agnitel_api or agnitel_admin: every error answer is the envelope */
    unsigned                    envelope:1;

    /* a Twilio webhook: the envelope is TwiML's busy reject, not JSON */
    unsigned                    twiml:1;

    /* agnitel_kyc_documents: bodies up to 5 MiB for the document routes */
    unsigned                    uploads:1;
} ngx_http_agnitel_loc_conf_t;


extern ngx_module_t  ngx_http_agnitel_module;


#endif /* _NGX_HTTP_AGNITEL_H_INCLUDED_ */
