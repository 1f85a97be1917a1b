
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

/* a write of the ring that a commit task took */
typedef struct {
    ngx_http_agnitel_write_t        w;
    ngx_http_agnitel_slot_t        *slot;
} ngx_http_agnitel_taken_t;


/* the batch a thread commits */
typedef struct {
    ngx_http_agnitel_store_t       *store;
    ngx_queue_t                     batch;

    /* room for every slot of the ring, and those it took */
    ngx_http_agnitel_taken_t       *taken;
    ngx_uint_t                      ntaken;
    ngx_uint_t                      others;     /* of other workers */
    ngx_uint_t                      retaken;    /* of a dead committer */
} ngx_http_agnitel_commit_ctx_t;


static ngx_int_t ngx_http_agnitel_commit_share(
    ngx_http_agnitel_store_t *store, ngx_http_agnitel_write_t *w);
static ngx_int_t ngx_http_agnitel_commit_thread_post(
    ngx_http_agnitel_store_t *store);
static ngx_thread_task_t *ngx_http_agnitel_commit_task(
    ngx_http_agnitel_store_t *store);
static void ngx_http_agnitel_commit_thread(void *data, ngx_log_t *log);
static void ngx_http_agnitel_commit_take_shared(
    ngx_http_agnitel_commit_ctx_t *ctx, ngx_log_t *log);
#if (NGX_DEBUG)
static ngx_uint_t ngx_http_agnitel_commit_count(ngx_queue_t *batch);
#endif
static void ngx_http_agnitel_commit_mark(ngx_http_agnitel_commit_ctx_t *ctx,
    ngx_uint_t state);
static void ngx_http_agnitel_commit_thread_done(ngx_event_t *ev);
static void ngx_http_agnitel_commit_next(ngx_http_agnitel_store_t *store);
static void ngx_http_agnitel_commit_report(ngx_http_agnitel_store_t *store);
static void ngx_http_agnitel_commit_woken(ngx_event_t *ev);
static ngx_uint_t ngx_http_agnitel_commit_pending(
    ngx_http_agnitel_store_t *store);

#endif

static void ngx_http_agnitel_commit_init(ngx_http_agnitel_store_t *store);
static void ngx_http_agnitel_commit_handler(ngx_event_t *ev);
static void ngx_http_agnitel_commit_take(ngx_http_agnitel_store_t *store,
    ngx_queue_t *batch);
static MDB_txn *ngx_http_agnitel_commit_run(ngx_http_agnitel_store_t *store,
    MDB_txn *txn, ngx_queue_t *batch, ngx_log_t *log);
static int ngx_http_agnitel_commit_txn(MDB_txn *txn, ngx_queue_t *batch,
    ngx_log_t *log);
static void ngx_http_agnitel_commit_sync(ngx_http_agnitel_store_t *store,
    ngx_queue_t *batch);
static ngx_uint_t ngx_http_agnitel_commit_apply(
    ngx_http_agnitel_store_t *store, MDB_txn *txn, ngx_queue_t *batch,
    ngx_uint_t nested);
static int ngx_http_agnitel_commit_one(ngx_http_agnitel_store_t *store,
    MDB_txn *txn, ngx_http_agnitel_write_t *w);
static void ngx_http_agnitel_commit_fail(ngx_queue_t *batch, int rc);
static void ngx_http_agnitel_commit_notify(ngx_queue_t *batch);
static ngx_int_t ngx_http_agnitel_request_write(ngx_http_request_t *r,
    ngx_http_agnitel_apply_pt apply, ngx_http_agnitel_run_pt run,
    ngx_str_t *blob, ngx_http_agnitel_written_pt written, void *data);
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
    ngx_http_agnitel_commit_init(store);

    w->rc = 0;

#if (NGX_THREADS)
    if (store->ring && w->run
        && ngx_http_agnitel_commit_share(store, w) == NGX_OK)
    {
        /* in the ring, for any worker's commit */

    } else if (store->thread_pool) {
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
ngx_http_agnitel_commit_init(ngx_http_agnitel_store_t *store)
{
    if (store->commit.handler) {
        return;
    }

    ngx_queue_init(&store->writes);
    store->commit.handler = ngx_http_agnitel_commit_handler;
    store->commit.data = store;
    store->commit.log = ngx_cycle->log;

#if (NGX_THREADS)
    if (store->thread_pool
        && ngx_thread_mutex_create(&store->mutex, ngx_cycle->log) != NGX_OK)
    {
        store->thread_pool = NULL;
        store->ring = NULL;
    }
#endif
}


static void
ngx_http_agnitel_commit_handler(ngx_event_t *ev)
{
    ngx_http_agnitel_store_t *store = ev->data;

    MDB_txn      *txn;
    ngx_queue_t   batch;

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

    txn = ngx_http_agnitel_commit_run(store,
                                      ngx_http_agnitel_store_write(store,
                                                                   ev->log),
                                      &batch, ev->log);

    if (txn && ngx_http_agnitel_commit_txn(txn, &batch, ev->log) == 0) {
        ngx_http_agnitel_commit_sync(store, &batch);
    }

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
 * can run twice: it reads what it needs inside the transaction.  Returns
 * the transaction to commit, or NULL with the batch failed.
 */

static MDB_txn *
ngx_http_agnitel_commit_run(ngx_http_agnitel_store_t *store, MDB_txn *txn,
    ngx_queue_t *batch, ngx_log_t *log)
{
    if (txn == NULL) {
        ngx_http_agnitel_commit_fail(batch, MDB_PANIC);
        return NULL;
    }

    if (ngx_http_agnitel_commit_apply(store, txn, batch, 0) != 0) {
        mdb_txn_abort(txn);

        txn = ngx_http_agnitel_store_write(store, log);
        if (txn == NULL) {
            ngx_http_agnitel_commit_fail(batch, MDB_PANIC);
            return NULL;
        }

        (void) ngx_http_agnitel_commit_apply(store, txn, batch, 1);
    }

    return txn;
}


/*
 * The commit syncs the data pages and writes the meta page; the meta
 * page's own sync comes after LMDB's writer lock is released (see
 * ngx_http_agnitel_store_commit()).
 */

static int
ngx_http_agnitel_commit_txn(MDB_txn *txn, ngx_queue_t *batch, ngx_log_t *log)
{
    int  rc;

    rc = mdb_txn_commit(txn);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0, "agnitel commit: %d", rc);

    if (rc != 0) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "agnitel_store: a commit failed: %s", mdb_strerror(rc));

        ngx_http_agnitel_commit_fail(batch, rc);
    }

    return rc;
}


static void
ngx_http_agnitel_commit_sync(ngx_http_agnitel_store_t *store,
    ngx_queue_t *batch)
{
    if (ngx_http_agnitel_store_sync(store->env) != 0) {
        ngx_http_agnitel_commit_fail(batch, NGX_HTTP_AGNITEL_UNSYNCED);
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
            w->rc = ngx_http_agnitel_commit_one(store, txn, w);

            if (w->rc != 0) {
                return 1;
            }

            continue;
        }

        w->rc = mdb_txn_begin(store->env, txn, 0, &child);

        if (w->rc == 0) {
            w->rc = ngx_http_agnitel_commit_one(store, child, w);

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


static int
ngx_http_agnitel_commit_one(ngx_http_agnitel_store_t *store, MDB_txn *txn,
    ngx_http_agnitel_write_t *w)
{
    if (w->run) {
        return w->run(txn, store, w->blob.data, w->blob.len);
    }

    return w->apply(txn, w->data);
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

/* the write in a slot of the ring, for whichever worker commits next */

static ngx_int_t
ngx_http_agnitel_commit_share(ngx_http_agnitel_store_t *store,
    ngx_http_agnitel_write_t *w)
{
    ngx_int_t  i;

    i = ngx_http_agnitel_ring_copy(store->ring, w->run, &w->blob);

    if (i == -1) {
        return NGX_DECLINED;
    }

    /* set before a committer may take it (ngx_http_agnitel_commit_report()) */

    store->ring_writes[i] = w;

    ngx_http_agnitel_ring_set(ngx_http_agnitel_ring_slot(store->ring, i),
                              NGX_HTTP_AGNITEL_SLOT_PUBLISHED, 0);

    return NGX_OK;
}


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
        task = ngx_http_agnitel_commit_task(store);
        if (task == NULL) {
            return NGX_ERROR;
        }

        store->tasks[i] = task;
    }

    ctx = task->ctx;
    ngx_queue_init(&ctx->batch);
    ctx->ntaken = 0;
    ctx->others = 0;
    ctx->retaken = 0;

    if (ngx_thread_task_post(store->thread_pool, task) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_thread_task_t *
ngx_http_agnitel_commit_task(ngx_http_agnitel_store_t *store)
{
    ngx_thread_task_t              *task;
    ngx_http_agnitel_commit_ctx_t  *ctx;

    task = ngx_thread_task_alloc(ngx_cycle->pool,
                                 sizeof(ngx_http_agnitel_commit_ctx_t));
    if (task == NULL) {
        return NULL;
    }

    ctx = task->ctx;
    ctx->store = store;

    if (store->ring) {
        ctx->taken = ngx_palloc(ngx_cycle->pool,
                                ngx_http_agnitel_ring_size(store->ring)
                                * sizeof(ngx_http_agnitel_taken_t));
        if (ctx->taken == NULL) {
            return NULL;
        }
    }

    task->handler = ngx_http_agnitel_commit_thread;
    task->event.handler = ngx_http_agnitel_commit_thread_done;
    task->event.data = task;
    task->event.log = ngx_cycle->log;

    return task;
}


/*
 * Holding the writer lock, the task grows the data file ahead if it runs
 * short (ngx_http_agnitel_store_grow()), then takes this worker's queued
 * writes and every worker's in the ring.  Once the commit is on disk, it
 * marks the ring's writes done, and wakes their workers.
 */

static void
ngx_http_agnitel_commit_thread(void *data, ngx_log_t *log)
{
    ngx_http_agnitel_commit_ctx_t  *ctx = data;

    MDB_txn                   *txn;
    ngx_http_agnitel_store_t  *store;

    store = ctx->store;

    txn = ngx_http_agnitel_store_write(store, log);

    if (txn) {
        ngx_http_agnitel_store_grow(store, log);
    }

    ngx_http_agnitel_commit_take(store, &ctx->batch);

    if (store->ring && txn) {
        ngx_http_agnitel_commit_take_shared(ctx, log);
    }

    if (ngx_queue_empty(&ctx->batch)) {
        if (txn) {
            mdb_txn_abort(txn);
        }

        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "agnitel commit of %ui writes, %ui of other workers",
                   ngx_http_agnitel_commit_count(&ctx->batch), ctx->others);

    txn = ngx_http_agnitel_commit_run(store, txn, &ctx->batch, log);

    if (txn) {
        ngx_http_agnitel_commit_mark(ctx, NGX_HTTP_AGNITEL_SLOT_APPLIED);

        if (ngx_http_agnitel_commit_txn(txn, &ctx->batch, log) == 0) {
            ngx_http_agnitel_commit_sync(store, &ctx->batch);
        }
    }

    ngx_http_agnitel_commit_mark(ctx, NGX_HTTP_AGNITEL_SLOT_DONE);
}


#if (NGX_DEBUG)

static ngx_uint_t
ngx_http_agnitel_commit_count(ngx_queue_t *batch)
{
    ngx_uint_t    n;
    ngx_queue_t  *q;

    n = 0;

    for (q = ngx_queue_head(batch);
         q != ngx_queue_sentinel(batch);
         q = ngx_queue_next(q))
    {
        n++;
    }

    return n;
}

#endif


static void
ngx_http_agnitel_commit_take_shared(ngx_http_agnitel_commit_ctx_t *ctx,
    ngx_log_t *log)
{
    ngx_int_t                  rc;
    ngx_pid_t                  live;
    ngx_uint_t                 i, n, worker;
    ngx_http_agnitel_ring_t   *ring;
    ngx_http_agnitel_slot_t   *slot;
    ngx_http_agnitel_taken_t  *t;

    ring = ctx->store->ring;
    n = ngx_http_agnitel_ring_size(ring);
    live = 0;

    for (i = 0; i < n; i++) {
        slot = &ring->slots[i];

        rc = ngx_http_agnitel_ring_take(slot, &live);

        if (rc == NGX_DECLINED) {
            continue;
        }

        worker = ngx_http_agnitel_ring_worker(ring, slot);

        if (rc == NGX_DONE) {
            ngx_http_agnitel_ring_wake(ring, worker);
            continue;
        }

        ctx->others += (worker != (ngx_uint_t) ngx_worker);
        ctx->retaken += (rc == NGX_AGAIN);

        t = &ctx->taken[ctx->ntaken++];

        ngx_memzero(&t->w, sizeof(ngx_http_agnitel_write_t));
        t->w.run = slot->run;
        t->w.blob.data = slot->data;
        t->w.blob.len = slot->len;
        t->slot = slot;

        ngx_queue_insert_tail(&ctx->batch, &t->w.queue);
    }

    if (ctx->retaken) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "agnitel: a commit takes up %ui writes of a worker "
                      "that died committing them", ctx->retaken);
    }
}


/*
 * The ring's writes in the batch: run (before the commit), or done (on
 * disk, or failed); done, they leave the batch, and their workers, woken,
 * answer them.  They were taken in the ring's order, so grouped by worker.
 */

static void
ngx_http_agnitel_commit_mark(ngx_http_agnitel_commit_ctx_t *ctx,
    ngx_uint_t state)
{
    ngx_uint_t                 i, worker;
    ngx_http_agnitel_ring_t   *ring;
    ngx_http_agnitel_taken_t  *t;

    ring = ctx->store->ring;

    for (i = 0; i < ctx->ntaken; i++) {
        t = &ctx->taken[i];

        ngx_http_agnitel_ring_set(t->slot, state, t->w.rc);

        if (state != NGX_HTTP_AGNITEL_SLOT_DONE) {
            continue;
        }

        ngx_queue_remove(&t->w.queue);

        worker = ngx_http_agnitel_ring_worker(ring, t->slot);

        if (i + 1 == ctx->ntaken
            || worker != ngx_http_agnitel_ring_worker(ring, t[1].slot))
        {
            ngx_http_agnitel_ring_wake(ring, worker);
        }
    }
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

    if (store->ring) {
        ngx_http_agnitel_commit_report(store);
    }

    ngx_http_agnitel_commit_next(store);
}


/* writes that came too late for the commits so far make the next */

static void
ngx_http_agnitel_commit_next(ngx_http_agnitel_store_t *store)
{
    if (ngx_http_agnitel_commit_pending(store) && !store->commit.posted) {
        ngx_post_event(&store->commit, &ngx_posted_events);
    }
}


/*
 * This worker's writes in the ring that a commit has done are answered,
 * and their slots freed.  A slot done with no write of this worker was
 * published by the worker this one replaced: it is only freed.  The write
 * is set before its slot is published, and cleared once it is free.
 */

static void
ngx_http_agnitel_commit_report(ngx_http_agnitel_store_t *store)
{
    ngx_uint_t                 i;
    ngx_queue_t                done;
    ngx_http_agnitel_slot_t   *slot;
    ngx_http_agnitel_write_t  *w;

    ngx_queue_init(&done);

    for (i = 0; i < NGX_HTTP_AGNITEL_RING_SLOTS; i++) {
        slot = ngx_http_agnitel_ring_slot(store->ring, i);

        if (slot->state != NGX_HTTP_AGNITEL_SLOT_DONE) {
            continue;
        }

        ngx_memory_barrier();

        w = store->ring_writes[i];

        if (w) {
            w->rc = slot->rc;
            ngx_queue_insert_tail(&done, &w->queue);
            store->ring_writes[i] = NULL;
        }

        ngx_http_agnitel_ring_set(slot, NGX_HTTP_AGNITEL_SLOT_FREE, 0);
    }

    ngx_http_agnitel_commit_notify(&done);
}


/* another worker's commit has done writes of this one */

static void
ngx_http_agnitel_commit_woken(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    uint64_t                   n;
    ngx_http_agnitel_store_t  *store;

    store = c->data;

    if (store->ring == NULL) {
        return;
    }

    /* one read takes the whole count, and rearms the edge-triggered event */

    (void) read(c->fd, &n, sizeof(uint64_t));

    ngx_http_agnitel_commit_report(store);
    ngx_http_agnitel_commit_next(store);
}


/*
 * init_process: this worker listens to its eventfd; and if a committer
 * died holding writes, a commit now takes them up (see
 * ngx_http_agnitel_ring_take()).
 */

ngx_int_t
ngx_http_agnitel_commit_listen(ngx_http_agnitel_store_t *store,
    ngx_cycle_t *cycle)
{
    ngx_connection_t  *c;

    ngx_http_agnitel_ring_reset(store->ring);

    c = ngx_get_connection(store->ring->notify[ngx_worker], cycle->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = store;
    c->read->handler = ngx_http_agnitel_commit_woken;
    c->read->log = cycle->log;

    if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_CLEAR_EVENT) != NGX_OK) {
        ngx_free_connection(c);
        return NGX_ERROR;
    }

    store->ring_notify = c;

    ngx_http_agnitel_commit_init(store);

    if (store->ring && ngx_http_agnitel_ring_orphans(store->ring)) {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "agnitel: taking up the writes of a worker that "
                      "died committing them");

        if (ngx_http_agnitel_commit_thread_post(store) == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* exit_process: the eventfd stays open for the master and the others */

void
ngx_http_agnitel_commit_unlisten(ngx_http_agnitel_store_t *store)
{
    ngx_connection_t  *c;

    c = store->ring_notify;

    if (c == NULL) {
        return;
    }

    (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
    c->fd = (ngx_socket_t) -1;
    ngx_free_connection(c);

    store->ring_notify = NULL;
}


/* whether writes wait for a commit task: queued, or in the ring untaken */

static ngx_uint_t
ngx_http_agnitel_commit_pending(ngx_http_agnitel_store_t *store)
{
    ngx_uint_t  pending;

    (void) ngx_thread_mutex_lock(&store->mutex, ngx_cycle->log);
    pending = !ngx_queue_empty(&store->writes);
    (void) ngx_thread_mutex_unlock(&store->mutex, ngx_cycle->log);

    if (!pending && store->ring) {
        pending = ngx_http_agnitel_ring_waiting(store->ring);
    }

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
    return ngx_http_agnitel_request_write(r, apply, NULL, NULL, written, data);
}


/*
 * A write described by its bytes alone, which another worker's commit may
 * run (see ngx_http_agnitel_ring.h); "blob" lives as long as the request.
 */

ngx_int_t
ngx_http_agnitel_write_shared(ngx_http_request_t *r,
    ngx_http_agnitel_run_pt run, ngx_str_t *blob,
    ngx_http_agnitel_written_pt written, void *data)
{
    return ngx_http_agnitel_request_write(r, NULL, run, blob, written, data);
}


static ngx_int_t
ngx_http_agnitel_request_write(ngx_http_request_t *r,
    ngx_http_agnitel_apply_pt apply, ngx_http_agnitel_run_pt run,
    ngx_str_t *blob, ngx_http_agnitel_written_pt written, void *data)
{
    ngx_http_agnitel_main_conf_t      *amcf;
    ngx_http_agnitel_request_write_t  *rw;

    rw = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_request_write_t));
    if (rw == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rw->w.apply = apply;
    rw->w.data = data;
    rw->w.run = run;

    if (blob) {
        rw->w.blob = *blob;
    }

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
