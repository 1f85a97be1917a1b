
/*
 * Copyright (C) agnitel
 *
 * The renew job, for numbers paid from credits: managed Twilio numbers and
 * Indian ones.  At renews_at a number renewing by itself is debited the
 * monthly price and renews_at moves on by a renewal period (agnitel_billing
 * renewal=, or agnitel_india_account renewal= for Indian numbers); when
 * the credits are short, or it does not renew by itself, it goes to
 * "grace" until grace_ends_at.  A number whose grace has ended is released
 * at the carrier (DELETE, as its subaccount, or as the platform's account
 * at the Indian carrier), then here, for good, with release_reason
 * "renewal_missed".  No refund either way.
 *
 * Every change is made inside a write transaction that first checks the
 * number is still as the run saw it: a renewal by the client, or another
 * run, at the same moment changes nothing twice.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_jobs.h"
#include "ngx_http_agnitel_commit.h"
#include "ngx_http_agnitel_curl.h"
#include "ngx_http_agnitel_exotel.h"
#include "ngx_http_agnitel_ledger.h"
#include "ngx_http_agnitel_number.h"
#include "ngx_http_agnitel_record.h"
#include "ngx_http_agnitel_store.h"
#include "ngx_http_agnitel_twilio.h"


/* numbers looked at per run; more wait for the next */
#define NGX_HTTP_AGNITEL_RENEW_MAX       20000

/* releases at the carrier under way at once */
#define NGX_HTTP_AGNITEL_RENEW_CALLS     50


typedef struct ngx_http_agnitel_renew_s  ngx_http_agnitel_renew_t;

/* a number paid from credits, due: to renew, or to release */
typedef struct {
    ngx_http_agnitel_renew_t       *run;
    ngx_str_t                       workspace;
    ngx_str_t                       number;
    ngx_str_t                       id;
    ngx_str_t                       provider_id;
    ngx_str_t                       telephony_id;
    ngx_uint_t                      india;

    /* a renewal's debit, its id drawn in the worker */
    ngx_http_agnitel_entry_t        entry;
    ngx_uint_t                      renewed;

    /* a release: its carrier call, then its write, in a pool of its own */
    ngx_http_agnitel_fetch_t        fetch;
    ngx_http_agnitel_write_t        w;
    ngx_pool_t                     *pool;
    MDB_val                         v;
} ngx_http_agnitel_due_t;


struct ngx_http_agnitel_renew_s {
    ngx_http_agnitel_job_t         *job;
    ngx_array_t                     renewals;   /* of due_t */
    ngx_array_t                     releases;   /* of due_t */
    ngx_http_agnitel_write_t        w;
    ngx_pool_t                     *pool;       /* the renewals' write */
    ngx_uint_t                      next;
    ngx_uint_t                      busy;
};


static int ngx_http_agnitel_renew_collect(ngx_http_agnitel_renew_t *run,
    MDB_txn *txn);
static ngx_int_t ngx_http_agnitel_renew_due(ngx_http_agnitel_renew_t *run,
    ngx_array_t *list, MDB_val *k, json_t *rec);
static int ngx_http_agnitel_renew_apply(MDB_txn *txn, void *data);
static int ngx_http_agnitel_renew_one(ngx_http_agnitel_renew_t *run,
    MDB_txn *txn, ngx_http_agnitel_due_t *due);
static void ngx_http_agnitel_renew_committed(ngx_http_agnitel_write_t *w);
static void ngx_http_agnitel_release_more(ngx_http_agnitel_renew_t *run);
static ngx_int_t ngx_http_agnitel_release_ask(ngx_http_agnitel_due_t *due);
static ngx_int_t ngx_http_agnitel_release_twilio(ngx_http_agnitel_due_t *due);
static ngx_int_t ngx_http_agnitel_release_india(ngx_http_agnitel_due_t *due);
static void ngx_http_agnitel_release_answer(ngx_http_agnitel_fetch_t *f);
static int ngx_http_agnitel_lapse_apply(MDB_txn *txn, void *data);
static void ngx_http_agnitel_lapse_committed(ngx_http_agnitel_write_t *w);
static void ngx_http_agnitel_release_end(ngx_http_agnitel_due_t *due,
    const char *error);
static void ngx_http_agnitel_renew_cleanup(void *data);
static ngx_uint_t ngx_http_agnitel_still(json_t *rec, const char *status,
    ngx_str_t *id);


ngx_int_t
ngx_http_agnitel_renew(ngx_http_agnitel_job_t *job)
{
    int                        rc;
    MDB_txn                   *txn;
    ngx_pool_cleanup_t        *cln;
    ngx_http_agnitel_renew_t  *run;

    run = ngx_pcalloc(job->pool, sizeof(ngx_http_agnitel_renew_t));
    if (run == NULL) {
        return NGX_ERROR;
    }

    run->job = job;

    if (ngx_array_init(&run->renewals, job->pool, 16,
                       sizeof(ngx_http_agnitel_due_t)) != NGX_OK
        || ngx_array_init(&run->releases, job->pool, 4,
                          sizeof(ngx_http_agnitel_due_t)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(job->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_agnitel_renew_cleanup;
    cln->data = run;

    txn = ngx_http_agnitel_store_read(job->amcf->store, job->log);
    if (txn == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_agnitel_renew_collect(run, txn);

    ngx_http_agnitel_store_read_done(job->amcf->store);

    if (rc != 0) {
        job->error = mdb_strerror(rc);
        return NGX_ERROR;
    }

    if (run->renewals.nelts == 0) {
        ngx_http_agnitel_release_more(run);
        return NGX_OK;
    }

    /* all the renewals due in one write, in a pool the worker leaves alone */

    run->pool = ngx_create_pool(4096, job->log);
    if (run->pool == NULL) {
        return NGX_ERROR;
    }

    run->w.apply = ngx_http_agnitel_renew_apply;
    run->w.data = run;
    run->w.committed = ngx_http_agnitel_renew_committed;

    ngx_http_agnitel_commit_post(job->amcf->store, &run->w);

    return NGX_OK;
}


/* paid numbers past renews_at (active) or grace_ends_at (in grace) */

static int
ngx_http_agnitel_renew_collect(ngx_http_agnitel_renew_t *run, MDB_txn *txn)
{
    int                             rc;
    json_t                         *rec;
    time_t                          now;
    int64_t                         due;
    MDB_val                         k, v;
    ngx_str_t                       view;
    MDB_cursor                     *cur;
    ngx_http_agnitel_store_t       *store;
    ngx_http_agnitel_record_hdr_t   hdr;

    store = run->job->amcf->store;
    now = ngx_time();

    rc = mdb_cursor_open(txn, store->dbi[NGX_HTTP_AGNITEL_DB_NUMBERS], &cur);
    if (rc != 0) {
        return rc;
    }

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0
         && run->renewals.nelts + run->releases.nelts
            < NGX_HTTP_AGNITEL_RENEW_MAX;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (ngx_http_agnitel_record_header(&v, &hdr, &view) != NGX_OK
            || hdr.provider == NGX_HTTP_AGNITEL_CUSTOM
            || (hdr.status != NGX_HTTP_AGNITEL_ACTIVE
                && hdr.status != NGX_HTTP_AGNITEL_GRACE))
        {
            continue;
        }

        /* not due yet: its JSON need not be parsed to know it */

        if (ngx_http_agnitel_record_due(&v, &hdr, &due) == NGX_OK
            && due > now)
        {
            continue;
        }

        rc = ngx_http_agnitel_record_load(run->job->pool, txn, store, &k,
                                          &rec);
        if (rc != 0) {
            break;
        }

        if (json_object_get(rec, "auto_renew") == NULL) {
            continue;       /* not paid from credits */
        }

        if (hdr.status == NGX_HTTP_AGNITEL_ACTIVE
            && json_integer_value(json_object_get(rec, "renews_at")) <= now)
        {
            if (ngx_http_agnitel_renew_due(run, &run->renewals, &k, rec)
                != NGX_OK)
            {
                rc = ENOMEM;
                break;
            }

        } else if (hdr.status == NGX_HTTP_AGNITEL_GRACE
                   && json_integer_value(json_object_get(rec,
                                                         "grace_ends_at"))
                      <= now)
        {
            if (ngx_http_agnitel_renew_due(run, &run->releases, &k, rec)
                != NGX_OK)
            {
                rc = ENOMEM;
                break;
            }
        }
    }

    mdb_cursor_close(cur);

    return (rc == MDB_NOTFOUND || rc == 0) ? 0 : rc;
}


static ngx_int_t
ngx_http_agnitel_renew_due(ngx_http_agnitel_renew_t *run, ngx_array_t *list,
    MDB_val *k, json_t *rec)
{
    u_char                  *slash;
    const char              *currency;
    ngx_http_agnitel_due_t  *due;

    slash = ngx_strlchr(k->mv_data, (u_char *) k->mv_data + k->mv_size, '/');
    currency = json_string_value(json_object_get(rec, "currency"));

    if (slash == NULL || currency == NULL || ngx_strlen(currency) != 3) {
        return NGX_OK;
    }

    due = ngx_array_push(list);
    if (due == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(due, sizeof(ngx_http_agnitel_due_t));

    due->run = run;
    due->india = ngx_http_agnitel_number_india(rec);

    /* the key's bytes and the record's strings live as long as the run */

    due->workspace.len = slash - (u_char *) k->mv_data;
    due->workspace.data = ngx_pnalloc(run->job->pool, k->mv_size);
    if (due->workspace.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(due->workspace.data, k->mv_data, k->mv_size);

    due->number.data = due->workspace.data + due->workspace.len + 1;
    due->number.len = k->mv_size - due->workspace.len - 1;

    due->id.data = (u_char *) json_string_value(json_object_get(rec, "id"));
    due->provider_id.data = (u_char *) json_string_value(
                                       json_object_get(rec, "provider_id"));
    due->telephony_id.data = (u_char *) json_string_value(
                                       json_object_get(rec, "telephony_id"));

    due->id.len = due->id.data ? ngx_strlen(due->id.data) : 0;
    due->provider_id.len = due->provider_id.data
                           ? ngx_strlen(due->provider_id.data) : 0;
    due->telephony_id.len = due->telephony_id.data
                            ? ngx_strlen(due->telephony_id.data) : 0;

    if (ngx_http_agnitel_entry_init(&due->entry, &due->workspace, currency,
                                    "number_renewal",
                                    -json_integer_value(json_object_get(rec,
                                                                "price")))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    due->entry.phone_number = due->number;
    due->entry.covered = 1;

    return NGX_OK;
}


/* in the write transaction, maybe in a commit thread: run->pool only */

static int
ngx_http_agnitel_renew_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_renew_t  *run = data;

    int                      rc;
    ngx_uint_t               i;
    ngx_http_agnitel_due_t  *due;

    due = run->renewals.elts;

    for (i = 0; i < run->renewals.nelts; i++) {
        rc = ngx_http_agnitel_renew_one(run, txn, &due[i]);
        if (rc != 0) {
            return rc;
        }
    }

    return 0;
}


/* renewed if it renews by itself and the credits cover it; else grace */

static int
ngx_http_agnitel_renew_one(ngx_http_agnitel_renew_t *run, MDB_txn *txn,
    ngx_http_agnitel_due_t *due)
{
    int                            rc;
    u_char                         key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    json_t                        *rec;
    time_t                         renews_at;
    MDB_val                        k, v;
    ngx_http_agnitel_store_t      *store;
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = run->job->amcf;
    store = amcf->store;
    due->renewed = 0;

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_store_key(key, &due->workspace,
                                           &due->number);

    rc = ngx_http_agnitel_record_load(run->pool, txn, store, &k, &rec);
    if (rc != 0) {
        return (rc == MDB_NOTFOUND) ? 0 : rc;
    }

    renews_at = json_integer_value(json_object_get(rec, "renews_at"));

    if (!ngx_http_agnitel_still(rec, "active", &due->id)
        || renews_at > ngx_time())
    {
        return 0;
    }

    rc = NGX_HTTP_AGNITEL_NO_CREDITS;

    if (json_is_true(json_object_get(rec, "auto_renew"))) {
        rc = ngx_http_agnitel_ledger_append(txn, store, &due->entry);
    }

    if (rc == 0) {
        due->renewed = 1;
        rc = json_object_set_new(rec, "renews_at",
                  json_integer(renews_at
                               + ngx_http_agnitel_number_renewal(amcf, rec)));

    } else if (rc == NGX_HTTP_AGNITEL_NO_CREDITS) {
        rc = json_object_set_new(rec, "status", json_string("grace"))
             || json_object_set_new(rec, "grace_ends_at",
                          json_integer(renews_at + amcf->billing_window));

    } else {
        return rc;
    }

    if (rc != 0 || ngx_http_agnitel_record_encode(run->pool, rec, &v)
                   != NGX_OK)
    {
        return ENOMEM;
    }

    return ngx_http_agnitel_record_put(txn, store, &k, &v, 0);
}


static void
ngx_http_agnitel_renew_committed(ngx_http_agnitel_write_t *w)
{
    ngx_http_agnitel_renew_t  *run = w->data;

    ngx_uint_t               i;
    ngx_http_agnitel_due_t  *due;
    ngx_http_agnitel_job_t  *job;

    job = run->job;

    ngx_destroy_pool(run->pool);
    run->pool = NULL;

    if (w->rc != 0) {
        job->failures += run->renewals.nelts;
        job->error = "the renewals could not be written";

        ngx_log_error(NGX_LOG_ERR, job->log, 0,
                      "agnitel_jobs: renew: %s", mdb_strerror(w->rc));

    } else {
        due = run->renewals.elts;

        for (i = 0; i < run->renewals.nelts; i++) {
            ngx_log_error(NGX_LOG_INFO, job->log, 0,
                          due[i].renewed
                          ? "agnitel_jobs: renew: %V of workspace %V renewed"
                          : "agnitel_jobs: renew: %V of workspace %V is in "
                            "grace: not renewed",
                          &due[i].number, &due[i].workspace);
        }

        job->items += run->renewals.nelts;
    }

    ngx_http_agnitel_release_more(run);
}


/* grace over: the numbers leave the carrier, at most 50 calls at once */

static void
ngx_http_agnitel_release_more(ngx_http_agnitel_renew_t *run)
{
    ngx_http_agnitel_due_t  *due;

    due = run->releases.elts;

    while (run->busy < NGX_HTTP_AGNITEL_RENEW_CALLS
           && run->next < run->releases.nelts
           && !ngx_exiting)
    {
        if (ngx_http_agnitel_release_ask(&due[run->next++]) == NGX_OK) {
            run->busy++;

        } else {
            run->job->failures++;
        }
    }

    if (run->busy == 0) {
        ngx_http_agnitel_job_done(run->job);
    }
}


static ngx_int_t
ngx_http_agnitel_release_ask(ngx_http_agnitel_due_t *due)
{
    ngx_int_t                rc;
    ngx_http_agnitel_job_t  *job;

    job = due->run->job;

    due->pool = ngx_create_pool(4096, job->log);
    if (due->pool == NULL) {
        return NGX_ERROR;
    }

    rc = due->india ? ngx_http_agnitel_release_india(due)
                    : ngx_http_agnitel_release_twilio(due);
    if (rc != NGX_OK) {
        goto failed;
    }

    due->fetch.pool = due->pool;
    due->fetch.done = ngx_http_agnitel_release_answer;
    due->fetch.data = due;

    if (ngx_http_agnitel_curl_fetch(&due->fetch) == NGX_OK) {
        return NGX_OK;
    }

failed:

    ngx_destroy_pool(due->pool);
    due->pool = NULL;

    return NGX_ERROR;
}


/* a managed Twilio number leaves its subaccount */

static ngx_int_t
ngx_http_agnitel_release_twilio(ngx_http_agnitel_due_t *due)
{
    ngx_http_agnitel_twilio_account_t  account;

    if (ngx_http_agnitel_job_account(due->run->job, due->pool,
                                     &due->workspace, &due->provider_id,
                                     &account)
        != NGX_OK
        || ngx_http_agnitel_twilio_release(due->pool, &account.account_sid,
                                           &due->telephony_id,
                                           &due->fetch.call)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    due->fetch.call.authorization = account.authorization;

    return NGX_OK;
}


/*
 * An Indian number leaves the platform's account at the Indian carrier,
 * which bought it: at agnitel_india_url, not below agnitel_twilio_url.
 */

static ngx_int_t
ngx_http_agnitel_release_india(ngx_http_agnitel_due_t *due)
{
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = due->run->job->amcf;

    if (ngx_http_agnitel_job_india(due->run->job, &due->fetch) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_agnitel_exotel_release(due->pool, &amcf->india_sid,
                                           &due->telephony_id,
                                           &due->fetch.call);
}


/* released at the carrier (or gone from it already): now here */

static void
ngx_http_agnitel_release_answer(ngx_http_agnitel_fetch_t *f)
{
    ngx_http_agnitel_due_t  *due = f->data;

    json_t                          *json;
    ngx_http_agnitel_carrier_err_t   err;

    if (ngx_http_agnitel_carrier_outcome(due->india, due->pool, &f->call,
                                         NGX_HTTP_AGNITEL_TWILIO_RELEASE,
                                         &json, &err)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_WARN, due->run->job->log, 0,
                      "agnitel_jobs: renew: %V of workspace %V could not be "
                      "released at the carrier (%s): it stays in grace",
                      &due->number, &due->workspace, err.message);

        ngx_http_agnitel_release_end(due, err.message);
        return;
    }

    due->w.apply = ngx_http_agnitel_lapse_apply;
    due->w.data = due;
    due->w.committed = ngx_http_agnitel_lapse_committed;

    ngx_http_agnitel_commit_post(due->run->job->amcf->store, &due->w);
}


static int
ngx_http_agnitel_lapse_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_due_t  *due = data;

    int                        rc;
    u_char                     key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    json_t                    *rec;
    MDB_val                    k;
    ngx_http_agnitel_store_t  *store;

    store = due->run->job->amcf->store;

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_store_key(key, &due->workspace,
                                           &due->number);

    rc = ngx_http_agnitel_record_load(due->pool, txn, store, &k, &rec);
    if (rc != 0) {
        return (rc == MDB_NOTFOUND) ? 0 : rc;
    }

    /* renewed in the meantime: the carrier has let it go all the same */

    if (!ngx_http_agnitel_still(rec, "grace", &due->id)) {
        return 0;
    }

    due->renewed = 1;

    return ngx_http_agnitel_number_retire(due->pool, txn, store,
                                          &due->workspace, &due->number, rec,
                                          ngx_time(), "renewal_missed",
                                          &due->v);
}


static void
ngx_http_agnitel_lapse_committed(ngx_http_agnitel_write_t *w)
{
    ngx_http_agnitel_due_t  *due = w->data;

    if (w->rc != 0) {
        ngx_http_agnitel_release_end(due, "a released number could not be "
                                          "written");
        return;
    }

    if (due->renewed) {
        ngx_log_error(NGX_LOG_INFO, due->run->job->log, 0,
                      "agnitel_jobs: renew: %V of workspace %V was not "
                      "renewed in time: released for good",
                      &due->number, &due->workspace);
        due->run->job->items++;
    }

    ngx_http_agnitel_release_end(due, NULL);
}


static void
ngx_http_agnitel_release_end(ngx_http_agnitel_due_t *due, const char *error)
{
    ngx_http_agnitel_renew_t  *run = due->run;

    if (error) {
        run->job->failures++;
        run->job->error = error;
    }

    ngx_destroy_pool(due->pool);
    due->pool = NULL;

    run->busy--;

    ngx_http_agnitel_release_more(run);
}


static void
ngx_http_agnitel_renew_cleanup(void *data)
{
    ngx_http_agnitel_renew_t  *run = data;

    ngx_uint_t               i;
    ngx_http_agnitel_due_t  *due;

    if (run->pool) {
        ngx_destroy_pool(run->pool);
        run->pool = NULL;
    }

    due = run->releases.elts;

    for (i = 0; i < run->releases.nelts; i++) {
        if (due[i].pool) {
            ngx_destroy_pool(due[i].pool);
            due[i].pool = NULL;
        }
    }
}


/* whether rec is still the number "id", in "status" */

static ngx_uint_t
ngx_http_agnitel_still(json_t *rec, const char *status, ngx_str_t *id)
{
    const char  *s, *i;

    s = json_string_value(json_object_get(rec, "status"));
    i = json_string_value(json_object_get(rec, "id"));

    return s && i && ngx_strcmp(s, status) == 0
           && ngx_strlen(i) == id->len
           && ngx_strncmp(i, id->data, id->len) == 0;
}
