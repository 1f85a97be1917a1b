
/*
 * Copyright (C) agnitel
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <jansson.h>

#include "ngx_http_agnitel_jobs.h"
#include "ngx_http_agnitel_commit.h"
#include "ngx_http_agnitel_curl.h"
#include "ngx_http_agnitel_json.h"
#include "ngx_http_agnitel_providers.h"
#include "ngx_http_agnitel_store.h"


/* a lease write: taken, renewed, or given back ("release") */
typedef struct {
    ngx_http_agnitel_write_t        w;
    ngx_http_agnitel_store_t       *store;
    ngx_pid_t                       pid;
    int64_t                         now;       /* ms since the epoch */
    int64_t                         expires;
    ngx_pid_t                       holder;    /* who holds it after */
    unsigned                        release:1;
} ngx_http_agnitel_lease_t;


/* a job's last run, as GET /admin/v1/jobs shows it */
typedef struct {
    ngx_http_agnitel_write_t        w;
    ngx_http_agnitel_store_t       *store;
    ngx_http_agnitel_job_t         *job;
    MDB_val                         k;
    MDB_val                         v;
} ngx_http_agnitel_job_status_t;


typedef struct {
    ngx_event_t                     tick;
    ngx_http_agnitel_main_conf_t   *amcf;
    ngx_http_agnitel_curl_conf_t    curl;
    ngx_http_agnitel_lease_t        lease;
    unsigned                        leader:1;
    unsigned                        leasing:1;
} ngx_http_agnitel_jobs_t;


static void ngx_http_agnitel_jobs_tick(ngx_event_t *ev);
static int ngx_http_agnitel_lease_apply(MDB_txn *txn, void *data);
static void ngx_http_agnitel_lease_committed(ngx_http_agnitel_write_t *w);
static void ngx_http_agnitel_jobs_start(ngx_http_agnitel_job_t *job);
static int ngx_http_agnitel_job_status_apply(MDB_txn *txn, void *data);
static void ngx_http_agnitel_job_status_committed(
    ngx_http_agnitel_write_t *w);
static int64_t ngx_http_agnitel_jobs_now(void);


static ngx_http_agnitel_job_t  ngx_http_agnitel_job_table[] = {
    { "reconcile", ngx_http_agnitel_reconcile, NULL, NULL, NULL, 0, 0, 0, 0,
      NULL, 0 },
    { "renew", ngx_http_agnitel_renew, NULL, NULL, NULL, 0, 0, 0, 0, NULL,
      0 },
    { "expire", ngx_http_agnitel_expire, NULL, NULL, NULL, 0, 0, 0, 0, NULL,
      0 },
    { "purge", ngx_http_agnitel_purge, NULL, NULL, NULL, 0, 0, 0, 0, NULL,
      0 },
};

#define NGX_HTTP_AGNITEL_JOBS_N                                              \
    (sizeof(ngx_http_agnitel_job_table) / sizeof(ngx_http_agnitel_job_t))


/* per worker */
static ngx_http_agnitel_jobs_t  ngx_http_agnitel_jobs;


ngx_int_t
ngx_http_agnitel_jobs_init(ngx_cycle_t *cycle,
    ngx_http_agnitel_main_conf_t *amcf)
{
    ngx_uint_t                i;
    ngx_http_agnitel_jobs_t  *jobs = &ngx_http_agnitel_jobs;

    jobs->amcf = amcf;

    jobs->curl.base = amcf->twilio_url;
    jobs->curl.ca_file = amcf->ca_file;
    jobs->curl.timeout = amcf->jobs_timeout;

    if (ngx_http_agnitel_curl_init(cycle, &jobs->curl) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; i < NGX_HTTP_AGNITEL_JOBS_N; i++) {
        ngx_http_agnitel_job_table[i].amcf = amcf;
        ngx_http_agnitel_job_table[i].log = cycle->log;
    }

    jobs->tick.handler = ngx_http_agnitel_jobs_tick;
    jobs->tick.data = jobs;
    jobs->tick.log = cycle->log;

    /* a worker that is shutting down does not wait for its next tick */
    jobs->tick.cancelable = 1;

    /* the first tick soon: a lease given back at a reload is taken again */
    ngx_add_timer(&jobs->tick, 100);

    return NGX_OK;
}


/*
 * Every interval: take or renew the lease.  The lease lasts two intervals,
 * so a leader killed outright is replaced within three.
 */

static void
ngx_http_agnitel_jobs_tick(ngx_event_t *ev)
{
    ngx_http_agnitel_jobs_t  *jobs = ev->data;

    ngx_http_agnitel_lease_t  *l;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    ngx_add_timer(ev, jobs->amcf->jobs_interval);

    if (jobs->leasing) {
        return;
    }

    l = &jobs->lease;

    ngx_memzero(l, sizeof(ngx_http_agnitel_lease_t));

    l->w.apply = ngx_http_agnitel_lease_apply;
    l->w.data = l;
    l->w.committed = ngx_http_agnitel_lease_committed;
    l->store = jobs->amcf->store;
    l->pid = ngx_pid;
    l->now = ngx_http_agnitel_jobs_now();
    l->expires = l->now + 2 * (int64_t) jobs->amcf->jobs_interval;

    jobs->leasing = 1;

    ngx_http_agnitel_commit_post(jobs->amcf->store, &l->w);
}


/* inside a write transaction, maybe in a commit thread: no pools here */

static int
ngx_http_agnitel_lease_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_lease_t  *l = data;

    int           rc;
    char         *dump;
    json_t       *rec;
    MDB_val       k, v;
    ngx_pid_t     pid;
    json_int_t    expires;

    k.mv_data = NGX_HTTP_AGNITEL_JOBS_LEASE;
    k.mv_size = sizeof(NGX_HTTP_AGNITEL_JOBS_LEASE) - 1;

    rc = mdb_get(txn, l->store->dbi[NGX_HTTP_AGNITEL_DB_META], &k, &v);

    if (rc == 0) {
        rec = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        pid = (ngx_pid_t) json_integer_value(json_object_get(rec, "pid"));
        expires = json_integer_value(json_object_get(rec, "expires"));
        json_decref(rec);

        if (pid != l->pid && expires > l->now) {
            l->holder = pid;
            return 0;
        }

    } else if (rc != MDB_NOTFOUND) {
        return rc;

    } else if (l->release) {
        return 0;
    }

    if (l->release) {
        l->holder = 0;
        return mdb_del(txn, l->store->dbi[NGX_HTTP_AGNITEL_DB_META], &k,
                       NULL);
    }

    rec = json_pack("{s:I,s:I}", "pid", (json_int_t) l->pid,
                    "expires", (json_int_t) l->expires);
    dump = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
    json_decref(rec);

    if (dump == NULL) {
        return ENOMEM;
    }

    v.mv_data = dump;
    v.mv_size = ngx_strlen(dump);

    rc = mdb_put(txn, l->store->dbi[NGX_HTTP_AGNITEL_DB_META], &k, &v, 0);

    free(dump);

    l->holder = l->pid;

    return rc;
}


static void
ngx_http_agnitel_lease_committed(ngx_http_agnitel_write_t *w)
{
    ngx_http_agnitel_lease_t  *l = w->data;
    ngx_http_agnitel_jobs_t   *jobs = &ngx_http_agnitel_jobs;

    ngx_uint_t  i, leader;

    jobs->leasing = 0;

    if (w->rc != 0) {
        ngx_log_error(NGX_LOG_ERR, jobs->tick.log, 0,
                      "agnitel_jobs: the leader lease could not be written: "
                      "%s", mdb_strerror(w->rc));
    }

    leader = (w->rc == 0 && l->holder == ngx_pid);

    if (leader != jobs->leader) {
        ngx_log_error(NGX_LOG_NOTICE, jobs->tick.log, 0,
                      leader ? "agnitel_jobs: this worker leads the jobs"
                             : "agnitel_jobs: this worker no longer leads "
                               "the jobs");
    }

    jobs->leader = leader;

    if (!leader || ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    for (i = 0; i < NGX_HTTP_AGNITEL_JOBS_N; i++) {
        if (!ngx_http_agnitel_job_table[i].running) {
            ngx_http_agnitel_jobs_start(&ngx_http_agnitel_job_table[i]);
        }
    }
}


static void
ngx_http_agnitel_jobs_start(ngx_http_agnitel_job_t *job)
{
    job->pool = ngx_create_pool(4096, job->log);
    if (job->pool == NULL) {
        return;
    }

    job->started = ngx_time();
    job->start = ngx_current_msec;
    job->items = 0;
    job->failures = 0;
    job->error = NULL;
    job->running = 1;

    if (job->run(job) != NGX_OK) {
        if (job->error == NULL) {
            job->error = "the run could not start";
        }

        ngx_http_agnitel_job_done(job);
    }
}


/* a run is over: one log line, and its outcome in the store */

void
ngx_http_agnitel_job_done(ngx_http_agnitel_job_t *job)
{
    json_t                         *status;
    ngx_uint_t                      level;
    ngx_http_agnitel_job_status_t  *st;

    level = job->error ? NGX_LOG_WARN : NGX_LOG_INFO;

    /*
     * A run may end in the event loop's pass it began in, having held it
     * all along: the cached time would show that as 0 ms.
     */

    ngx_time_update();

    ngx_log_error(level, job->log, 0,
                  "agnitel_jobs: %s: %ui settled, %ui failed in %M ms%s%s",
                  job->name, job->items, job->failures,
                  ngx_current_msec - job->start,
                  job->error ? ": " : "", job->error ? job->error : "");

    st = ngx_pcalloc(job->pool, sizeof(ngx_http_agnitel_job_status_t));
    if (st == NULL) {
        goto failed;
    }

    st->k.mv_data = ngx_pnalloc(job->pool,
                                sizeof(NGX_HTTP_AGNITEL_JOBS_PREFIX) + 16);
    if (st->k.mv_data == NULL) {
        goto failed;
    }

    st->k.mv_size = ngx_sprintf(st->k.mv_data, "%s%s",
                                NGX_HTTP_AGNITEL_JOBS_PREFIX, job->name)
                    - (u_char *) st->k.mv_data;

    status = json_pack("{s:I,s:I,s:s,s:I,s:I,s:s?,s:I}",
                       "last_run_at", (json_int_t) job->started,
                       "duration_ms",
                       (json_int_t) (ngx_current_msec - job->start),
                       "last_result", job->error ? "failed" : "ok",
                       "items", (json_int_t) job->items,
                       "failures", (json_int_t) job->failures,
                       "last_error", job->error,
                       "next_run_at", (json_int_t) (job->started
                           + (time_t) (job->amcf->jobs_interval / 1000)));

    if (ngx_http_agnitel_json_own(job->pool, status) != NGX_OK
        || ngx_http_agnitel_json_dump(job->pool, status, &st->v) != NGX_OK)
    {
        goto failed;
    }

    st->w.apply = ngx_http_agnitel_job_status_apply;
    st->w.data = st;
    st->w.committed = ngx_http_agnitel_job_status_committed;
    st->store = job->amcf->store;
    st->job = job;

    ngx_http_agnitel_commit_post(job->amcf->store, &st->w);

    return;

failed:

    ngx_destroy_pool(job->pool);
    job->pool = NULL;
    job->running = 0;
}


static int
ngx_http_agnitel_job_status_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_job_status_t  *st = data;

    return mdb_put(txn, st->store->dbi[NGX_HTTP_AGNITEL_DB_META], &st->k,
                   &st->v, 0);
}


static void
ngx_http_agnitel_job_status_committed(ngx_http_agnitel_write_t *w)
{
    ngx_http_agnitel_job_status_t  *st = w->data;

    ngx_http_agnitel_job_t  *job;

    job = st->job;

    ngx_destroy_pool(job->pool);
    job->pool = NULL;
    job->running = 0;
}


/*
 * exit_process: calls under way are dropped (their items stay as they
 * were, for the next leader), and the lease is given back at once, so
 * that after a reload or a graceful stop the next leader need not wait
 * for it to expire.  The write is synchronous: the event loop is over.
 */

void
ngx_http_agnitel_jobs_exit(ngx_cycle_t *cycle)
{
    ngx_http_agnitel_jobs_t  *jobs = &ngx_http_agnitel_jobs;

    int                        rc;
    MDB_txn                   *txn;
    ngx_uint_t                 i;
    ngx_http_agnitel_lease_t   l;

    if (jobs->amcf == NULL) {
        return;
    }

    ngx_http_agnitel_curl_done();

    for (i = 0; i < NGX_HTTP_AGNITEL_JOBS_N; i++) {
        if (ngx_http_agnitel_job_table[i].pool) {
            ngx_destroy_pool(ngx_http_agnitel_job_table[i].pool);
            ngx_http_agnitel_job_table[i].pool = NULL;
        }
    }

    if (jobs->tick.timer_set) {
        ngx_del_timer(&jobs->tick);
    }

    if (!jobs->leader) {
        return;
    }

    ngx_memzero(&l, sizeof(ngx_http_agnitel_lease_t));
    l.store = jobs->amcf->store;
    l.pid = ngx_pid;
    l.now = ngx_http_agnitel_jobs_now();
    l.release = 1;

    txn = ngx_http_agnitel_store_write(l.store, cycle->log);
    if (txn == NULL) {
        return;
    }

    rc = ngx_http_agnitel_lease_apply(txn, &l);

    if (rc == 0) {
        rc = ngx_http_agnitel_store_commit(txn);

    } else {
        mdb_txn_abort(txn);
    }

    if (rc == 0) {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "agnitel_jobs: the leader lease is given back");
    }
}


/*
 * The Twilio account of provider "id" of workspace ws, its token opened
 * into pool, for a job's carrier call.
 */

ngx_int_t
ngx_http_agnitel_job_account(ngx_http_agnitel_job_t *job, ngx_pool_t *pool,
    ngx_str_t *ws, ngx_str_t *id, ngx_http_agnitel_twilio_account_t *account)
{
    int        rc;
    json_t    *prv;
    MDB_txn   *txn;

    txn = ngx_http_agnitel_store_read(job->amcf->store, job->log);
    if (txn == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_agnitel_provider_get(pool, txn, job->amcf->store, ws, id,
                                       &prv);

    ngx_http_agnitel_store_read_done(job->amcf->store);

    if (rc != 0) {
        ngx_log_error(NGX_LOG_WARN, job->log, 0,
                      "agnitel_jobs: %s: provider %V of workspace %V is gone "
                      "(%s)", job->name, id, ws, mdb_strerror(rc));
        job->error = "a number's provider is gone";
        return NGX_ERROR;
    }

    return ngx_http_agnitel_twilio_credentials(pool, job->log,
                                               job->amcf->key, ws, prv,
                                               account);
}


/*
 * A background call as the platform's account at the Indian carrier: to
 * agnitel_india_url, with its credentials.  Without agnitel_india_account
 * an Indian number waits, and the run says why.
 */

ngx_int_t
ngx_http_agnitel_job_india(ngx_http_agnitel_job_t *job,
    ngx_http_agnitel_fetch_t *f)
{
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = job->amcf;

    if (amcf->india_sid.len == 0) {
        ngx_log_error(NGX_LOG_WARN, job->log, 0,
                      "agnitel_jobs: %s: an Indian number needs "
                      "\"agnitel_india_account\"", job->name);
        job->error = "an Indian number needs agnitel_india_account";
        return NGX_ERROR;
    }

    f->base = &amcf->india_url;
    f->call.authorization = amcf->india_authorization;

    return NGX_OK;
}


/* the jobs' names, in order, for GET /admin/v1/jobs: NULL past the last */

const char *
ngx_http_agnitel_job_name(ngx_uint_t i)
{
    return (i < NGX_HTTP_AGNITEL_JOBS_N) ? ngx_http_agnitel_job_table[i].name
                                        : NULL;
}


static int64_t
ngx_http_agnitel_jobs_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (int64_t) tp->sec * 1000 + tp->msec;
}
