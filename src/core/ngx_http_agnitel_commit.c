
/*
 * Copyright (C) agnitel
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_commit.h"
#include "ngx_http_agnitel_http.h"


/* a request's write: the request resumes in "written" after the commit */
typedef struct {
    ngx_http_agnitel_write_t        w;
    ngx_http_request_t             *request;
    ngx_http_agnitel_written_pt     written;
} ngx_http_agnitel_request_write_t;


static void ngx_http_agnitel_commit_handler(ngx_event_t *ev);
static void ngx_http_agnitel_commit_apply(ngx_http_agnitel_store_t *store,
    MDB_txn *txn, ngx_http_agnitel_write_t *w);
static void ngx_http_agnitel_request_written(ngx_http_agnitel_write_t *w);


/*
 * Queues a write for the commit at the end of this pass of the event loop:
 * the commit event is posted, and posted events run after all the events
 * epoll returned, so every request made ready in this pass joins it.
 */

void
ngx_http_agnitel_commit_post(ngx_http_agnitel_store_t *store,
    ngx_http_agnitel_write_t *w)
{
    if (store->commit.handler == NULL) {
        ngx_queue_init(&store->writes);
        store->commit.handler = ngx_http_agnitel_commit_handler;
        store->commit.data = store;
        store->commit.log = ngx_cycle->log;
    }

    w->rc = 0;
    ngx_queue_insert_tail(&store->writes, &w->queue);

    if (!store->commit.posted) {
        ngx_post_event(&store->commit, &ngx_posted_events);
    }
}


static void
ngx_http_agnitel_commit_handler(ngx_event_t *ev)
{
    ngx_http_agnitel_store_t *store = ev->data;

    int                        rc;
    MDB_txn                   *txn;
    ngx_uint_t                 n;
    ngx_queue_t                batch, *q;
    ngx_http_agnitel_write_t  *w;

    if (ngx_queue_empty(&store->writes)) {
        return;
    }

    /* writes queued by the callbacks below go to the next commit */

    ngx_queue_init(&batch);
    ngx_queue_add(&batch, &store->writes);
    ngx_queue_init(&store->writes);

    txn = ngx_http_agnitel_store_write(store, ev->log);
    n = 0;

    for (q = ngx_queue_head(&batch);
         q != ngx_queue_sentinel(&batch);
         q = ngx_queue_next(q))
    {
        w = ngx_queue_data(q, ngx_http_agnitel_write_t, queue);

        if (txn == NULL) {
            w->rc = MDB_PANIC;
            continue;
        }

        ngx_http_agnitel_commit_apply(store, txn, w);
        n++;
    }

    if (txn) {
        rc = mdb_txn_commit(txn);

        if (rc != 0) {
            ngx_log_error(NGX_LOG_ALERT, ev->log, 0,
                          "agnitel_store: commit of %ui writes failed: %s",
                          n, mdb_strerror(rc));

            for (q = ngx_queue_head(&batch);
                 q != ngx_queue_sentinel(&batch);
                 q = ngx_queue_next(q))
            {
                w = ngx_queue_data(q, ngx_http_agnitel_write_t, queue);

                if (w->rc == 0) {
                    w->rc = rc;
                }
            }
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                       "agnitel commit: %ui writes", n);
    }

    /* the writes are durable (or not): now their requests may hear so */

    while (!ngx_queue_empty(&batch)) {
        q = ngx_queue_head(&batch);
        ngx_queue_remove(q);

        w = ngx_queue_data(q, ngx_http_agnitel_write_t, queue);
        w->committed(w);
    }
}


/* one write in a nested transaction: a failure undoes it alone */

static void
ngx_http_agnitel_commit_apply(ngx_http_agnitel_store_t *store, MDB_txn *txn,
    ngx_http_agnitel_write_t *w)
{
    MDB_txn  *child;

    w->rc = mdb_txn_begin(store->env, txn, 0, &child);

    if (w->rc != 0) {
        return;
    }

    w->rc = w->apply(child, w->data);

    if (w->rc != 0) {
        mdb_txn_abort(child);
        return;
    }

    w->rc = mdb_txn_commit(child);
}


/*
 * A request's write: the request is kept (count, and blocked against a
 * client abort freeing it) until the commit that holds its write is over,
 * and only then answered.
 */

ngx_int_t
ngx_http_agnitel_write(ngx_http_request_t *r, ngx_http_agnitel_apply_pt apply,
    ngx_http_agnitel_written_pt written, void *data)
{
    ngx_http_agnitel_main_conf_t      *amcf;
    ngx_http_agnitel_request_write_t  *rw;

    rw = ngx_palloc(r->pool, sizeof(ngx_http_agnitel_request_write_t));
    if (rw == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rw->w.apply = apply;
    rw->w.data = data;
    rw->w.committed = ngx_http_agnitel_request_written;
    rw->request = r;
    rw->written = written;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    r->main->count++;
    r->main->blocked++;

    ngx_http_agnitel_commit_post(amcf->store, &rw->w);

    return NGX_DONE;
}


static void
ngx_http_agnitel_request_written(ngx_http_agnitel_write_t *w)
{
    ngx_http_agnitel_request_write_t *rw = (ngx_http_agnitel_request_write_t *) w;

    ngx_int_t            rc;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = rw->request;
    c = r->connection;

    r->main->blocked--;

    rc = rw->written(r, w->data, w->rc);

    ngx_http_finalize_request(r, ngx_http_agnitel_done(r, rc));
    ngx_http_run_posted_requests(c);
}
