
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_JOBS_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_JOBS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_agnitel.h"
#include "ngx_http_agnitel_curl.h"
#include "ngx_http_agnitel_providers.h"
#include "ngx_http_agnitel_store.h"


/*
 * Background jobs (agnitel_jobs).  Every worker ticks; the one holding the
 * leader lease, a "meta" record {pid, expires} taken and renewed in write
 * transactions, runs the jobs.  A job's run may take several ticks (its
 * carrier calls are asynchronous); a job does not start again while its
 * last run is under way.  Each run ends with ngx_http_agnitel_job_done(),
 * which logs it and stores its outcome for GET /admin/v1/jobs.
 */

typedef struct ngx_http_agnitel_job_s  ngx_http_agnitel_job_t;

/* starts a run: NGX_OK, and job_done() follows, now or later */
typedef ngx_int_t (*ngx_http_agnitel_job_pt)(ngx_http_agnitel_job_t *job);

struct ngx_http_agnitel_job_s {
    const char                     *name;
    ngx_http_agnitel_job_pt         run;

    /* the run under way: its memory, what it settled, its last error */
    ngx_pool_t                     *pool;
    ngx_http_agnitel_main_conf_t   *amcf;
    ngx_log_t                      *log;
    time_t                          started;
    ngx_msec_t                      start;     /* ngx_current_msec */
    ngx_uint_t                      items;
    ngx_uint_t                      failures;
    const char                     *error;
    unsigned                        running:1;
};


ngx_int_t ngx_http_agnitel_jobs_init(ngx_cycle_t *cycle,
    ngx_http_agnitel_main_conf_t *amcf);
void ngx_http_agnitel_jobs_exit(ngx_cycle_t *cycle);
void ngx_http_agnitel_job_done(ngx_http_agnitel_job_t *job);
const char *ngx_http_agnitel_job_name(ngx_uint_t i);

ngx_int_t ngx_http_agnitel_job_account(ngx_http_agnitel_job_t *job,
    ngx_pool_t *pool, ngx_str_t *ws, ngx_str_t *id,
    ngx_http_agnitel_twilio_account_t *account);
ngx_int_t ngx_http_agnitel_job_india(ngx_http_agnitel_job_t *job,
    ngx_http_agnitel_fetch_t *f);

ngx_int_t ngx_http_agnitel_reconcile(ngx_http_agnitel_job_t *job);
ngx_int_t ngx_http_agnitel_renew(ngx_http_agnitel_job_t *job);
ngx_int_t ngx_http_agnitel_expire(ngx_http_agnitel_job_t *job);
ngx_int_t ngx_http_agnitel_purge(ngx_http_agnitel_job_t *job);


#endif /* _NGX_HTTP_AGNITEL_JOBS_H_INCLUDED_ */
