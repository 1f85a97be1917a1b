
/*
 * Copyright (C) agnitel
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_numbers.h"
#include "ngx_http_agnitel_number.h"
#include "ngx_http_agnitel_purchase.h"
#include "ngx_http_agnitel_crypto.h"
#include "ngx_http_agnitel_e164.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_record.h"
#include "ngx_http_agnitel_store.h"



/* a generous size for one rendered number */
#define NGX_HTTP_AGNITEL_VIEW_SIZE       768


typedef struct {
    ngx_uint_t                      status;
    ngx_uint_t                      provider;
    ngx_int_t                       active;     /* -1: either */
    u_char                          iso[2];
    ngx_uint_t                      limit;
    ngx_uint_t                      offset;
} ngx_http_agnitel_filter_t;


/* a list being answered */
typedef struct {
    ngx_http_agnitel_filter_t       filter;
    ngx_http_agnitel_ctx_t         *ctx;
    ngx_http_agnitel_store_t       *store;
    ngx_http_agnitel_json_t        *j;
    ngx_uint_t                      total;
    ngx_uint_t                      n;
} ngx_http_agnitel_list_t;


static const char *ngx_http_agnitel_filter(ngx_http_request_t *r,
    ngx_http_agnitel_filter_t *f, const char **field);
static ngx_uint_t ngx_http_agnitel_filter_all(ngx_http_agnitel_filter_t *f);
static ngx_uint_t ngx_http_agnitel_filter_match(ngx_http_agnitel_filter_t *f,
    ngx_http_agnitel_record_hdr_t *hdr);
static int ngx_http_agnitel_list_inventory(MDB_txn *txn,
    ngx_http_agnitel_list_t *l);
static int ngx_http_agnitel_list_history(MDB_txn *txn,
    ngx_http_agnitel_list_t *l);
static ngx_uint_t ngx_http_agnitel_list_take(ngx_http_agnitel_list_t *l,
    ngx_http_agnitel_record_hdr_t *hdr);
static int ngx_http_agnitel_list_record(ngx_http_agnitel_list_t *l,
    MDB_cursor *records, ngx_http_agnitel_index_entry_t *e);
static int ngx_http_agnitel_list_add(ngx_http_agnitel_list_t *l,
    MDB_val *val);
static const char *ngx_http_agnitel_country(ngx_http_request_t *r,
    json_t *body, ngx_str_t *number, u_char *iso);
static void ngx_http_agnitel_numbers_record(ngx_http_agnitel_json_t *j,
    ngx_http_agnitel_number_t *n, ngx_str_t *sealed);


ngx_int_t
ngx_http_agnitel_numbers_import(ngx_http_request_t *r, json_t *body)
{
    u_char                         id[NGX_HTTP_AGNITEL_PN_ID_LEN];
    u_char                         key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    u_char                         iso[2];
    MDB_val                        v;
    ngx_str_t                      number, name, user, pass, uri, sealed,
                                   aad;
    const char                    *msg;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_json_t        j;
    ngx_http_agnitel_number_t      n;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    msg = ngx_http_agnitel_text(r->pool, body, "phone_number", 16, 1,
                                &number);

    if (msg || ngx_http_agnitel_e164_valid(number.data, number.len)
               != NGX_OK)
    {
        return ngx_http_agnitel_invalid(r, "phone_number",
                                        "phone_number must be E.164, "
                                        "such as +14155550100");
    }

    msg = ngx_http_agnitel_text(r->pool, body, "friendly_name", 64, 1, &name);
    if (msg) {
        return ngx_http_agnitel_invalid(r, "friendly_name", msg);
    }

    msg = ngx_http_agnitel_text(r->pool, body, "sip_username", 128, 1, &user);
    if (msg) {
        return ngx_http_agnitel_invalid(r, "sip_username", msg);
    }

    msg = ngx_http_agnitel_text(r->pool, body, "sip_password", 128, 1, &pass);
    if (msg) {
        return ngx_http_agnitel_invalid(r, "sip_password", msg);
    }

    msg = ngx_http_agnitel_text(r->pool, body, "termination_uri", 256, 0,
                                &uri);

    if (msg == NULL && uri.data == NULL) {
        uri = amcf->sip_termination_uri;

        if (uri.len == 0) {
            msg = "termination_uri is required: "
                  "no agnitel_sip_termination_uri is configured";
        }
    }

    if (msg == NULL && ngx_http_agnitel_sip_uri_valid(&uri) != NGX_OK) {
        msg = "termination_uri must be a SIP URI (sip: or sips:)";
    }

    if (msg) {
        return ngx_http_agnitel_invalid(r, "termination_uri", msg);
    }

    msg = ngx_http_agnitel_country(r, body, &number, iso);
    if (msg) {
        return ngx_http_agnitel_invalid(r, "iso_country", msg);
    }

    if (ngx_http_agnitel_make_id(id, "pn_") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the sealed password is bound to this workspace and number */

    aad.data = key;
    aad.len = ngx_http_agnitel_store_key(key, &ctx->workspace, &number);

    if (ngx_http_agnitel_seal(r->pool, amcf->key, &aad, &pass, &sealed)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_number_init(&n);

    n.id.data = id;
    n.id.len = NGX_HTTP_AGNITEL_PN_ID_LEN;
    n.phone_number = number;
    n.friendly_name = name;
    ngx_str_set(&n.provider, "custom");
    n.iso_country.data = iso;
    n.iso_country.len = 2;
    n.voice = 1;
    ngx_str_set(&n.status, "active");
    n.created_at = ngx_time();
    n.termination_uri = uri;
    n.sip_username = user;

    ngx_http_agnitel_record_begin(&j, r->pool, &n);
    ngx_http_agnitel_numbers_record(&j, &n, &sealed);

    if (ngx_http_agnitel_record_end(&j, &v) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_agnitel_number_insert(r, &number, &v,
                                           "Phone number imported");
}


/*
 * The record of an imported number, written straight after its view: an
 * import makes no jansson object of it, which was a quarter of the
 * instructions of an import (building it, reading it back for the view,
 * freeing it).
 */

static void
ngx_http_agnitel_numbers_record(ngx_http_agnitel_json_t *j,
    ngx_http_agnitel_number_t *n, ngx_str_t *sealed)
{
    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_text(j, "id", &n->id);
    ngx_http_agnitel_json_text(j, "phone_number", &n->phone_number);
    ngx_http_agnitel_json_text(j, "friendly_name", &n->friendly_name);
    ngx_http_agnitel_json_text(j, "provider", &n->provider);
    ngx_http_agnitel_json_text(j, "iso_country", &n->iso_country);
    ngx_http_agnitel_json_key(j, "capabilities");
    ngx_http_agnitel_json_lit(j, "{\"voice\":true,\"sms\":false}");
    ngx_http_agnitel_json_text(j, "status", &n->status);
    ngx_http_agnitel_json_key(j, "created_at");
    ngx_http_agnitel_json_int(j, n->created_at);
    ngx_http_agnitel_json_text(j, "termination_uri", &n->termination_uri);
    ngx_http_agnitel_json_text(j, "sip_username", &n->sip_username);
    ngx_http_agnitel_json_text(j, "sip_password", sealed);
    ngx_http_agnitel_json_lit(j, "}");
}


ngx_int_t
ngx_http_agnitel_numbers_list(ngx_http_request_t *r, json_t *body)
{
    int                            rc;
    MDB_txn                       *txn;
    const char                    *msg, *field;
    ngx_http_agnitel_list_t        l;
    ngx_http_agnitel_main_conf_t  *amcf;

    ngx_memzero(&l, sizeof(ngx_http_agnitel_list_t));

    msg = ngx_http_agnitel_filter(r, &l.filter, &field);
    if (msg) {
        return ngx_http_agnitel_invalid(r, field, msg);
    }

    l.ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);
    l.store = amcf->store;

    l.j = ngx_http_agnitel_reply(r, l.filter.limit
                                    * NGX_HTTP_AGNITEL_VIEW_SIZE,
                                 "Phone numbers");
    if (l.j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_json_lit(l.j, "[");

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* released numbers are history, kept apart from the inventory */

    if (l.filter.status == NGX_HTTP_AGNITEL_RELEASED) {
        rc = ngx_http_agnitel_list_history(txn, &l);

    } else {
        rc = ngx_http_agnitel_list_inventory(txn, &l);
    }

    ngx_http_agnitel_store_read_done(amcf->store);

    if (rc != 0 && rc != MDB_NOTFOUND) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    ngx_http_agnitel_json_lit(l.j, "]");
    ngx_http_agnitel_json_key(l.j, "meta");
    ngx_http_agnitel_json_lit(l.j, "{");
    ngx_http_agnitel_json_key(l.j, "total");
    ngx_http_agnitel_json_int(l.j, l.total);
    ngx_http_agnitel_json_key(l.j, "limit");
    ngx_http_agnitel_json_int(l.j, l.filter.limit);
    ngx_http_agnitel_json_key(l.j, "offset");
    ngx_http_agnitel_json_int(l.j, l.filter.offset);
    ngx_http_agnitel_json_lit(l.j, "}");

    return ngx_http_agnitel_send(r, NGX_HTTP_OK, l.j);
}


/*
 * The inventory: the workspace's index entries a page at a time, and the
 * records of just the numbers on the page of the answer.  Unfiltered, the
 * index's own count is the total, the index pages before the offset are
 * skipped whole, and the walk stops at the limit.
 */

static int
ngx_http_agnitel_list_inventory(MDB_txn *txn, ngx_http_agnitel_list_t *l)
{
    int                             rc;
    size_t                          count;
    MDB_val                         page;
    ngx_uint_t                      i, n, skip, all;
    MDB_cursor                     *cur, *records;
    ngx_http_agnitel_index_entry_t  e;

    rc = mdb_cursor_open(txn, l->store->dbi[NGX_HTTP_AGNITEL_DB_NUMBERS],
                         &records);
    if (rc != 0) {
        return rc;
    }

    rc = ngx_http_agnitel_index_first(txn, l->store, &l->ctx->workspace, &cur,
                                      &page);

    all = ngx_http_agnitel_filter_all(&l->filter);
    skip = 0;

    if (rc == 0 && all) {
        rc = mdb_cursor_count(cur, &count);

        if (rc == 0) {
            l->total = count;
            skip = l->filter.offset;

            if (skip >= count) {
                rc = MDB_NOTFOUND;      /* past the end: an empty page */
            }
        }
    }

    for ( /* void */ ; rc == 0;
         rc = ngx_http_agnitel_index_next(cur, &page))
    {
        n = page.mv_size / sizeof(ngx_http_agnitel_index_entry_t);

        if (skip >= n) {
            skip -= n;
            continue;
        }

        for (i = skip; i < n; i++) {
            ngx_http_agnitel_index_entry(&page, i, &e);

            if (!all && !ngx_http_agnitel_list_take(l, &e.hdr)) {
                continue;
            }

            rc = ngx_http_agnitel_list_record(l, records, &e);

            if (rc != 0 || (all && l->n == l->filter.limit)) {
                goto done;
            }
        }

        skip = 0;
    }

done:

    if (cur) {
        mdb_cursor_close(cur);
    }

    mdb_cursor_close(records);

    return rc;
}


/*
 * The record of an index entry into the answer.  The records of a
 * workspace are keyed in the index's order, so the next one is most often
 * the one after the last: a step of the cursor, not a search from the root.
 */

static int
ngx_http_agnitel_list_record(ngx_http_agnitel_list_t *l, MDB_cursor *records,
    ngx_http_agnitel_index_entry_t *e)
{
    int        rc;
    u_char     key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    MDB_val    k, v, want;
    ngx_str_t  number;

    number.data = e->number;
    number.len = ngx_strnlen(e->number, sizeof(e->number));

    want.mv_data = key;
    want.mv_size = ngx_http_agnitel_store_key(key, &l->ctx->workspace,
                                              &number);

    rc = l->n ? mdb_cursor_get(records, &k, &v, MDB_NEXT) : MDB_NOTFOUND;

    if (rc != 0
        || k.mv_size != want.mv_size
        || ngx_memcmp(k.mv_data, want.mv_data, want.mv_size) != 0)
    {
        k = want;
        rc = mdb_cursor_get(records, &k, &v, MDB_SET_KEY);
    }

    if (rc != 0) {
        return rc;
    }

    return ngx_http_agnitel_list_add(l, &v);
}


/* the history: released records, each holding its view */

static int
ngx_http_agnitel_list_history(MDB_txn *txn, ngx_http_agnitel_list_t *l)
{
    int                             rc;
    u_char                          prefix[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    size_t                          len;
    MDB_val                         k, v;
    MDB_cursor                     *cur;
    ngx_http_agnitel_record_hdr_t   hdr;

    rc = mdb_cursor_open(txn,
                         l->store->dbi[NGX_HTTP_AGNITEL_DB_NUMBER_HISTORY],
                         &cur);
    if (rc != 0) {
        return rc;
    }

    len = ngx_http_agnitel_store_key(prefix, &l->ctx->workspace, NULL);

    k.mv_data = prefix;
    k.mv_size = len;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size < len || ngx_memcmp(k.mv_data, prefix, len) != 0) {
            rc = MDB_NOTFOUND;
            break;
        }

        if (ngx_http_agnitel_record_hdr(&v, &hdr) == NGX_OK
            && ngx_http_agnitel_list_take(l, &hdr))
        {
            rc = ngx_http_agnitel_list_add(l, &v);

            if (rc != 0) {
                break;
            }
        }
    }

    mdb_cursor_close(cur);

    return rc;
}


/* counts a record that matches the filter; true if it is on the page */

static ngx_uint_t
ngx_http_agnitel_list_take(ngx_http_agnitel_list_t *l,
    ngx_http_agnitel_record_hdr_t *hdr)
{
    if (!ngx_http_agnitel_filter_match(&l->filter, hdr)) {
        return 0;
    }

    return l->total++ >= l->filter.offset && l->n < l->filter.limit;
}


/* copies a record's view into the answer, inside the read transaction */

static int
ngx_http_agnitel_list_add(ngx_http_agnitel_list_t *l, MDB_val *val)
{
    ngx_str_t                      view;
    ngx_http_agnitel_record_hdr_t  hdr;

    if (ngx_http_agnitel_record_header(val, &hdr, &view) != NGX_OK) {
        return MDB_CORRUPTED;
    }

    if (l->n++) {
        ngx_http_agnitel_json_lit(l->j, ",");
    }

    ngx_http_agnitel_json_raw(l->j, view.data, view.len);

    return 0;
}


ngx_int_t
ngx_http_agnitel_numbers_get(ngx_http_request_t *r, json_t *body)
{
    int                            rc;
    u_char                         key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    size_t                         key_len;
    MDB_val                        k, v;
    MDB_txn                       *txn;
    ngx_http_agnitel_json_t       *j;
    ngx_http_agnitel_main_conf_t  *amcf;

    if (ngx_http_agnitel_path_number(r, key, &key_len) != NGX_OK) {
        return ngx_http_agnitel_bad_path_number(r);
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    k.mv_data = key;
    k.mv_size = key_len;

    rc = mdb_get(txn, amcf->store->dbi[NGX_HTTP_AGNITEL_DB_NUMBERS], &k, &v);

    if (rc == 0) {
        /* the reply copies the view before the snapshot goes */
        j = ngx_http_agnitel_reply_view(r, "Phone number", &v);
    }

    ngx_http_agnitel_store_read_done(amcf->store);

    if (rc == MDB_NOTFOUND) {
        return ngx_http_agnitel_number_not_found(r);
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    return ngx_http_agnitel_send(r, NGX_HTTP_OK, j);
}


ngx_int_t
ngx_http_agnitel_numbers_patch(ngx_http_request_t *r, json_t *body)
{
    u_char       key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    size_t       key_len;
    json_t      *renew;
    ngx_int_t    auto_renew;
    ngx_str_t    name;
    const char  *msg;

    if (ngx_http_agnitel_path_number(r, key, &key_len) != NGX_OK) {
        return ngx_http_agnitel_bad_path_number(r);
    }

    /* friendly_name, auto_renew (managed numbers), or both */

    renew = json_object_get(body, "auto_renew");

    if (renew && !json_is_boolean(renew)) {
        return ngx_http_agnitel_invalid(r, "auto_renew",
                                        "auto_renew must be true or false");
    }

    auto_renew = renew ? json_is_true(renew) : -1;

    msg = ngx_http_agnitel_text(r->pool, body, "friendly_name", 64,
                                renew == NULL, &name);
    if (msg) {
        return ngx_http_agnitel_invalid(r, "friendly_name", msg);
    }

    return ngx_http_agnitel_number_rename(r, key, key_len, &name, auto_renew);
}


/*
 * A number bought from Twilio is released there first (see carrier.c);
 * a custom one only here.
 */

ngx_int_t
ngx_http_agnitel_numbers_release(ngx_http_request_t *r, json_t *body)
{
    int                            rc;
    u_char                         key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    size_t                         key_len;
    json_t                        *rec;
    MDB_val                        k;
    MDB_txn                       *txn;
    ngx_str_t                      sid;
    const char                    *provider, *status;
    ngx_http_agnitel_main_conf_t  *amcf;

    if (ngx_http_agnitel_path_number(r, key, &key_len) != NGX_OK) {
        return ngx_http_agnitel_bad_path_number(r);
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    k.mv_data = key;
    k.mv_size = key_len;

    rc = ngx_http_agnitel_record_load(r->pool, txn, amcf->store, &k, &rec);

    ngx_http_agnitel_store_read_done(amcf->store);

    if (rc == MDB_NOTFOUND) {
        return ngx_http_agnitel_number_not_found(r);
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    /*
     * A pending purchase may yet succeed at the carrier: releasing it here
     * would lose a number the workspace pays for.
     */

    status = json_string_value(json_object_get(rec, "status"));

    if (status && ngx_strcmp(status, "pending") == 0) {
        return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT, "number_pending",
                                      "phone_number",
                                      "the purchase of this number has no "
                                      "known outcome yet");
    }

    provider = json_string_value(json_object_get(rec, "provider"));
    sid.data = (u_char *) json_string_value(json_object_get(rec,
                                                            "telephony_id"));

    if (provider && sid.data
        && (ngx_strcmp(provider, "twilio") == 0
            || ngx_strcmp(provider, "india") == 0))
    {
        sid.len = ngx_strlen(sid.data);
        return ngx_http_agnitel_purchase_release(r,
                                   ngx_http_agnitel_number_india(rec), &sid);
    }

    return ngx_http_agnitel_number_release_local(r);
}


/* NULL, or what is wrong with the query; *field names the argument */

static const char *
ngx_http_agnitel_filter(ngx_http_request_t *r, ngx_http_agnitel_filter_t *f,
    const char **field)
{
    ngx_str_t  v;

    ngx_memzero(f, sizeof(ngx_http_agnitel_filter_t));
    f->active = -1;

    if (ngx_http_agnitel_arg(r, "status", &v) == NGX_OK) {
        f->status = ngx_http_agnitel_status(&v);

        if (f->status == 0) {
            *field = "status";
            return "status must be pending, active, grace or released";
        }
    }

    if (ngx_http_agnitel_arg(r, "provider", &v) == NGX_OK) {
        f->provider = ngx_http_agnitel_provider(&v);

        if (f->provider == 0) {
            *field = "provider";
            return "provider must be custom, twilio or india";
        }
    }

    if (ngx_http_agnitel_arg(r, "is_active", &v) == NGX_OK) {

        if (v.len == 4 && ngx_strncmp(v.data, "true", 4) == 0) {
            f->active = 1;

        } else if (v.len == 5 && ngx_strncmp(v.data, "false", 5) == 0) {
            f->active = 0;

        } else {
            *field = "is_active";
            return "is_active must be true or false";
        }
    }

    if (ngx_http_agnitel_arg(r, "iso_country", &v) == NGX_OK) {

        if (v.len != 2 || !isalpha(v.data[0]) || !isalpha(v.data[1])) {
            *field = "iso_country";
            return "iso_country must be an ISO 3166-1 alpha-2 code";
        }

        f->iso[0] = ngx_toupper(v.data[0]);
        f->iso[1] = ngx_toupper(v.data[1]);
    }

    return ngx_http_agnitel_page(r, &f->limit, &f->offset, field);
}


static ngx_uint_t
ngx_http_agnitel_filter_all(ngx_http_agnitel_filter_t *f)
{
    return f->status == 0 && f->provider == 0 && f->iso[0] == 0
           && f->active == -1;
}


static ngx_uint_t
ngx_http_agnitel_filter_match(ngx_http_agnitel_filter_t *f,
    ngx_http_agnitel_record_hdr_t *hdr)
{
    ngx_int_t  active;

    if (f->status && hdr->status != f->status) {
        return 0;
    }

    if (f->provider && hdr->provider != f->provider) {
        return 0;
    }

    if (f->iso[0] && ngx_memcmp(f->iso, hdr->iso_country, 2) != 0) {
        return 0;
    }

    if (f->active != -1) {
        active = (hdr->status == NGX_HTTP_AGNITEL_ACTIVE
                  || hdr->status == NGX_HTTP_AGNITEL_GRACE);

        if (active != f->active) {
            return 0;
        }
    }

    return 1;
}


/* iso_country as given (two letters), else derived from the number */

static const char *
ngx_http_agnitel_country(ngx_http_request_t *r, json_t *body,
    ngx_str_t *number, u_char *iso)
{
    ngx_str_t      given;
    const char    *msg;
    const u_char  *cc;

    msg = ngx_http_agnitel_text(r->pool, body, "iso_country", 2, 0, &given);

    if (msg == NULL && given.data) {

        if (given.len != 2 || !isalpha(given.data[0])
            || !isalpha(given.data[1]))
        {
            return "iso_country must be an ISO 3166-1 alpha-2 code";
        }

        iso[0] = ngx_toupper(given.data[0]);
        iso[1] = ngx_toupper(given.data[1]);

        return NULL;
    }

    if (msg) {
        return "iso_country must be an ISO 3166-1 alpha-2 code";
    }

    cc = ngx_http_agnitel_e164_country(number->data, number->len);

    if (cc == NULL) {
        return "iso_country cannot be derived from phone_number: pass it";
    }

    iso[0] = cc[0];
    iso[1] = cc[1];

    return NULL;
}
