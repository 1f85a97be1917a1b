
/*
 * Copyright (C) agnitel
 *
 * The expire job: unused credits expire at the end of each billing cycle.
 * At a managed provider's cycle_end a positive balance is zeroed by an
 * "expiry" entry, and the next cycle begins, in one write transaction
 * that checks the cycle is still the one the run saw.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_jobs.h"
#include "ngx_http_agnitel_commit.h"
#include "ngx_http_agnitel_json.h"
#include "ngx_http_agnitel_ledger.h"
#include "ngx_http_agnitel_store.h"


/* a managed provider whose cycle is over */
typedef struct {
    ngx_str_t                       key;        /* ws "/" prv_id */
    ngx_str_t                       workspace;
    ngx_http_agnitel_entry_t        entry;
    ngx_uint_t                      expired;
} ngx_http_agnitel_cycle_t;


typedef struct {
    ngx_http_agnitel_write_t        w;
    ngx_http_agnitel_job_t         *job;
    ngx_array_t                     cycles;
    ngx_pool_t                     *pool;       /* the write's */
} ngx_http_agnitel_expire_t;


static int ngx_http_agnitel_expire_collect(ngx_http_agnitel_expire_t *ex,
    MDB_txn *txn);
static int ngx_http_agnitel_expire_apply(MDB_txn *txn, void *data);
static int ngx_http_agnitel_expire_one(ngx_http_agnitel_expire_t *ex,
    MDB_txn *txn, ngx_http_agnitel_cycle_t *cy);
static void ngx_http_agnitel_expire_committed(ngx_http_agnitel_write_t *w);


ngx_int_t
ngx_http_agnitel_expire(ngx_http_agnitel_job_t *job)
{
    int                         rc;
    MDB_txn                    *txn;
    ngx_http_agnitel_expire_t  *ex;

    ex = ngx_pcalloc(job->pool, sizeof(ngx_http_agnitel_expire_t));
    if (ex == NULL) {
        return NGX_ERROR;
    }

    ex->job = job;

    if (ngx_array_init(&ex->cycles, job->pool, 4,
                       sizeof(ngx_http_agnitel_cycle_t)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    txn = ngx_http_agnitel_store_read(job->amcf->store, job->log);
    if (txn == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_agnitel_expire_collect(ex, txn);

    ngx_http_agnitel_store_read_done(job->amcf->store);

    if (rc != 0) {
        job->error = mdb_strerror(rc);
        return NGX_ERROR;
    }

    if (ex->cycles.nelts == 0) {
        ngx_http_agnitel_job_done(job);
        return NGX_OK;
    }

    /* the write's own pool: the commit thread may use it */

    ex->pool = ngx_create_pool(4096, job->log);
    if (ex->pool == NULL) {
        return NGX_ERROR;
    }

    ex->w.apply = ngx_http_agnitel_expire_apply;
    ex->w.data = ex;
    ex->w.committed = ngx_http_agnitel_expire_committed;

    ngx_http_agnitel_commit_post(job->amcf->store, &ex->w);

    return NGX_OK;
}


static int
ngx_http_agnitel_expire_collect(ngx_http_agnitel_expire_t *ex, MDB_txn *txn)
{
    int                        rc;
    u_char                    *slash;
    json_t                    *prv;
    time_t                     now;
    MDB_val                    k, v;
    MDB_cursor                *cur;
    ngx_http_agnitel_store_t  *store;
    ngx_http_agnitel_cycle_t  *cy;

    now = ngx_time();
    store = ex->job->amcf->store;

    rc = mdb_cursor_open(txn, store->dbi[NGX_HTTP_AGNITEL_DB_PROVIDERS],
                         &cur);
    if (rc != 0) {
        return rc;
    }

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        prv = json_loadb(v.mv_data, v.mv_size, 0, NULL);

        if (ngx_http_agnitel_json_own(ex->job->pool, prv) != NGX_OK) {
            rc = MDB_CORRUPTED;
            break;
        }

        if (json_object_get(prv, "cycle_end") == NULL
            || json_integer_value(json_object_get(prv, "cycle_end")) > now)
        {
            continue;
        }

        slash = ngx_strlchr(k.mv_data, (u_char *) k.mv_data + k.mv_size, '/');
        if (slash == NULL) {
            continue;
        }

        cy = ngx_array_push(&ex->cycles);
        if (cy == NULL) {
            rc = ENOMEM;
            break;
        }

        ngx_memzero(cy, sizeof(ngx_http_agnitel_cycle_t));

        cy->key.len = k.mv_size;
        cy->key.data = ngx_pnalloc(ex->job->pool, k.mv_size);
        if (cy->key.data == NULL) {
            rc = ENOMEM;
            break;
        }

        ngx_memcpy(cy->key.data, k.mv_data, k.mv_size);

        cy->workspace.data = cy->key.data;
        cy->workspace.len = slash - (u_char *) k.mv_data;

        /* the amount is the balance, read in the write transaction */

        if (ngx_http_agnitel_entry_init(&cy->entry, &cy->workspace, "USD",
                                        "expiry", 0)
            != NGX_OK)
        {
            rc = ENOMEM;
            break;
        }
    }

    mdb_cursor_close(cur);

    return (rc == MDB_NOTFOUND || rc == 0) ? 0 : rc;
}


static int
ngx_http_agnitel_expire_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_expire_t  *ex = data;

    int                        rc;
    ngx_uint_t                 i;
    ngx_http_agnitel_cycle_t  *cy;

    cy = ex->cycles.elts;

    for (i = 0; i < ex->cycles.nelts; i++) {
        rc = ngx_http_agnitel_expire_one(ex, txn, &cy[i]);
        if (rc != 0) {
            return rc;
        }
    }

    return 0;
}


static int
ngx_http_agnitel_expire_one(ngx_http_agnitel_expire_t *ex, MDB_txn *txn,
    ngx_http_agnitel_cycle_t *cy)
{
    int                        rc;
    json_t                    *prv;
    time_t                     end, cycle, now;
    int64_t                    balance;
    MDB_val                    k, v;
    uint64_t                   seq;
    ngx_http_agnitel_store_t  *store;

    store = ex->job->amcf->store;
    cycle = ex->job->amcf->billing_cycle;
    now = ngx_time();
    cy->expired = 0;

    k.mv_data = cy->key.data;
    k.mv_size = cy->key.len;

    rc = mdb_get(txn, store->dbi[NGX_HTTP_AGNITEL_DB_PROVIDERS], &k, &v);
    if (rc != 0) {
        return (rc == MDB_NOTFOUND) ? 0 : rc;
    }

    prv = json_loadb(v.mv_data, v.mv_size, 0, NULL);

    if (ngx_http_agnitel_json_own(ex->pool, prv) != NGX_OK) {
        return MDB_CORRUPTED;
    }

    end = json_integer_value(json_object_get(prv, "cycle_end"));

    if (end > now) {
        return 0;       /* another run moved it on */
    }

    rc = ngx_http_agnitel_ledger_balance(txn, store, &cy->workspace,
                                         cy->entry.currency, &balance, &seq);
    if (rc != 0) {
        return rc;
    }

    if (balance > 0) {
        cy->entry.amount = -balance;

        rc = ngx_http_agnitel_ledger_append(txn, store, &cy->entry);
        if (rc != 0) {
            return rc;
        }

        cy->expired = 1;
    }

    /* the next cycle: the one now runs in, whatever was missed meanwhile */

    while (end <= now) {
        end += cycle;
    }

    if (json_object_set_new(prv, "cycle_start", json_integer(end - cycle))
        != 0
        || json_object_set_new(prv, "cycle_end", json_integer(end)) != 0
        || ngx_http_agnitel_json_dump(ex->pool, prv, &v) != NGX_OK)
    {
        return ENOMEM;
    }

    return mdb_put(txn, store->dbi[NGX_HTTP_AGNITEL_DB_PROVIDERS], &k, &v, 0);
}


static void
ngx_http_agnitel_expire_committed(ngx_http_agnitel_write_t *w)
{
    ngx_http_agnitel_expire_t  *ex = w->data;

    ngx_uint_t                 i;
    ngx_http_agnitel_job_t    *job;
    ngx_http_agnitel_cycle_t  *cy;

    job = ex->job;

    ngx_destroy_pool(ex->pool);
    ex->pool = NULL;

    if (w->rc != 0) {
        job->failures += ex->cycles.nelts;
        job->error = "the cycles could not be written";

    } else {
        cy = ex->cycles.elts;

        for (i = 0; i < ex->cycles.nelts; i++) {
            if (cy[i].expired) {
                ngx_log_error(NGX_LOG_INFO, job->log, 0,
                              "agnitel_jobs: expire: %L micro-units of "
                              "workspace %V expired with its cycle",
                              -cy[i].entry.amount, &cy[i].workspace);
            }

            job->items++;
        }
    }

    ngx_http_agnitel_job_done(job);
}
