
/*
 * Copyright (C) agnitel
 */


#include <ngx_config.h>
#include <ngx_core.h>

#if (NGX_HAVE_SYS_EVENTFD_H)
#include <sys/eventfd.h>
#endif

#include "ngx_http_agnitel_ring.h"


#if (NGX_HAVE_SYS_EVENTFD_H)
static void ngx_http_agnitel_ring_unmap(void *data);
#endif
static ngx_uint_t ngx_http_agnitel_ring_orphaned(
    ngx_http_agnitel_slot_t *slot, ngx_pid_t *live);


#if (NGX_HAVE_SYS_EVENTFD_H)

/*
 * Runs in the master (init_module), once a cycle: the workers it forks
 * inherit the mapping.  None with a single worker: there is nobody to
 * share with.
 */

ngx_http_agnitel_ring_t *
ngx_http_agnitel_ring_create(ngx_cycle_t *cycle)
{
    ngx_uint_t                i;
    ngx_shm_t                *shm;
    ngx_core_conf_t          *ccf;
    ngx_pool_cleanup_t       *cln;
    ngx_http_agnitel_ring_t  *ring;

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    if (ccf->worker_processes < 2) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(cycle->pool, sizeof(ngx_shm_t));
    if (cln == NULL) {
        return NULL;
    }

    shm = cln->data;

    shm->size = sizeof(ngx_http_agnitel_ring_t)
                + ccf->worker_processes * NGX_HTTP_AGNITEL_RING_SLOTS
                  * sizeof(ngx_http_agnitel_slot_t);
    ngx_str_set(&shm->name, "agnitel_ring");
    shm->log = cycle->log;
    shm->exists = 0;

    if (ngx_shm_alloc(shm) != NGX_OK) {
        return NULL;
    }

    ring = (ngx_http_agnitel_ring_t *) shm->addr;
    cln->handler = ngx_http_agnitel_ring_unmap;

    /* the workers inherit the descriptors, at the same numbers */

    ring->notify = ngx_palloc(cycle->pool,
                              ccf->worker_processes * sizeof(ngx_fd_t));
    if (ring->notify == NULL) {
        return NULL;
    }

    for (i = 0; i < (ngx_uint_t) ccf->worker_processes; i++) {
        /* forked, not exec'd: a new binary (USR2) need not inherit them */
        ring->notify[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

        if (ring->notify[i] == -1) {
            ngx_log_error(NGX_LOG_WARN, cycle->log, ngx_errno,
                          "agnitel: eventfd() failed: each worker commits "
                          "only its own writes");
            return NULL;
        }

        ring->workers = i + 1;
    }

    return ring;
}


static void
ngx_http_agnitel_ring_unmap(void *data)
{
    ngx_shm_t  *shm = data;

    ngx_uint_t                i;
    ngx_http_agnitel_ring_t  *ring;

    ring = (ngx_http_agnitel_ring_t *) shm->addr;

    for (i = 0; i < ring->workers; i++) {
        (void) close(ring->notify[i]);
    }

    ngx_shm_free(shm);
}

#else

/* the workers wake each other with eventfd(2), a Linux call */

ngx_http_agnitel_ring_t *
ngx_http_agnitel_ring_create(ngx_cycle_t *cycle)
{
    return NULL;
}

#endif


/*
 * A worker starting, maybe in place of one that died: its writes nobody
 * took are dropped with their requests, and those done are freed.  A slot
 * a committer holds stays its until it is DONE, and is then freed when
 * this worker looks for its writes done (it has no request to answer).
 */

void
ngx_http_agnitel_ring_reset(ngx_http_agnitel_ring_t *ring)
{
    ngx_uint_t                i;
    ngx_atomic_uint_t         state;
    ngx_http_agnitel_slot_t  *slot;

    for (i = 0; i < NGX_HTTP_AGNITEL_RING_SLOTS; i++) {
        slot = ngx_http_agnitel_ring_slot(ring, i);
        state = slot->state;

        if (state == NGX_HTTP_AGNITEL_SLOT_PUBLISHED
            || state == NGX_HTTP_AGNITEL_SLOT_DONE)
        {
            (void) ngx_atomic_cmp_set(&slot->state, state,
                                      NGX_HTTP_AGNITEL_SLOT_FREE);
        }
    }
}


/* this worker's slot i; ngx_worker is set before init_process */

ngx_http_agnitel_slot_t *
ngx_http_agnitel_ring_slot(ngx_http_agnitel_ring_t *ring, ngx_uint_t i)
{
    return &ring->slots[ngx_worker * NGX_HTTP_AGNITEL_RING_SLOTS + i];
}


/*
 * The event loop: a copy of the write in a free slot of this worker, not
 * yet visible to committers, until it is set PUBLISHED; the slot,
 * or -1 when none is free or the write is too large.
 */

ngx_int_t
ngx_http_agnitel_ring_copy(ngx_http_agnitel_ring_t *ring,
    ngx_http_agnitel_run_pt run, ngx_str_t *data)
{
    ngx_uint_t                i, n;
    ngx_http_agnitel_slot_t  *slot;

    static ngx_uint_t         next;

    if (data->len > NGX_HTTP_AGNITEL_RING_DATA) {
        return -1;
    }

    for (n = 0; n < NGX_HTTP_AGNITEL_RING_SLOTS; n++) {
        i = (next + n) % NGX_HTTP_AGNITEL_RING_SLOTS;
        slot = ngx_http_agnitel_ring_slot(ring, i);

        if (slot->state != NGX_HTTP_AGNITEL_SLOT_FREE) {
            continue;
        }

        slot->run = run;
        slot->len = data->len;
        ngx_memcpy(slot->data, data->data, data->len);

        next = i + 1;

        return i;
    }

    return -1;
}


/*
 * A committer holding LMDB's writer lock takes a slot of any worker that
 * is waiting (NGX_OK), or whose committer died before it ran it (NGX_AGAIN:
 * taken up).  Only the holder of the lock takes, so a slot TAKEN or
 * APPLIED by a live process is that process's, even while it waits for
 * the lock again.  A slot its dead committer had run is done, its outcome
 * unknown (NGX_DONE): its worker is to be woken.  "live" is a committer
 * found alive in this scan.
 */

ngx_int_t
ngx_http_agnitel_ring_take(ngx_http_agnitel_slot_t *slot, ngx_pid_t *live)
{
    switch (slot->state) {

    case NGX_HTTP_AGNITEL_SLOT_PUBLISHED:
        if (!ngx_atomic_cmp_set(&slot->state, NGX_HTTP_AGNITEL_SLOT_PUBLISHED,
                                NGX_HTTP_AGNITEL_SLOT_TAKEN))
        {
            /* its worker dropped it, restarting */
            return NGX_DECLINED;
        }

        break;

    case NGX_HTTP_AGNITEL_SLOT_TAKEN:
        if (!ngx_http_agnitel_ring_orphaned(slot, live)) {
            return NGX_DECLINED;
        }

        /* it never reached a commit: running it again is safe */

        slot->committer = ngx_pid;

        return NGX_AGAIN;

    case NGX_HTTP_AGNITEL_SLOT_APPLIED:
        if (!ngx_http_agnitel_ring_orphaned(slot, live)) {
            return NGX_DECLINED;
        }

        /* its commit may or may not have gone in: say so */

        ngx_http_agnitel_ring_set(slot, NGX_HTTP_AGNITEL_SLOT_DONE,
                                  NGX_HTTP_AGNITEL_ORPHANED);
        return NGX_DONE;

    default:
        return NGX_DECLINED;
    }

    slot->committer = ngx_pid;

    return NGX_OK;
}


/* a live committer's slots stay APPLIED through its last sync */

static ngx_uint_t
ngx_http_agnitel_ring_orphaned(ngx_http_agnitel_slot_t *slot,
    ngx_pid_t *live)
{
    if (slot->committer == ngx_pid || slot->committer == *live) {
        return 0;
    }

    if (kill(slot->committer, 0) == -1 && ngx_errno == NGX_ESRCH) {
        return 1;
    }

    *live = slot->committer;

    return 0;
}


/*
 * The write's outcome, then its new state: by its committer, or by its
 * worker, publishing it (the copy complete) or freeing it.
 */

void
ngx_http_agnitel_ring_set(ngx_http_agnitel_slot_t *slot, ngx_uint_t state,
    int rc)
{
    slot->rc = rc;

    ngx_memory_barrier();
    slot->state = state;
}


/* whether a write of this worker waits for a committer to take it */

ngx_uint_t
ngx_http_agnitel_ring_waiting(ngx_http_agnitel_ring_t *ring)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_AGNITEL_RING_SLOTS; i++) {
        if (ngx_http_agnitel_ring_slot(ring, i)->state
            == NGX_HTTP_AGNITEL_SLOT_PUBLISHED)
        {
            return 1;
        }
    }

    return 0;
}


/* whether a committer died holding writes (checked by its successor) */

ngx_uint_t
ngx_http_agnitel_ring_orphans(ngx_http_agnitel_ring_t *ring)
{
    ngx_pid_t                 live;
    ngx_uint_t                i, n;
    ngx_http_agnitel_slot_t  *slot;

    live = 0;
    n = ngx_http_agnitel_ring_size(ring);

    for (i = 0; i < n; i++) {
        slot = &ring->slots[i];

        if ((slot->state == NGX_HTTP_AGNITEL_SLOT_TAKEN
             || slot->state == NGX_HTTP_AGNITEL_SLOT_APPLIED)
            && ngx_http_agnitel_ring_orphaned(slot, &live))
        {
            return 1;
        }
    }

    return 0;
}


/* the worker whose slot it is */

ngx_uint_t
ngx_http_agnitel_ring_worker(ngx_http_agnitel_ring_t *ring,
    ngx_http_agnitel_slot_t *slot)
{
    return (slot - ring->slots) / NGX_HTTP_AGNITEL_RING_SLOTS;
}


/* tells a worker that writes of its are done */

void
ngx_http_agnitel_ring_wake(ngx_http_agnitel_ring_t *ring, ngx_uint_t worker)
{
    uint64_t  one;

    if (worker == (ngx_uint_t) ngx_worker) {
        /* its own commit task's end tells it */
        return;
    }

    one = 1;

    if (write(ring->notify[worker], &one, sizeof(uint64_t)) == -1
        && ngx_errno != NGX_EAGAIN)
    {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, ngx_errno,
                      "agnitel: write() to worker %ui's eventfd failed",
                      worker);
    }
}
