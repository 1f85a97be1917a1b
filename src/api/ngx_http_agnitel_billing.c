
/*
 * Copyright (C) agnitel
 *
 * Credits: an operator's top-ups, and what a workspace sees of its balance
 * and ledger.  The ledger itself is ngx_http_agnitel_ledger.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_billing.h"
#include "ngx_http_agnitel_commit.h"
#include "ngx_http_agnitel_crypto.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_ledger.h"
#include "ngx_http_agnitel_number.h"
#include "ngx_http_agnitel_record.h"
#include "ngx_http_agnitel_providers.h"
#include "ngx_http_agnitel_store.h"


#define NGX_HTTP_AGNITEL_REFERENCE_MAX  128


/* a top-up being recorded, or found recorded already */
typedef struct {
    ngx_http_agnitel_entry_t        e;
    ngx_http_request_t             *request;
    ngx_http_agnitel_store_t       *store;
    u_char                          key[NGX_HTTP_AGNITEL_WS_ID_LEN + 1
                                        + NGX_HTTP_AGNITEL_REFERENCE_MAX];
    MDB_val                         k;
    json_t                         *entry;
    unsigned                        replay:1;
} ngx_http_agnitel_topup_t;


/* a number paid from credits renewed from its grace */
typedef struct {
    ngx_http_agnitel_entry_t        entry;
    ngx_http_request_t             *request;
    ngx_http_agnitel_store_t       *store;
    ngx_http_agnitel_main_conf_t   *amcf;
    u_char                          key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    MDB_val                         k;
    MDB_val                         v;
} ngx_http_agnitel_renewal_t;


/* what renewing a number out of its grace period returns: no LMDB code */
#define NGX_HTTP_AGNITEL_NOT_IN_GRACE   (MDB_KEYEXIST + 1004)


static int ngx_http_agnitel_topup_apply(MDB_txn *txn, void *data);
static int ngx_http_agnitel_renewal_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_renewal_written(ngx_http_request_t *r,
    void *data, int rc);
static ngx_int_t ngx_http_agnitel_topup_written(ngx_http_request_t *r,
    void *data, int rc);
static const char *ngx_http_agnitel_currency(ngx_http_request_t *r,
    json_t *body, u_char *currency);
static int ngx_http_agnitel_entry_get(ngx_http_request_t *r, MDB_txn *txn,
    MDB_val *k, json_t **entry);


/* POST /admin/v1/workspaces/{id}/credits {amount, currency?, reference} */

ngx_int_t
ngx_http_agnitel_credits_topup(ngx_http_request_t *r, json_t *body)
{
    u_char                         currency[3];
    int64_t                        amount;
    ngx_str_t                      reference;
    const char                    *msg;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_topup_t      *t;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    if (ngx_http_agnitel_id_valid(&ctx->params[0], "ws_") != NGX_OK) {
        return ngx_http_agnitel_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                      NULL, "no such workspace");
    }

    msg = ngx_http_agnitel_money(r, "amount", 1, &amount);
    if (msg) {
        return ngx_http_agnitel_invalid(r, "amount", msg);
    }

    if (amount <= 0) {
        return ngx_http_agnitel_invalid(r, "amount",
                                        "amount must be more than 0");
    }

    msg = ngx_http_agnitel_currency(r, body, currency);
    if (msg) {
        return ngx_http_agnitel_invalid(r, "currency", msg);
    }

    msg = ngx_http_agnitel_text(r->pool, body, "reference",
                                NGX_HTTP_AGNITEL_REFERENCE_MAX, 1,
                                &reference);
    if (msg) {
        return ngx_http_agnitel_invalid(r, "reference", msg);
    }

    t = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_topup_t));
    if (t == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_agnitel_entry_init(&t->e, &ctx->params[0],
                                    (char *) currency, "topup", amount)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t->e.reference = reference;
    t->request = r;
    t->store = amcf->store;
    t->k.mv_data = t->key;
    t->k.mv_size = ngx_http_agnitel_store_key(t->key, &ctx->params[0],
                                              &reference);

    return ngx_http_agnitel_write(r, ngx_http_agnitel_topup_apply,
                                  ngx_http_agnitel_topup_written, t);
}


/* the same reference twice is one top-up: the second finds the first */

static int
ngx_http_agnitel_topup_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_topup_t  *t = data;

    int      rc;
    u_char   lkey[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    MDB_val  k, v;

    t->replay = 0;

    k.mv_data = t->e.workspace.data;
    k.mv_size = t->e.workspace.len;

    rc = mdb_get(txn, t->store->dbi[NGX_HTTP_AGNITEL_DB_WORKSPACES], &k, &v);
    if (rc != 0) {
        return rc;
    }

    rc = mdb_get(txn, t->store->dbi[NGX_HTTP_AGNITEL_DB_TOPUPS], &t->k, &v);

    if (rc == 0) {
        t->replay = 1;
        return ngx_http_agnitel_entry_get(t->request, txn, &v, &t->entry);
    }

    if (rc != MDB_NOTFOUND) {
        return rc;
    }

    rc = ngx_http_agnitel_ledger_append(txn, t->store, &t->e);
    if (rc != 0) {
        return rc;
    }

    v.mv_data = lkey;
    v.mv_size = ngx_http_agnitel_ledger_key(lkey, &t->e.workspace,
                                            t->e.currency, t->e.seq);

    rc = mdb_put(txn, t->store->dbi[NGX_HTTP_AGNITEL_DB_TOPUPS], &t->k, &v,
                 MDB_NOOVERWRITE);
    if (rc != 0) {
        return rc;
    }

    return ngx_http_agnitel_entry_get(t->request, txn, &v, &t->entry);
}


static ngx_int_t
ngx_http_agnitel_topup_written(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_topup_t  *t = data;

    ngx_http_agnitel_json_t  *j;

    if (rc == MDB_NOTFOUND) {
        return ngx_http_agnitel_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                      NULL, "no such workspace");
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    if (!t->replay) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "agnitel: workspace %V credited %L micro-units of "
                      "%*s, reference \"%V\"", &t->e.workspace, t->e.amount,
                      (size_t) 3, t->e.currency, &t->e.reference);
    }

    j = ngx_http_agnitel_reply(r, 512, t->replay
                                       ? "Top-up already recorded"
                                       : "Credits added");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_entry_view(j, t->entry);

    return ngx_http_agnitel_send(r, t->replay ? NGX_HTTP_OK
                                              : NGX_HTTP_CREATED, j);
}


/* GET /api/v1/billing[?currency=] */

ngx_int_t
ngx_http_agnitel_billing_get(ngx_http_request_t *r, json_t *body)
{
    int                            rc;
    u_char                         currency[3];
    json_t                        *prv;
    int64_t                        balance;
    MDB_txn                       *txn;
    uint64_t                       seq;
    const char                    *msg;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_json_t       *j;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    msg = ngx_http_agnitel_currency(r, NULL, currency);
    if (msg) {
        return ngx_http_agnitel_invalid(r, "currency", msg);
    }

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_agnitel_ledger_balance(txn, amcf->store, &ctx->workspace,
                                         currency, &balance, &seq);

    /* the billing cycle is the managed Twilio provider's */

    prv = NULL;

    if (rc == 0 && ngx_strncmp(currency, "USD", 3) == 0) {
        rc = ngx_http_agnitel_provider_managed(r, txn, &ctx->workspace,
                                               &prv);
        rc = (rc == MDB_NOTFOUND) ? 0 : rc;
    }

    ngx_http_agnitel_store_read_done(amcf->store);

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    j = ngx_http_agnitel_reply(r, 256, "Billing");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "balance");
    ngx_http_agnitel_json_money(j, balance);
    ngx_http_agnitel_json_key(j, "currency");
    ngx_http_agnitel_json_str(j, currency, 3);
    ngx_http_agnitel_json_key(j, "cycle_start");
    ngx_http_agnitel_json_time(j,
                    json_integer_value(json_object_get(prv, "cycle_start")));
    ngx_http_agnitel_json_key(j, "cycle_end");
    ngx_http_agnitel_json_time(j,
                    json_integer_value(json_object_get(prv, "cycle_end")));
    ngx_http_agnitel_json_lit(j, "}");

    return ngx_http_agnitel_send(r, NGX_HTTP_OK, j);
}


/* GET /api/v1/billing/ledger[?currency&limit&offset]: newest first */

ngx_int_t
ngx_http_agnitel_billing_ledger(ngx_http_request_t *r, json_t *body)
{
    int                            rc;
    u_char                         currency[3];
    u_char                         key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    json_t                        *entry;
    int64_t                        balance;
    MDB_val                        k;
    MDB_txn                       *txn;
    uint64_t                       seq, s;
    ngx_uint_t                     limit, offset, n;
    const char                    *msg, *field;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_json_t       *j;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    msg = ngx_http_agnitel_currency(r, NULL, currency);
    if (msg) {
        return ngx_http_agnitel_invalid(r, "currency", msg);
    }

    msg = ngx_http_agnitel_page(r, &limit, &offset, &field);
    if (msg) {
        return ngx_http_agnitel_invalid(r, field, msg);
    }

    j = ngx_http_agnitel_reply(r, 256 * limit, "Ledger");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_agnitel_ledger_balance(txn, amcf->store, &ctx->workspace,
                                         currency, &balance, &seq);

    ngx_http_agnitel_json_lit(j, "[");

    k.mv_data = key;
    n = 0;

    for (s = (seq > offset) ? seq - offset : 0;
         rc == 0 && s > 0 && n < limit;
         s--, n++)
    {
        k.mv_size = ngx_http_agnitel_ledger_key(key, &ctx->workspace,
                                                currency, s);

        rc = ngx_http_agnitel_entry_get(r, txn, &k, &entry);

        if (rc == 0) {
            if (n) {
                ngx_http_agnitel_json_lit(j, ",");
            }

            ngx_http_agnitel_entry_view(j, entry);
        }
    }

    ngx_http_agnitel_store_read_done(amcf->store);

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    ngx_http_agnitel_json_lit(j, "]");
    ngx_http_agnitel_json_key(j, "meta");
    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "total");
    ngx_http_agnitel_json_int(j, seq);
    ngx_http_agnitel_json_key(j, "limit");
    ngx_http_agnitel_json_int(j, limit);
    ngx_http_agnitel_json_key(j, "offset");
    ngx_http_agnitel_json_int(j, offset);
    ngx_http_agnitel_json_lit(j, "}");

    return ngx_http_agnitel_send(r, NGX_HTTP_OK, j);
}


/* a ledger entry as the API shows it: money as exact decimals */

void
ngx_http_agnitel_entry_view(ngx_http_agnitel_json_t *j, json_t *entry)
{
    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_member(j, "id", json_object_get(entry, "id"));
    ngx_http_agnitel_json_member(j, "type", json_object_get(entry, "type"));
    ngx_http_agnitel_json_key(j, "amount");
    ngx_http_agnitel_json_money(j,
                         json_integer_value(json_object_get(entry, "amount")));
    ngx_http_agnitel_json_key(j, "balance_after");
    ngx_http_agnitel_json_money(j,
                  json_integer_value(json_object_get(entry, "balance_after")));
    ngx_http_agnitel_json_member(j, "currency",
                                 json_object_get(entry, "currency"));
    ngx_http_agnitel_json_member(j, "phone_number",
                                 json_object_get(entry, "phone_number"));
    ngx_http_agnitel_json_member(j, "reference",
                                 json_object_get(entry, "reference"));
    ngx_http_agnitel_json_key(j, "created_at");
    ngx_http_agnitel_json_time(j,
                     json_integer_value(json_object_get(entry, "created_at")));
    ngx_http_agnitel_json_lit(j, "}");
}


/* currency: three capitals, from the body or the query; USD by default */

static const char *
ngx_http_agnitel_currency(ngx_http_request_t *r, json_t *body,
    u_char *currency)
{
    ngx_str_t    s;
    const char  *msg;

    static const char  *invalid = "currency must be an ISO 4217 code in "
                                  "capitals, such as USD or INR";

    if (body) {
        msg = ngx_http_agnitel_text(r->pool, body, "currency", 3, 0, &s);
        if (msg) {
            return invalid;
        }

    } else if (ngx_http_agnitel_arg(r, "currency", &s) != NGX_OK) {
        s.len = 0;
    }

    if (s.len == 0) {
        ngx_memcpy(currency, "USD", 3);
        return NULL;
    }

    if (s.len != 3 || !isupper(s.data[0]) || !isupper(s.data[1])
        || !isupper(s.data[2]))
    {
        return invalid;
    }

    ngx_memcpy(currency, s.data, 3);

    return NULL;
}


/* the ledger entry at k, owned by the request's pool */

static int
ngx_http_agnitel_entry_get(ngx_http_request_t *r, MDB_txn *txn, MDB_val *k,
    json_t **entry)
{
    int                            rc;
    MDB_val                        v;
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    rc = mdb_get(txn, amcf->store->dbi[NGX_HTTP_AGNITEL_DB_LEDGER], k, &v);
    if (rc != 0) {
        return rc;
    }

    *entry = json_loadb(v.mv_data, v.mv_size, 0, NULL);

    return (ngx_http_agnitel_json_own(r->pool, *entry) == NGX_OK)
           ? 0 : MDB_CORRUPTED;
}


/*
 * POST /api/v1/phone-numbers/{n}/renew: a number paid from credits (a
 * managed Twilio number, an Indian one) in its grace period is paid for
 * again (402 if the credits are short) and active; its renewal period goes
 * on from the missed date.
 */

ngx_int_t
ngx_http_agnitel_number_renew(ngx_http_request_t *r, json_t *body)
{
    ngx_http_agnitel_ctx_t         *ctx;
    ngx_http_agnitel_renewal_t     *rn;
    ngx_http_agnitel_main_conf_t   *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    rn = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_renewal_t));
    if (rn == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_agnitel_path_number(r, rn->key, &rn->k.mv_size) != NGX_OK) {
        return ngx_http_agnitel_bad_path_number(r);
    }

    /* the amount and currency are the number's, read in the transaction */

    if (ngx_http_agnitel_entry_init(&rn->entry, &ctx->workspace, "USD",
                                    "number_renewal", 0)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rn->entry.phone_number = ctx->params[0];
    rn->entry.covered = 1;
    rn->request = r;
    rn->store = amcf->store;
    rn->amcf = amcf;
    rn->k.mv_data = rn->key;

    return ngx_http_agnitel_write(r, ngx_http_agnitel_renewal_apply,
                                  ngx_http_agnitel_renewal_written, rn);
}


static int
ngx_http_agnitel_renewal_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_renewal_t  *rn = data;

    int          rc;
    json_t      *rec;
    const char  *status, *currency;

    rc = ngx_http_agnitel_record_load(rn->request->pool, txn, rn->store,
                                      &rn->k, &rec);
    if (rc != 0) {
        return rc;
    }

    status = json_string_value(json_object_get(rec, "status"));
    currency = json_string_value(json_object_get(rec, "currency"));

    if (json_object_get(rec, "auto_renew") == NULL || currency == NULL
        || ngx_strlen(currency) != 3)
    {
        return NGX_HTTP_AGNITEL_NOT_MANAGED;
    }

    if (status == NULL || ngx_strcmp(status, "grace") != 0) {
        return NGX_HTTP_AGNITEL_NOT_IN_GRACE;
    }

    ngx_memcpy(rn->entry.currency, currency, 3);
    rn->entry.amount = -json_integer_value(json_object_get(rec, "price"));
    rn->entry.phone_number.data = (u_char *) json_string_value(
                                       json_object_get(rec, "phone_number"));
    rn->entry.phone_number.len = ngx_strlen(rn->entry.phone_number.data);

    rc = ngx_http_agnitel_ledger_append(txn, rn->store, &rn->entry);
    if (rc != 0) {
        return rc;
    }

    if (json_object_set_new(rec, "status", json_string("active")) != 0
        || json_object_set_new(rec, "renews_at",
               json_integer(json_integer_value(json_object_get(rec,
                                                               "renews_at"))
                            + ngx_http_agnitel_number_renewal(rn->amcf,
                                                              rec))) != 0
        || json_object_del(rec, "grace_ends_at") != 0
        || ngx_http_agnitel_record_encode(rn->request->pool, rec, &rn->v)
           != NGX_OK)
    {
        return ENOMEM;
    }

    return ngx_http_agnitel_record_put(txn, rn->store, &rn->k, &rn->v, 0);
}


static ngx_int_t
ngx_http_agnitel_renewal_written(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_renewal_t  *rn = data;

    switch (rc) {

    case 0:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "agnitel: workspace %V renewed %V from grace",
                      &rn->entry.workspace, &rn->entry.phone_number);

        return ngx_http_agnitel_send(r, NGX_HTTP_OK,
                                     ngx_http_agnitel_reply_view(r,
                                         "Phone number renewed", &rn->v));

    case MDB_NOTFOUND:
        return ngx_http_agnitel_number_not_found(r);

    case NGX_HTTP_AGNITEL_NOT_MANAGED:
        return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT, "invalid_state",
                                      NULL, "only numbers paid from credits "
                                      "(managed Twilio, Indian) are "
                                      "renewed");

    case NGX_HTTP_AGNITEL_NOT_IN_GRACE:
        return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT, "invalid_state",
                                      NULL, "the number is not in its grace "
                                      "period: it renews by itself");

    case NGX_HTTP_AGNITEL_NO_CREDITS:
        return ngx_http_agnitel_error(r, NGX_HTTP_AGNITEL_PAYMENT_REQUIRED,
                                      "insufficient_credits", NULL,
                                      "the credit balance does not cover "
                                      "the renewal: top up first");
    }

    return ngx_http_agnitel_store_error(r, rc);
}
