
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_STORE_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_STORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <lmdb.h>
#include <jansson.h>
#if (NGX_THREADS)
#include <ngx_thread_pool.h>
#endif

#include "ngx_http_agnitel.h"
#include "ngx_http_agnitel_ring.h"


/*
 * The store is one LMDB environment (a directory) with these named
 * databases.  Keys are byte strings; "ws" is a workspace id
 * ("ws_" + 16 hex), "E164" a phone number such as "+14155550100".
 *
 *   meta            "schema"            -> "1"
 *                   "jobs/leader"       -> the jobs' leader lease {pid,
 *                                          expires}
 *                   "jobs/" name        -> a job's last run, as
 *                                          GET /admin/v1/jobs shows it
 *   workspaces      ws                  -> workspace JSON {id, name,
 *                                          created_at}
 *   api_keys        SHA-256(key), 32 B  -> ngx_http_agnitel_key_rec_t
 *   api_key_ids     ws "/" key_id       -> SHA-256(key), 32 B
 *   numbers         ws "/" E164         -> number record (see
 *                                          ngx_http_agnitel_record.h)
 *   number_list     ws                  -> one sorted duplicate per number
 *                                          of the inventory, a fixed-size
 *                                          ngx_http_agnitel_index_entry_t
 *                                          (number, record header): lists
 *                                          read them a page at a time
 *                                          (MDB_GET_MULTIPLE) and fetch
 *                                          only the records they return
 *   number_owners   E164                -> ws (one owner across the store)
 *   number_history  ws "/" pn_id        -> released number record
 *   providers       ws "/" prv_id       -> provider JSON (carrier secrets
 *                                          sealed, see crypto)
 *   idempotency     ws "/" key          -> the first answer to a buy with
 *                                          that Idempotency-Key (24 hours)
 *   sandbox         sid or "+E164"      -> agnitel_twilio_sandbox's numbers
 *   ledger          ws "/" CUR "/" seq  -> a credits ledger entry (seq: 8
 *                                          bytes, big-endian, from 1)
 *   balances        ws "/" CUR          -> {balance, seq}: the sum of the
 *                                          ledger's amounts, and its last
 *                                          entry
 *   topups          ws "/" reference    -> the ledger id of that top-up
 *   rules           ws "/" dr_id        -> dispatch rule JSON
 *   rule_numbers    E164                -> ws "/" dr_id (one rule a number)
 *   calls           CallSid             -> E164: calls metered, once each
 *
 * Money is stored as integer micro-units (1e-6) inside the records.
 */

/* the "meta" keys of the background jobs (src/jobs), as above */
#define NGX_HTTP_AGNITEL_JOBS_LEASE    "jobs/leader"
#define NGX_HTTP_AGNITEL_JOBS_PREFIX   "jobs/"


enum {
    NGX_HTTP_AGNITEL_DB_META = 0,
    NGX_HTTP_AGNITEL_DB_WORKSPACES,
    NGX_HTTP_AGNITEL_DB_API_KEYS,
    NGX_HTTP_AGNITEL_DB_API_KEY_IDS,
    NGX_HTTP_AGNITEL_DB_NUMBERS,
    NGX_HTTP_AGNITEL_DB_NUMBER_LIST,
    NGX_HTTP_AGNITEL_DB_NUMBER_OWNERS,
    NGX_HTTP_AGNITEL_DB_NUMBER_HISTORY,
    NGX_HTTP_AGNITEL_DB_PROVIDERS,
    NGX_HTTP_AGNITEL_DB_IDEMPOTENCY,
    NGX_HTTP_AGNITEL_DB_SANDBOX,
    NGX_HTTP_AGNITEL_DB_LEDGER,
    NGX_HTTP_AGNITEL_DB_BALANCES,
    NGX_HTTP_AGNITEL_DB_TOPUPS,
    NGX_HTTP_AGNITEL_DB_RULES,
    NGX_HTTP_AGNITEL_DB_RULE_NUMBERS,
    NGX_HTTP_AGNITEL_DB_CALLS,
    NGX_HTTP_AGNITEL_DB_N
};


#define NGX_HTTP_AGNITEL_SHA256_LEN      32

/* commit tasks of a worker under way at once (ngx_http_agnitel_commit.c) */
#define NGX_HTTP_AGNITEL_COMMITS         2

/* ws "/" E164, the longest composite key we build */
#define NGX_HTTP_AGNITEL_STORE_KEY_MAX   64


typedef struct {
    u_char                      hash[NGX_HTTP_AGNITEL_SHA256_LEN];
    u_char                      workspace[NGX_HTTP_AGNITEL_WS_ID_LEN];
    u_char                      id[NGX_HTTP_AGNITEL_KEY_ID_LEN];
    int64_t                     created_at;
} ngx_http_agnitel_key_rec_t;


struct ngx_http_agnitel_store_s {
    MDB_env                    *env;
    MDB_dbi                     dbi[NGX_HTTP_AGNITEL_DB_N];

    /*
     * The data file, for growing it ahead of LMDB (agnitel_store's
     * "grow"; NGX_INVALID_FILE when off), its size as this worker last
     * saw it (the file only grows: the others' growth makes it larger
     * still), and LMDB's page size.
     */
    ngx_fd_t                    data;
    off_t                       grow;
    off_t                       end;
    size_t                      page_size;

    /*
     * A read-only transaction kept reset between requests and renewed for
     * each read: it holds no snapshot while the worker is in the event
     * loop, and saves a reader slot lookup per request.
     */
    MDB_txn                    *rtxn;

    /*
     * Group commit (ngx_http_agnitel_commit.c): the writes queued in this
     * pass of the event loop, and the posted event that commits them.
     */
    ngx_queue_t                 writes;
    ngx_event_t                 commit;

#if (NGX_THREADS)
    /*
     * Where commits run, off the event loop (NULL: in it).  The commit
     * thread takes the queued writes once it holds LMDB's writer lock, so
     * "writes" is shared with it, under "mutex".
     */
    ngx_thread_pool_t          *thread_pool;
    ngx_thread_task_t          *tasks[NGX_HTTP_AGNITEL_COMMITS];
    ngx_thread_mutex_t          mutex;

    /*
     * Writes shared with the other workers (ngx_http_agnitel_ring.h):
     * this worker's by slot, and its eventfd, which says some are done.
     * NULL ring: one worker, or no threads.
     */
    ngx_http_agnitel_ring_t    *ring;
    ngx_http_agnitel_write_t  **ring_writes;
    ngx_connection_t           *ring_notify;
#endif
};


ngx_int_t ngx_http_agnitel_store_init(ngx_cycle_t *cycle,
    ngx_http_agnitel_main_conf_t *amcf);
ngx_int_t ngx_http_agnitel_store_check(ngx_cycle_t *cycle,
    ngx_http_agnitel_main_conf_t *amcf);
ngx_int_t ngx_http_agnitel_store_open(ngx_cycle_t *cycle,
    ngx_http_agnitel_main_conf_t *amcf);
void ngx_http_agnitel_store_close(ngx_http_agnitel_main_conf_t *amcf);

MDB_txn *ngx_http_agnitel_store_read(ngx_http_agnitel_store_t *store,
    ngx_log_t *log);
void ngx_http_agnitel_store_read_done(ngx_http_agnitel_store_t *store);
MDB_txn *ngx_http_agnitel_store_write(ngx_http_agnitel_store_t *store,
    ngx_log_t *log);
int ngx_http_agnitel_store_finish(MDB_txn *txn, int rc);
int ngx_http_agnitel_store_commit(MDB_txn *txn);
int ngx_http_agnitel_store_sync(MDB_env *env);
void ngx_http_agnitel_store_grow(ngx_http_agnitel_store_t *store,
    ngx_log_t *log);


/*
 * What ngx_http_agnitel_store_commit() returns when the commit went in but
 * its last sync failed: the write is in the store, its durability unknown.
 * Outside LMDB's error codes.
 */
#define NGX_HTTP_AGNITEL_UNSYNCED        (MDB_KEYEXIST + 1000)

size_t ngx_http_agnitel_store_key(u_char *buf, ngx_str_t *a, ngx_str_t *b);


int ngx_http_agnitel_store_put_json(MDB_txn *txn, MDB_dbi dbi, MDB_val *k,
    json_t *json);


#endif /* _NGX_HTTP_AGNITEL_STORE_H_INCLUDED_ */
