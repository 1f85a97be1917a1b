
/*
 * Copyright (C) agnitel
 *
 * The reconcile job.  A purchase is written "pending" before the carrier
 * is asked; when the answer never came (a timeout, a 5xx, a worker killed
 * mid-call) it stays so.  Past reconcile_after, the carrier is asked
 * whether the account owns the number: if it does, the number becomes
 * active with the carrier's SID; if not, the pending record goes.  Either
 * way an Idempotency-Key of the purchase is settled with it.  When the
 * carrier cannot be asked, the number waits for the next run.
 *
 * Indian numbers are asked about at the Indian carrier, as the platform's
 * account there, one call per number.
 *
 * One call per number, at most 50 at once, is right for the few numbers a
 * failed purchase leaves.  An account with more pending numbers than that
 * (a carrier outage during a buying spree) is read instead a page of 1000
 * numbers at a time, for no more pages than the rounds of single calls it
 * replaces; numbers on no page read by then are asked about one by one.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_jobs.h"
#include "ngx_http_agnitel_commit.h"
#include "ngx_http_agnitel_curl.h"
#include "ngx_http_agnitel_exotel.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_idempotency.h"
#include "ngx_http_agnitel_ledger.h"
#include "ngx_http_agnitel_number.h"
#include "ngx_http_agnitel_providers.h"
#include "ngx_http_agnitel_record.h"
#include "ngx_http_agnitel_store.h"
#include "ngx_http_agnitel_twilio.h"


/* carrier calls of a run under way at once */
#define NGX_HTTP_AGNITEL_RECONCILE_CALLS   50

/* numbers looked at per run; more wait for the next */
#define NGX_HTTP_AGNITEL_RECONCILE_MAX     10000

/* numbers on a page of the account's list */
#define NGX_HTTP_AGNITEL_RECONCILE_PAGE    1000


/* what a settling write found and did */
#define NGX_HTTP_AGNITEL_SETTLED_NONE      0
#define NGX_HTTP_AGNITEL_SETTLED_ACTIVE    1
#define NGX_HTTP_AGNITEL_SETTLED_REMOVED   2


typedef struct ngx_http_agnitel_reconcile_s  ngx_http_agnitel_reconcile_t;

/* a pending number: its carrier call, then its settling write */
typedef struct {
    ngx_http_agnitel_fetch_t        fetch;
    ngx_http_agnitel_write_t        w;
    ngx_http_agnitel_reconcile_t   *run;

    /* the item's own: the commit thread may use it while others run */
    ngx_pool_t                     *pool;

    ngx_str_t                       workspace;
    ngx_str_t                       number;
    ngx_str_t                       id;
    ngx_str_t                       provider_id;

    /* the carrier's entry for the number; sid NULL if it has none */
    const char                     *sid;
    json_t                         *caps;
    ngx_uint_t                      settled;

    /* a paid purchase: what comes back if the carrier did not buy it */
    ngx_http_agnitel_entry_t        reversal;
    unsigned                        managed:1;

    /* an Indian number, bought from the Indian carrier */
    unsigned                        india:1;

    /* found on a page of its account's list */
    unsigned                        listed:1;
} ngx_http_agnitel_pending_t;


/* an account's list read a page at a time, for its many pending numbers */
typedef struct {
    ngx_http_agnitel_fetch_t        fetch;
    ngx_http_agnitel_reconcile_t   *run;
    ngx_pool_t                     *pool;

    /* the account's pending numbers, sorted by number */
    ngx_http_agnitel_pending_t     *items;
    ngx_uint_t                      n;

    ngx_str_t                       account_sid;
    ngx_str_t                       authorization;
    ngx_uint_t                      pages;
    ngx_uint_t                      max_pages;
} ngx_http_agnitel_listing_t;


struct ngx_http_agnitel_reconcile_s {
    ngx_http_agnitel_job_t         *job;
    ngx_array_t                     items;

    /* what is still to start: listings, then single calls */
    ngx_array_t                     listings;   /* of listing_t */
    ngx_array_t                     lookups;    /* of pending_t * */
    ngx_uint_t                      next_listing;
    ngx_uint_t                      next_lookup;

    /* calls and writes under way */
    ngx_uint_t                      busy;
};


static int ngx_http_agnitel_reconcile_collect(
    ngx_http_agnitel_reconcile_t *run, MDB_txn *txn);
static ngx_int_t ngx_http_agnitel_reconcile_item(
    ngx_http_agnitel_reconcile_t *run, MDB_val *k, json_t *rec);
static ngx_int_t ngx_http_agnitel_reconcile_plan(
    ngx_http_agnitel_reconcile_t *run);
static int ngx_cdecl ngx_http_agnitel_pending_cmp(const void *a,
    const void *b);
static ngx_uint_t ngx_http_agnitel_same_account(ngx_http_agnitel_pending_t *a,
    ngx_http_agnitel_pending_t *b);
static void ngx_http_agnitel_reconcile_more(
    ngx_http_agnitel_reconcile_t *run);
static ngx_int_t ngx_http_agnitel_listing_start(
    ngx_http_agnitel_listing_t *ls);
static void ngx_http_agnitel_listing_page(ngx_http_agnitel_fetch_t *f);
static void ngx_http_agnitel_listing_found(ngx_http_agnitel_listing_t *ls,
    json_t *entry);
static void ngx_http_agnitel_listing_end(ngx_http_agnitel_listing_t *ls,
    ngx_uint_t last, const char *error);
static void ngx_http_agnitel_reconcile_settle(
    ngx_http_agnitel_pending_t *item);
static ngx_int_t ngx_http_agnitel_reconcile_ask(
    ngx_http_agnitel_pending_t *item);
static void ngx_http_agnitel_reconcile_answer(ngx_http_agnitel_fetch_t *f);
static int ngx_http_agnitel_settle_apply(MDB_txn *txn, void *data);
static void ngx_http_agnitel_settle_committed(ngx_http_agnitel_write_t *w);
static void ngx_http_agnitel_reconcile_end(ngx_http_agnitel_pending_t *item,
    const char *error);
static void ngx_http_agnitel_reconcile_cleanup(void *data);


ngx_int_t
ngx_http_agnitel_reconcile(ngx_http_agnitel_job_t *job)
{
    int                            rc;
    MDB_txn                       *txn;
    ngx_pool_cleanup_t            *cln;
    ngx_http_agnitel_reconcile_t  *run;

    run = ngx_pcalloc(job->pool, sizeof(ngx_http_agnitel_reconcile_t));
    if (run == NULL) {
        return NGX_ERROR;
    }

    run->job = job;

    if (ngx_array_init(&run->items, job->pool, 16,
                       sizeof(ngx_http_agnitel_pending_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* calls still under way when the worker exits are dropped with it */

    cln = ngx_pool_cleanup_add(job->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_agnitel_reconcile_cleanup;
    cln->data = run;

    txn = ngx_http_agnitel_store_read(job->amcf->store, job->log);
    if (txn == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_agnitel_reconcile_collect(run, txn);

    ngx_http_agnitel_store_read_done(job->amcf->store);

    if (rc != 0) {
        job->error = mdb_strerror(rc);
        return NGX_ERROR;
    }

    if (ngx_http_agnitel_reconcile_plan(run) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_agnitel_reconcile_more(run);

    return NGX_OK;
}


/* the Twilio numbers pending for longer than reconcile_after */

static int
ngx_http_agnitel_reconcile_collect(ngx_http_agnitel_reconcile_t *run,
    MDB_txn *txn)
{
    int                             rc;
    json_t                         *rec;
    MDB_val                         k, v;
    int64_t                         before;
    ngx_str_t                       view;
    MDB_cursor                     *cur;
    ngx_http_agnitel_store_t       *store;
    ngx_http_agnitel_record_hdr_t   hdr;

    store = run->job->amcf->store;

    before = (int64_t) ngx_time() * 1000
             - (int64_t) run->job->amcf->reconcile_after;

    rc = mdb_cursor_open(txn, store->dbi[NGX_HTTP_AGNITEL_DB_NUMBERS], &cur);
    if (rc != 0) {
        return rc;
    }

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0 && run->items.nelts < NGX_HTTP_AGNITEL_RECONCILE_MAX;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        /* the header says enough to pass over all but pending purchases */

        if (ngx_http_agnitel_record_header(&v, &hdr, &view) != NGX_OK
            || hdr.status != NGX_HTTP_AGNITEL_PENDING
            || hdr.provider == NGX_HTTP_AGNITEL_CUSTOM)
        {
            continue;
        }

        rc = ngx_http_agnitel_record_load(run->job->pool, txn, store, &k,
                                          &rec);
        if (rc != 0) {
            break;
        }

        if (json_integer_value(json_object_get(rec, "created_at")) * 1000
            > before)
        {
            continue;
        }

        if (ngx_http_agnitel_reconcile_item(run, &k, rec) != NGX_OK) {
            rc = ENOMEM;
            break;
        }
    }

    mdb_cursor_close(cur);

    return (rc == MDB_NOTFOUND || rc == 0) ? 0 : rc;
}


static ngx_int_t
ngx_http_agnitel_reconcile_item(ngx_http_agnitel_reconcile_t *run,
    MDB_val *k, json_t *rec)
{
    u_char                      *slash;
    ngx_str_t                    s;
    ngx_pool_t                  *pool;
    const char                  *currency;
    ngx_http_agnitel_pending_t  *item;

    pool = run->job->pool;

    slash = ngx_strlchr(k->mv_data, (u_char *) k->mv_data + k->mv_size, '/');
    if (slash == NULL) {
        return NGX_OK;
    }

    item = ngx_array_push(&run->items);
    if (item == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(item, sizeof(ngx_http_agnitel_pending_t));

    item->run = run;

    s.data = k->mv_data;
    s.len = slash - s.data;

    item->workspace.data = ngx_pstrdup(pool, &s);
    item->workspace.len = s.len;

    s.data = slash + 1;
    s.len = (u_char *) k->mv_data + k->mv_size - s.data;

    item->number.data = ngx_pstrdup(pool, &s);
    item->number.len = s.len;

    if (item->workspace.data == NULL || item->number.data == NULL) {
        return NGX_ERROR;
    }

    /* the record is the pool's: its strings live as long as the run */

    item->id.data = (u_char *) json_string_value(json_object_get(rec, "id"));
    item->provider_id.data = (u_char *) json_string_value(
                                  json_object_get(rec, "provider_id"));

    if (item->id.data == NULL || item->provider_id.data == NULL) {
        run->items.nelts--;
        return NGX_OK;
    }

    item->id.len = ngx_strlen(item->id.data);
    item->provider_id.len = ngx_strlen(item->provider_id.data);

    item->india = ngx_http_agnitel_number_india(rec);

    /* the reversal's id is drawn here, in the worker, should it be needed */

    currency = json_string_value(json_object_get(rec, "currency"));

    if (json_object_get(rec, "auto_renew") && currency
        && ngx_strlen(currency) == 3)
    {
        item->managed = 1;

        if (ngx_http_agnitel_entry_init(&item->reversal, &item->workspace,
                                        currency, "reversal",
                                        json_integer_value(
                                            json_object_get(rec, "price")))
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        item->reversal.phone_number = item->number;
    }

    return NGX_OK;
}


/*
 * Accounts with more pending numbers than the calls allowed at once are
 * listed; the other numbers are asked about one by one.
 */

static ngx_int_t
ngx_http_agnitel_reconcile_plan(ngx_http_agnitel_reconcile_t *run)
{
    ngx_uint_t                    i, j, n;
    ngx_pool_t                   *pool;
    ngx_http_agnitel_listing_t   *ls;
    ngx_http_agnitel_pending_t   *items, **lookup;

    pool = run->job->pool;
    items = run->items.elts;
    n = run->items.nelts;

    if (ngx_array_init(&run->listings, pool, 1,
                       sizeof(ngx_http_agnitel_listing_t)) != NGX_OK
        || ngx_array_init(&run->lookups, pool, n ? n : 1,
                          sizeof(ngx_http_agnitel_pending_t *)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_qsort(items, n, sizeof(ngx_http_agnitel_pending_t),
              ngx_http_agnitel_pending_cmp);

    for (i = 0; i < n; i = j) {

        for (j = i + 1;
             j < n && ngx_http_agnitel_same_account(&items[i], &items[j]);
             j++)
        { /* void */ }

        if (j - i > NGX_HTTP_AGNITEL_RECONCILE_CALLS && !items[i].india) {
            ls = ngx_array_push(&run->listings);
            if (ls == NULL) {
                return NGX_ERROR;
            }

            ngx_memzero(ls, sizeof(ngx_http_agnitel_listing_t));
            ls->run = run;
            ls->items = &items[i];
            ls->n = j - i;
            ls->max_pages = (j - i) / NGX_HTTP_AGNITEL_RECONCILE_CALLS;
            continue;
        }

        for ( /* void */ ; i < j; i++) {
            lookup = ngx_array_push(&run->lookups);
            if (lookup == NULL) {
                return NGX_ERROR;
            }

            *lookup = &items[i];
        }
    }

    return NGX_OK;
}


/* by workspace, provider, then number: an account's numbers together */

static int ngx_cdecl
ngx_http_agnitel_pending_cmp(const void *a, const void *b)
{
    const ngx_http_agnitel_pending_t  *x = a, *y = b;

    ngx_int_t  rc;

    rc = ngx_memn2cmp(x->workspace.data, y->workspace.data,
                      x->workspace.len, y->workspace.len);
    if (rc) {
        return rc;
    }

    rc = ngx_memn2cmp(x->provider_id.data, y->provider_id.data,
                      x->provider_id.len, y->provider_id.len);
    if (rc) {
        return rc;
    }

    return ngx_memn2cmp(x->number.data, y->number.data, x->number.len,
                        y->number.len);
}


static ngx_uint_t
ngx_http_agnitel_same_account(ngx_http_agnitel_pending_t *a,
    ngx_http_agnitel_pending_t *b)
{
    return a->workspace.len == b->workspace.len
           && a->provider_id.len == b->provider_id.len
           && ngx_memcmp(a->workspace.data, b->workspace.data,
                         a->workspace.len) == 0
           && ngx_memcmp(a->provider_id.data, b->provider_id.data,
                         a->provider_id.len) == 0;
}


/* starts calls until as many as allowed are under way, or none are left */

static void
ngx_http_agnitel_reconcile_more(ngx_http_agnitel_reconcile_t *run)
{
    ngx_uint_t                    failed;
    ngx_http_agnitel_listing_t   *listings;
    ngx_http_agnitel_pending_t  **lookups;

    listings = run->listings.elts;

    while (run->busy < NGX_HTTP_AGNITEL_RECONCILE_CALLS
           && run->next_listing < run->listings.nelts
           && !ngx_exiting)
    {
        if (ngx_http_agnitel_listing_start(&listings[run->next_listing++])
            == NGX_OK)
        {
            run->busy++;
        }
    }

    lookups = run->lookups.elts;

    while (run->busy < NGX_HTTP_AGNITEL_RECONCILE_CALLS
           && run->next_lookup < run->lookups.nelts
           && !ngx_exiting)
    {
        failed = (ngx_http_agnitel_reconcile_ask(lookups[run->next_lookup++])
                  != NGX_OK);

        run->busy += !failed;
        run->job->failures += failed;
    }

    if (run->busy == 0) {
        ngx_http_agnitel_job_done(run->job);
    }
}


/* GET .../IncomingPhoneNumbers.json?PhoneNumber=N as the owning account */

static ngx_int_t
ngx_http_agnitel_reconcile_ask(ngx_http_agnitel_pending_t *item)
{
    ngx_int_t                           rc;
    ngx_http_agnitel_job_t             *job;
    ngx_http_agnitel_main_conf_t       *amcf;
    ngx_http_agnitel_twilio_account_t   account;

    job = item->run->job;
    amcf = job->amcf;

    item->pool = ngx_create_pool(4096, job->log);
    if (item->pool == NULL) {
        return NGX_ERROR;
    }

    if (item->india) {
        rc = ngx_http_agnitel_job_india(job, &item->fetch);

        if (rc == NGX_OK) {
            rc = ngx_http_agnitel_exotel_lookup(item->pool, &amcf->india_sid,
                                                &item->number,
                                                &item->fetch.call);
        }

    } else {
        rc = ngx_http_agnitel_job_account(job, item->pool, &item->workspace,
                                          &item->provider_id, &account);

        if (rc == NGX_OK) {
            rc = ngx_http_agnitel_twilio_lookup(item->pool,
                                                &account.account_sid,
                                                &item->number,
                                                &item->fetch.call);
            item->fetch.call.authorization = account.authorization;
        }
    }

    if (rc != NGX_OK) {
        goto failed;
    }

    item->fetch.pool = item->pool;
    item->fetch.done = ngx_http_agnitel_reconcile_answer;
    item->fetch.data = item;

    if (ngx_http_agnitel_curl_fetch(&item->fetch) != NGX_OK) {
        goto failed;
    }

    return NGX_OK;

failed:

    ngx_destroy_pool(item->pool);
    item->pool = NULL;

    return NGX_ERROR;
}


/* the first page of an account's list */

static ngx_int_t
ngx_http_agnitel_listing_start(ngx_http_agnitel_listing_t *ls)
{
    ngx_http_agnitel_job_t             *job;
    ngx_http_agnitel_twilio_account_t   account;

    job = ls->run->job;

    ls->pool = ngx_create_pool(4096, job->log);
    if (ls->pool == NULL) {
        goto failed;
    }

    if (ngx_http_agnitel_job_account(job, ls->pool, &ls->items[0].workspace,
                                     &ls->items[0].provider_id, &account)
        != NGX_OK
        || ngx_http_agnitel_twilio_list(ls->pool, &account.account_sid, NULL,
                                        &ls->fetch.call)
           != NGX_OK)
    {
        goto failed;
    }

    ls->account_sid = account.account_sid;
    ls->fetch.call.authorization = account.authorization;
    ls->fetch.pool = ls->pool;
    ls->fetch.done = ngx_http_agnitel_listing_page;
    ls->fetch.data = ls;

    if (ngx_http_agnitel_curl_fetch(&ls->fetch) != NGX_OK) {
        goto failed;
    }

    ls->pages = 1;

    return NGX_OK;

failed:

    if (ls->pool) {
        ngx_destroy_pool(ls->pool);
        ls->pool = NULL;
    }

    job->failures += ls->n;

    return NGX_ERROR;
}


static void
ngx_http_agnitel_listing_page(ngx_http_agnitel_fetch_t *f)
{
    ngx_http_agnitel_listing_t  *ls = f->data;

    size_t                           i;
    json_t                          *page, *entry;
    ngx_int_t                        rc;
    const char                      *next;
    ngx_http_agnitel_carrier_err_t   err;

    if (ngx_http_agnitel_twilio_outcome(ls->pool, &f->call,
                                        NGX_HTTP_AGNITEL_TWILIO_LOOKUP,
                                        &page, &err)
        != NGX_OK)
    {
        ngx_http_agnitel_listing_end(ls, 0, err.message);
        return;
    }

    if (page == NULL) {
        ngx_http_agnitel_listing_end(ls, 0, "the carrier's answer is "
                                            "malformed");
        return;
    }

    json_array_foreach(json_object_get(page, "incoming_phone_numbers"),
                       i, entry)
    {
        ngx_http_agnitel_listing_found(ls, entry);
    }

    next = ngx_http_agnitel_twilio_str(page, "next_page_uri");

    if (next == NULL) {
        ngx_http_agnitel_listing_end(ls, 1, NULL);
        return;
    }

    if (ls->pages == ls->max_pages) {
        ngx_http_agnitel_listing_end(ls, 0, NULL);
        return;
    }

    rc = ngx_http_agnitel_twilio_list(ls->pool, &ls->account_sid, next,
                                      &f->call);

    if (rc != NGX_OK || ngx_http_agnitel_curl_fetch(f) != NGX_OK) {
        ngx_http_agnitel_listing_end(ls, 0, rc == NGX_DECLINED
                                            ? "the carrier's next page is "
                                              "not of the same list"
                                            : "the next page could not be "
                                              "asked for");
        return;
    }

    ls->pages++;
}


/* an entry of the account's list: is it one of the pending numbers? */

static void
ngx_http_agnitel_listing_found(ngx_http_agnitel_listing_t *ls, json_t *entry)
{
    size_t                       len;
    u_char                      *sid;
    const char                  *number, *s;
    ngx_uint_t                   lo, hi, mid;
    ngx_int_t                    rc;
    ngx_http_agnitel_pending_t  *item;

    number = ngx_http_agnitel_twilio_str(entry, "phone_number");
    s = ngx_http_agnitel_twilio_str(entry, "sid");

    if (number == NULL || s == NULL || ngx_strncmp(s, "PN", 2) != 0) {
        return;
    }

    len = ngx_strlen(number);
    lo = 0;
    hi = ls->n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        item = &ls->items[mid];

        rc = ngx_memn2cmp(item->number.data, (u_char *) number,
                          item->number.len, len);

        if (rc == 0) {
            break;
        }

        if (rc < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    if (lo >= hi || item->listed) {
        return;
    }

    /* what the settling write needs, in the item's own pool */

    item->pool = ngx_create_pool(1024, ls->run->job->log);
    if (item->pool == NULL) {
        return;
    }

    sid = ngx_pnalloc(item->pool, ngx_strlen(s) + 1);
    if (sid == NULL) {
        ngx_destroy_pool(item->pool);
        item->pool = NULL;
        return;
    }

    ngx_cpystrn(sid, (u_char *) s, ngx_strlen(s) + 1);

    item->sid = (const char *) sid;
    item->caps = json_object_get(entry, "capabilities");

    if (item->caps) {
        json_incref(item->caps);

        if (ngx_http_agnitel_json_own(item->pool, item->caps) != NGX_OK) {
            item->caps = NULL;
        }
    }

    item->listed = 1;

    ngx_http_agnitel_reconcile_settle(item);
}


/*
 * The list is read: after its last page, the numbers not on it were never
 * bought; after the last page allowed, they are asked about one by one.
 * An error leaves them pending for the next run.
 */

static void
ngx_http_agnitel_listing_end(ngx_http_agnitel_listing_t *ls, ngx_uint_t last,
    const char *error)
{
    ngx_uint_t                     i;
    ngx_http_agnitel_pending_t    *item, **lookup;
    ngx_http_agnitel_reconcile_t  *run;

    run = ls->run;

    for (i = 0; i < ls->n; i++) {
        item = &ls->items[i];

        if (item->listed) {
            continue;
        }

        if (error) {
            run->job->failures++;
            continue;
        }

        if (!last) {
            lookup = ngx_array_push(&run->lookups);
            if (lookup) {
                *lookup = item;
            }

            continue;
        }

        item->pool = ngx_create_pool(1024, run->job->log);
        if (item->pool == NULL) {
            run->job->failures++;
            continue;
        }

        ngx_http_agnitel_reconcile_settle(item);
    }

    if (error) {
        ngx_log_error(NGX_LOG_WARN, run->job->log, 0,
                      "agnitel_jobs: reconcile: the numbers of account %V "
                      "could not be listed (%s): they stay pending",
                      &ls->account_sid, error);
        run->job->error = error;
    }

    ngx_destroy_pool(ls->pool);
    ls->pool = NULL;

    run->busy--;

    ngx_http_agnitel_reconcile_more(run);
}


static void
ngx_http_agnitel_reconcile_answer(ngx_http_agnitel_fetch_t *f)
{
    ngx_http_agnitel_pending_t  *item = f->data;

    json_t                          *page, *entry;
    ngx_uint_t                       complete;
    const char                      *error;
    ngx_http_agnitel_carrier_err_t   err;

    error = NULL;
    entry = NULL;
    complete = 1;

    if (ngx_http_agnitel_carrier_outcome(item->india, item->pool, &f->call,
                                         NGX_HTTP_AGNITEL_TWILIO_LOOKUP,
                                         &page, &err)
        != NGX_OK)
    {
        error = err.message;

    } else if (page == NULL) {
        error = "the carrier's answer is malformed";

    } else {
        entry = item->india
                ? ngx_http_agnitel_exotel_listed(page, &item->number,
                                                 &complete)
                : ngx_http_agnitel_twilio_listed(page, &item->number);

        if (entry == NULL && !complete) {
            error = "the carrier answered a page of its numbers that goes "
                    "on, not the number alone";
        }
    }

    if (error) {
        ngx_log_error(NGX_LOG_WARN, item->run->job->log, 0,
                      "agnitel_jobs: reconcile: %V of workspace %V: "
                      "the carrier could not be asked (%s): it stays "
                      "pending", &item->number, &item->workspace, error);

        ngx_http_agnitel_reconcile_end(item, error);
        return;
    }

    if (entry) {
        item->sid = ngx_http_agnitel_twilio_str(entry, "sid");
        item->caps = json_object_get(entry, "capabilities");

        if (item->sid == NULL || ngx_strlen(item->sid) > 64
            || (!item->india && ngx_strncmp(item->sid, "PN", 2) != 0))
        {
            ngx_http_agnitel_reconcile_end(item, "the carrier's entry for "
                                                 "a number has no sid");
            return;
        }
    }

    /* the call is over; its write takes its place among those under way */

    item->run->busy--;

    ngx_http_agnitel_reconcile_settle(item);
}


/* active with item->sid, or removed without; item->pool is the write's */

static void
ngx_http_agnitel_reconcile_settle(ngx_http_agnitel_pending_t *item)
{
    item->w.apply = ngx_http_agnitel_settle_apply;
    item->w.data = item;
    item->w.committed = ngx_http_agnitel_settle_committed;

    item->run->busy++;

    ngx_http_agnitel_commit_post(item->run->job->amcf->store, &item->w);
}


/*
 * In the write transaction, maybe in a commit thread: only the item's own
 * pool is used.  The number is settled only if it is still the pending
 * record the run saw: a purchase may have settled it meanwhile.
 */

static int
ngx_http_agnitel_settle_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_pending_t  *item = data;

    int                        rc;
    u_char                     key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    json_t                    *rec;
    MDB_val                    k, v;
    ngx_str_t                  answer;
    const char                *status, *id;
    ngx_http_agnitel_store_t  *store;

    store = item->run->job->amcf->store;
    item->settled = NGX_HTTP_AGNITEL_SETTLED_NONE;

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_store_key(key, &item->workspace,
                                           &item->number);

    rc = ngx_http_agnitel_record_load(item->pool, txn, store, &k, &rec);
    if (rc != 0) {
        return (rc == MDB_NOTFOUND) ? 0 : rc;
    }

    status = json_string_value(json_object_get(rec, "status"));
    id = json_string_value(json_object_get(rec, "id"));

    if (status == NULL || ngx_strcmp(status, "pending") != 0
        || id == NULL || ngx_strlen(id) != item->id.len
        || ngx_strncmp(id, item->id.data, item->id.len) != 0)
    {
        return 0;
    }

    if (item->sid == NULL) {
        rc = ngx_http_agnitel_record_remove(txn, store, &item->workspace,
                                            &item->number);
        if (rc == 0) {
            rc = ngx_http_agnitel_idem_settle(txn, store, rec, 0, NULL);
        }

        /* no refund policy or not, what was never bought is not paid for */

        if (rc == 0 && item->managed) {
            rc = ngx_http_agnitel_ledger_append(txn, store, &item->reversal);
        }

        item->settled = NGX_HTTP_AGNITEL_SETTLED_REMOVED;

        return rc;
    }

    if (ngx_http_agnitel_number_activate(item->pool, rec, item->sid,
                                         item->caps, item->run->job->amcf,
                                         &v)
        != NGX_OK
        || ngx_http_agnitel_close(ngx_http_agnitel_view_envelope(item->pool,
                                      "Phone number bought", &v), &answer)
           != NGX_OK)
    {
        return ENOMEM;
    }

    rc = ngx_http_agnitel_record_put(txn, store, &k, &v, 0);

    if (rc == 0) {
        rc = ngx_http_agnitel_idem_settle(txn, store, rec, NGX_HTTP_CREATED,
                                          &answer);
    }

    item->settled = NGX_HTTP_AGNITEL_SETTLED_ACTIVE;

    return rc;
}


static void
ngx_http_agnitel_settle_committed(ngx_http_agnitel_write_t *w)
{
    ngx_http_agnitel_pending_t  *item = w->data;

    ngx_log_t  *log;

    log = item->run->job->log;

    if (w->rc != 0) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "agnitel_jobs: reconcile: %V of workspace %V could not "
                      "be settled: %s", &item->number, &item->workspace,
                      mdb_strerror(w->rc));
        ngx_http_agnitel_reconcile_end(item, "a settled number could not "
                                             "be written");
        return;
    }

    switch (item->settled) {

    case NGX_HTTP_AGNITEL_SETTLED_ACTIVE:
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "agnitel_jobs: reconcile: the carrier has %V of "
                      "workspace %V as %s: it is active",
                      &item->number, &item->workspace, item->sid);
        item->run->job->items++;
        break;

    case NGX_HTTP_AGNITEL_SETTLED_REMOVED:
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "agnitel_jobs: reconcile: the carrier does not have "
                      "%V of workspace %V: its pending purchase is removed",
                      &item->number, &item->workspace);
        item->run->job->items++;
        break;
    }

    ngx_http_agnitel_reconcile_end(item, NULL);
}


static void
ngx_http_agnitel_reconcile_end(ngx_http_agnitel_pending_t *item,
    const char *error)
{
    ngx_http_agnitel_reconcile_t  *run = item->run;

    if (error) {
        run->job->failures++;
        run->job->error = error;    /* static text: it outlives the item */
    }

    ngx_destroy_pool(item->pool);
    item->pool = NULL;

    run->busy--;

    ngx_http_agnitel_reconcile_more(run);
}


static void
ngx_http_agnitel_reconcile_cleanup(void *data)
{
    ngx_http_agnitel_reconcile_t  *run = data;

    ngx_uint_t                   i;
    ngx_http_agnitel_pending_t  *items;

    ngx_http_agnitel_listing_t  *listings;

    items = run->items.elts;

    for (i = 0; i < run->items.nelts; i++) {
        if (items[i].pool) {
            ngx_destroy_pool(items[i].pool);
            items[i].pool = NULL;
        }
    }

    listings = run->listings.elts;

    for (i = 0; i < run->listings.nelts; i++) {
        if (listings[i].pool) {
            ngx_destroy_pool(listings[i].pool);
            listings[i].pool = NULL;
        }
    }
}
