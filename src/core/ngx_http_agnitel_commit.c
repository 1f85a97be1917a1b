
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


#if (NGX_THREADS)

/* the batch a thread commits */
typedef struct {
    ngx_http_agnitel_store_t       *store;
    ngx_queue_t                     batch;
} ngx_http_agnitel_commit_ctx_t;


static ngx_int_t ngx_http_agnitel_commit_thread_post(
    ngx_http_agnitel_store_t *store);
static void ngx_http_agnitel_commit_thread(void *data, ngx_log_t *log);
static void ngx_http_agnitel_commit_thread_done(ngx_event_t *ev);
static ngx_uint_t ngx_http_agnitel_commit_pending(
    ngx_http_agnitel_store_t *store);

#endif

static void ngx_http_agnitel_commit_handler(ngx_event_t *ev);
static void ngx_http_agnitel_commit_take(ngx_http_agnitel_store_t *store,
    ngx_queue_t *batch);
static void ngx_http_agnitel_commit_batch(ngx_http_agnitel_store_t *store,
    MDB_txn *txn, ngx_queue_t *batch, ngx_log_t *log);
static ngx_uint_t ngx_http_agnitel_commit_apply(
    ngx_http_agnitel_store_t *store, MDB_txn *txn, ngx_queue_t *batch,
    ngx_uint_t nested);
static void ngx_http_agnitel_commit_fail(ngx_queue_t *batch, int rc);
static void ngx_http_agnitel_commit_notify(ngx_queue_t *batch);
static void ngx_http_agnitel_request_written(ngx_http_agnitel_write_t *w);


/*
 * Queues a write for the next commit.  The commit event is posted, and
 * posted events run after all the events epoll returned, so every request
 * made ready in this pass of the event loop joins it.
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

#if (NGX_THREADS)
        if (store->thread_pool
            && ngx_thread_mutex_create(&store->mutex, ngx_cycle->log)
               != NGX_OK)
        {
            store->thread_pool = NULL;
        }
#endif
    }

    w->rc = 0;

#if (NGX_THREADS)
    if (store->thread_pool) {
        (void) ngx_thread_mutex_lock(&store->mutex, ngx_cycle->log);
        ngx_queue_insert_tail(&store->writes, &w->queue);
        (void) ngx_thread_mutex_unlock(&store->mutex, ngx_cycle->log);

    } else
#endif
    {
        ngx_queue_insert_tail(&store->writes, &w->queue);
    }

    if (!store->commit.posted) {
        ngx_post_event(&store->commit, &ngx_posted_events);
    }
}


static void
ngx_http_agnitel_commit_handler(ngx_event_t *ev)
{
    ngx_http_agnitel_store_t *store = ev->data;

    ngx_queue_t  batch;

#if (NGX_THREADS)

    if (store->thread_pool) {

        if (!ngx_http_agnitel_commit_pending(store)) {
            return;
        }

        /* NGX_DECLINED: the commits under way take them, or post us again */

        if (ngx_http_agnitel_commit_thread_post(store) != NGX_ERROR) {
            return;
        }
    }

#endif

    ngx_http_agnitel_commit_take(store, &batch);

    if (ngx_queue_empty(&batch)) {
        return;
    }

    ngx_http_agnitel_commit_batch(store,
                                  ngx_http_agnitel_store_write(store, ev->log),
                                  &batch, ev->log);
    ngx_http_agnitel_commit_notify(&batch);
}


/* the writes queued so far make the batch; later ones, the next */

static void
ngx_http_agnitel_commit_take(ngx_http_agnitel_store_t *store,
    ngx_queue_t *batch)
{
    ngx_queue_init(batch);

#if (NGX_THREADS)
    if (store->thread_pool) {
        (void) ngx_thread_mutex_lock(&store->mutex, ngx_cycle->log);
    }
#endif

    if (!ngx_queue_empty(&store->writes)) {
        ngx_queue_add(batch, &store->writes);
        ngx_queue_init(&store->writes);
    }

#if (NGX_THREADS)
    if (store->thread_pool) {
        (void) ngx_thread_mutex_unlock(&store->mutex, ngx_cycle->log);
    }
#endif
}


/*
 * One transaction for the batch.  The writes run in it directly; should
 * one fail, they all run again, each in a nested transaction of its own,
 * so that a failure undoes only its own changes.  A failure is rare (a
 * number taken, say), nested transactions are not free, and every write
 * can run twice: it reads what it needs inside the transaction.
 */

static void
ngx_http_agnitel_commit_batch(ngx_http_agnitel_store_t *store, MDB_txn *txn,
    ngx_queue_t *batch, ngx_log_t *log)
{
    int  rc;

    if (txn == NULL) {
        ngx_http_agnitel_commit_fail(batch, MDB_PANIC);
        return;
    }

    if (ngx_http_agnitel_commit_apply(store, txn, batch, 0) != 0) {
        mdb_txn_abort(txn);

        txn = ngx_http_agnitel_store_write(store, log);
        if (txn == NULL) {
            ngx_http_agnitel_commit_fail(batch, MDB_PANIC);
            return;
        }

        (void) ngx_http_agnitel_commit_apply(store, txn, batch, 1);
    }

    rc = ngx_http_agnitel_store_commit(txn);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0, "agnitel commit: %d", rc);

    if (rc != 0) {
        if (rc != NGX_HTTP_AGNITEL_UNSYNCED) {
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "agnitel_store: a commit failed: %s",
                          mdb_strerror(rc));
        }

        ngx_http_agnitel_commit_fail(batch, rc);
    }
}


/* runs the batch's writes; in flat mode it stops at the first failure */

static ngx_uint_t
ngx_http_agnitel_commit_apply(ngx_http_agnitel_store_t *store, MDB_txn *txn,
    ngx_queue_t *batch, ngx_uint_t nested)
{
    MDB_txn                   *child;
    ngx_uint_t                 failed;
    ngx_queue_t               *q;
    ngx_http_agnitel_write_t  *w;

    failed = 0;

    for (q = ngx_queue_head(batch);
         q != ngx_queue_sentinel(batch);
         q = ngx_queue_next(q))
    {
        w = ngx_queue_data(q, ngx_http_agnitel_write_t, queue);

        if (!nested) {
            w->rc = w->apply(txn, w->data);

            if (w->rc != 0) {
                return 1;
            }

            continue;
        }

        w->rc = mdb_txn_begin(store->env, txn, 0, &child);

        if (w->rc == 0) {
            w->rc = w->apply(child, w->data);

            if (w->rc == 0) {
                w->rc = mdb_txn_commit(child);

            } else {
                mdb_txn_abort(child);
            }
        }

        failed += (w->rc != 0);
    }

    return failed;
}


static void
ngx_http_agnitel_commit_fail(ngx_queue_t *batch, int rc)
{
    ngx_queue_t               *q;
    ngx_http_agnitel_write_t  *w;

    for (q = ngx_queue_head(batch);
         q != ngx_queue_sentinel(batch);
         q = ngx_queue_next(q))
    {
        w = ngx_queue_data(q, ngx_http_agnitel_write_t, queue);

        if (w->rc == 0) {
            w->rc = rc;
        }
    }
}


/* the writes are durable (or not): now those who made them may hear so */

static void
ngx_http_agnitel_commit_notify(ngx_queue_t *batch)
{
    ngx_queue_t               *q;
    ngx_http_agnitel_write_t  *w;

    while (!ngx_queue_empty(batch)) {
        q = ngx_queue_head(batch);
        ngx_queue_remove(q);

        w = ngx_queue_data(q, ngx_http_agnitel_write_t, queue);
        w->committed(w);
    }
}


#if (NGX_THREADS)

/*
 * The commit, fsync included, runs in a thread of nginx's default pool, so
 * that the event loop goes on reading requests meanwhile.  The thread takes
 * the queued writes only once it holds LMDB's writer lock: while another
 * worker commits, this one's writes pile up and then share one commit.
 * While one task makes its last sync, outside the lock, a second may take
 * the lock and the writes that came meanwhile.
 * The transaction begins and ends in that thread, within one task, as LMDB
 * wants of a write transaction; the requests whose writes it holds are
 * blocked, so nothing else touches their pools meanwhile.
 */

static ngx_int_t
ngx_http_agnitel_commit_thread_post(ngx_http_agnitel_store_t *store)
{
    ngx_uint_t                      i;
    ngx_thread_task_t              *task;
    ngx_http_agnitel_commit_ctx_t  *ctx;

    for (i = 0; i < NGX_HTTP_AGNITEL_COMMITS; i++) {
        task = store->tasks[i];

        if (task == NULL || !task->event.active) {
            break;
        }
    }

    if (i == NGX_HTTP_AGNITEL_COMMITS) {
        return NGX_DECLINED;
    }

    if (task == NULL) {
        task = ngx_thread_task_alloc(ngx_cycle->pool,
                                     sizeof(ngx_http_agnitel_commit_ctx_t));
        if (task == NULL) {
            return NGX_ERROR;
        }

        ctx = task->ctx;
        ctx->store = store;

        task->handler = ngx_http_agnitel_commit_thread;
        task->event.handler = ngx_http_agnitel_commit_thread_done;
        task->event.data = task;
        task->event.log = ngx_cycle->log;

        store->tasks[i] = task;
    }

    ctx = task->ctx;
    ngx_queue_init(&ctx->batch);

    if (ngx_thread_task_post(store->thread_pool, task) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_agnitel_commit_thread(void *data, ngx_log_t *log)
{
    ngx_http_agnitel_commit_ctx_t  *ctx = data;

    MDB_txn  *txn;

    txn = ngx_http_agnitel_store_write(ctx->store, log);

    ngx_http_agnitel_commit_take(ctx->store, &ctx->batch);

    if (ngx_queue_empty(&ctx->batch)) {
        if (txn) {
            mdb_txn_abort(txn);
        }

        return;
    }

    ngx_http_agnitel_commit_batch(ctx->store, txn, &ctx->batch, log);
}


static void
ngx_http_agnitel_commit_thread_done(ngx_event_t *ev)
{
    ngx_thread_task_t  *task = ev->data;

    ngx_http_agnitel_store_t       *store;
    ngx_http_agnitel_commit_ctx_t  *ctx;

    ctx = task->ctx;
    store = ctx->store;

    ngx_http_agnitel_commit_notify(&ctx->batch);

    /* writes that came too late for this commit make the next */

    if (ngx_http_agnitel_commit_pending(store) && !store->commit.posted) {
        ngx_post_event(&store->commit, &ngx_posted_events);
    }
}


/* whether writes are queued: the commit thread may be taking them */

static ngx_uint_t
ngx_http_agnitel_commit_pending(ngx_http_agnitel_store_t *store)
{
    ngx_uint_t  pending;

    (void) ngx_thread_mutex_lock(&store->mutex, ngx_cycle->log);
    pending = !ngx_queue_empty(&store->writes);
    (void) ngx_thread_mutex_unlock(&store->mutex, ngx_cycle->log);

    return pending;
}

#endif


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
