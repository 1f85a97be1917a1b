
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_COMMIT_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_COMMIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <lmdb.h>

#include "ngx_http_agnitel_store.h"


/*
 * Group commit.  A write is queued, not run: the writes queued in one pass
 * of a worker's event loop (and, with threads, until the commit holds
 * LMDB's writer lock) run in one write transaction and are made durable by
 * one commit.  A write that fails is undone alone (see
 * ngx_http_agnitel_commit_batch()).  Each hears its outcome only after
 * that commit is on disk.
 */

/* does the write inside txn: 0, or an LMDB or errno code that undoes it */
typedef int (*ngx_http_agnitel_apply_pt)(MDB_txn *txn, void *data);

typedef void (*ngx_http_agnitel_committed_pt)(ngx_http_agnitel_write_t *w);

struct ngx_http_agnitel_write_s {
    ngx_queue_t                     queue;
    ngx_http_agnitel_apply_pt       apply;
    void                           *data;

    /*
     * Or a write any worker may run (ngx_http_agnitel_ring.h): run() with
     * the bytes of "blob", which it needs nothing beyond.
     */
    ngx_http_agnitel_run_pt         run;
    ngx_str_t                       blob;

    /* after the commit, with rc the write's outcome */
    ngx_http_agnitel_committed_pt   committed;
    int                             rc;
};


/* what a request does with the outcome: a status, or NGX_DONE and so on */
typedef ngx_int_t (*ngx_http_agnitel_written_pt)(ngx_http_request_t *r,
    void *data, int rc);


void ngx_http_agnitel_commit_post(ngx_http_agnitel_store_t *store,
    ngx_http_agnitel_write_t *w);

ngx_int_t ngx_http_agnitel_write(ngx_http_request_t *r,
    ngx_http_agnitel_apply_pt apply, ngx_http_agnitel_written_pt written,
    void *data);
#if (NGX_THREADS)
ngx_int_t ngx_http_agnitel_commit_listen(ngx_http_agnitel_store_t *store,
    ngx_cycle_t *cycle);
void ngx_http_agnitel_commit_unlisten(ngx_http_agnitel_store_t *store);
#endif

ngx_int_t ngx_http_agnitel_write_shared(ngx_http_request_t *r,
    ngx_http_agnitel_run_pt run, ngx_str_t *blob,
    ngx_http_agnitel_written_pt written, void *data);


#endif /* _NGX_HTTP_AGNITEL_COMMIT_H_INCLUDED_ */
