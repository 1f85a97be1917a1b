
/*
 * Copyright (C) agnitel
 *
 * The purge job: Idempotency-Keys over a day old are forgotten.  They
 * replay nothing any more (they count as new), so this only gives their
 * room back.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_jobs.h"
#include "ngx_http_agnitel_commit.h"
#include "ngx_http_agnitel_idempotency.h"
#include "ngx_http_agnitel_store.h"


/* keys forgotten per run: the writer lock is not held for long */
#define NGX_HTTP_AGNITEL_PURGE_MAX  1000


typedef struct {
    ngx_http_agnitel_write_t        w;
    ngx_http_agnitel_job_t         *job;
    ngx_http_agnitel_store_t       *store;
    time_t                          now;
    ngx_uint_t                      purged;
} ngx_http_agnitel_purge_t;


static int ngx_http_agnitel_purge_apply(MDB_txn *txn, void *data);
static void ngx_http_agnitel_purge_committed(ngx_http_agnitel_write_t *w);


ngx_int_t
ngx_http_agnitel_purge(ngx_http_agnitel_job_t *job)
{
    ngx_http_agnitel_purge_t  *p;

    p = ngx_pcalloc(job->pool, sizeof(ngx_http_agnitel_purge_t));
    if (p == NULL) {
        return NGX_ERROR;
    }

    p->w.apply = ngx_http_agnitel_purge_apply;
    p->w.data = p;
    p->w.committed = ngx_http_agnitel_purge_committed;
    p->job = job;
    p->store = job->amcf->store;
    p->now = ngx_time();

    ngx_http_agnitel_commit_post(p->store, &p->w);

    return NGX_OK;
}


static int
ngx_http_agnitel_purge_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_purge_t  *p = data;

    return ngx_http_agnitel_idem_purge(txn, p->store, p->now,
                                       NGX_HTTP_AGNITEL_PURGE_MAX,
                                       &p->purged);
}


static void
ngx_http_agnitel_purge_committed(ngx_http_agnitel_write_t *w)
{
    ngx_http_agnitel_purge_t  *p = w->data;

    if (w->rc == 0) {
        p->job->items = p->purged;

    } else {
        p->job->error = mdb_strerror(w->rc);
    }

    ngx_http_agnitel_job_done(p->job);
}
