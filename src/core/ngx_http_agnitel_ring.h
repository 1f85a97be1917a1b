
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_RING_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_RING_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <lmdb.h>

#include "ngx_http_agnitel.h"


/*
 * Writes shared between the workers.  LMDB lets one process write at a
 * time, and a commit's data sync holds its writer lock; with each worker
 * committing only its own writes, a write waits for the other worker's
 * whole commit before its own worker's turn.  So a worker puts the writes
 * it can describe as bytes into its part of this ring, in memory the
 * master maps before it forks the workers, and whichever commit takes the
 * writer lock next runs every worker's writes in its transaction.  Once
 * that commit is on disk, the committer marks them done and wakes their
 * workers (an eventfd each), which answer their own requests.
 *
 * A slot moves FREE -> PUBLISHED (its worker) -> TAKEN -> APPLIED -> DONE
 * (the committer, holding the writer lock until APPLIED) -> FREE (its
 * worker, having answered).
 */

#define NGX_HTTP_AGNITEL_RING_SLOTS   64         /* a worker's */
#define NGX_HTTP_AGNITEL_RING_DATA    2000


/* runs a shared write: what it needs is in data, its copied bytes */
typedef int (*ngx_http_agnitel_run_pt)(MDB_txn *txn,
    ngx_http_agnitel_store_t *store, u_char *data, size_t len);


enum {
    NGX_HTTP_AGNITEL_SLOT_FREE = 0,
    NGX_HTTP_AGNITEL_SLOT_PUBLISHED,
    NGX_HTTP_AGNITEL_SLOT_TAKEN,
    NGX_HTTP_AGNITEL_SLOT_APPLIED,
    NGX_HTTP_AGNITEL_SLOT_DONE
};


typedef struct {
    ngx_atomic_t                    state;
    ngx_pid_t                       committer;
    int                             rc;
    /*
     * A function of the module: the workers of one cycle are forks of one
     * master with the module at one address, and each cycle maps a ring
     * of its own, so the workers of an old cycle never see it.
     */
    ngx_http_agnitel_run_pt         run;
    size_t                          len;
    u_char                          data[NGX_HTTP_AGNITEL_RING_DATA];
} ngx_http_agnitel_slot_t;


struct ngx_http_agnitel_ring_s {
    ngx_uint_t                      workers;
    ngx_fd_t                       *notify;    /* an eventfd a worker */
    ngx_http_agnitel_slot_t         slots[1];
};


ngx_http_agnitel_ring_t *ngx_http_agnitel_ring_create(ngx_cycle_t *cycle);
void ngx_http_agnitel_ring_reset(ngx_http_agnitel_ring_t *ring);
ngx_int_t ngx_http_agnitel_ring_copy(ngx_http_agnitel_ring_t *ring,
    ngx_http_agnitel_run_pt run, ngx_str_t *data);
ngx_http_agnitel_slot_t *ngx_http_agnitel_ring_slot(
    ngx_http_agnitel_ring_t *ring, ngx_uint_t i);
ngx_int_t ngx_http_agnitel_ring_take(ngx_http_agnitel_slot_t *slot,
    ngx_pid_t *live);
void ngx_http_agnitel_ring_set(ngx_http_agnitel_slot_t *slot,
    ngx_uint_t state, int rc);
ngx_uint_t ngx_http_agnitel_ring_waiting(ngx_http_agnitel_ring_t *ring);
ngx_uint_t ngx_http_agnitel_ring_orphans(ngx_http_agnitel_ring_t *ring);
ngx_uint_t ngx_http_agnitel_ring_worker(ngx_http_agnitel_ring_t *ring,
    ngx_http_agnitel_slot_t *slot);
void ngx_http_agnitel_ring_wake(ngx_http_agnitel_ring_t *ring,
    ngx_uint_t worker);


#define ngx_http_agnitel_ring_size(ring)                                      \
    ((ring)->workers * NGX_HTTP_AGNITEL_RING_SLOTS)


/*
 * What a write answers when the worker that committed it died between
 * running it and reporting the commit: it may or may not be in the store.
 */
#define NGX_HTTP_AGNITEL_ORPHANED     (MDB_KEYEXIST + 1001)


#endif /* _NGX_HTTP_AGNITEL_RING_H_INCLUDED_ */
