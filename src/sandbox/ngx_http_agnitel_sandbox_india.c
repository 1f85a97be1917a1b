
/*
 * Copyright (C) agnitel
 *
 * The sandbox's Indian carrier: Exotel's v2_beta number API, enough of it
 * for a workspace to search, buy and release +91 numbers offline.  Stock
 * is made up, the same on every run: ten numbers of each type in each of
 * five telecom circles.  Numbers sold are kept in the sandbox's database
 * as "in:+91..." (the record) and "in:{sid}" (the number).  One number,
 * +918047091919, is sold but its answer is a 500, as a lost answer would
 * be: the purchase's outcome is unknown until the account's numbers are
 * looked up (GET IncomingPhoneNumbers?PhoneNumber=).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/crypto.h>

#include "ngx_http_agnitel.h"
#include "ngx_http_agnitel_crypto.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_store.h"
#include "ngx_http_agnitel_sandbox.h"
#include "ngx_http_agnitel_sandbox_request.h"


#define NGX_HTTP_AGNITEL_INDIA_PREFIX     "/v2_beta/Accounts/"
#define NGX_HTTP_AGNITEL_INDIA_PER_TYPE   10
#define NGX_HTTP_AGNITEL_INDIA_KEY_MAX    80
#define NGX_HTTP_AGNITEL_INDIA_LOST       "+918047091919"

/* +91 and ten digits */
#define NGX_HTTP_AGNITEL_INDIA_LEN        13


/* a telecom circle: its landline (STD) and mobile leading digits */
typedef struct {
    const char                     *code;
    const char                     *landline;
    const char                     *mobile;
} ngx_http_agnitel_circle_t;


static ngx_int_t ngx_http_agnitel_sandbox_india_auth(ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_sandbox_india_available(
    ngx_http_request_t *r, ngx_str_t *type);
static ngx_uint_t ngx_http_agnitel_sandbox_india_sold(MDB_txn *txn,
    MDB_dbi dbi, u_char *number);
static ngx_int_t ngx_http_agnitel_sandbox_india_list(ngx_http_request_t *r);
static void ngx_http_agnitel_sandbox_india_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_sandbox_india_buy(ngx_http_request_t *r);
static int ngx_http_agnitel_sandbox_india_keep(MDB_txn *txn, MDB_dbi dbi,
    ngx_str_t *number, u_char *sid, char *text);
static ngx_int_t ngx_http_agnitel_sandbox_india_release(
    ngx_http_request_t *r, ngx_str_t *sid);
static const char *ngx_http_agnitel_sandbox_india_stock(ngx_str_t *number,
    const char **region);
static void ngx_http_agnitel_sandbox_india_number(u_char *buf,
    ngx_http_agnitel_circle_t *c, const char *type, ngx_uint_t i);
static size_t ngx_http_agnitel_sandbox_india_key(u_char *buf, u_char *s,
    size_t len);
static ngx_int_t ngx_http_agnitel_sandbox_india_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *message);


static ngx_http_agnitel_circle_t  ngx_http_agnitel_circles[] = {
    { "KA", "80", "95" },
    { "MH", "20", "96" },
    { "DL", "11", "98" },
    { "MU", "22", "97" },
    { "TN", "44", "94" },
    { NULL, NULL, NULL }
};

static const char  *ngx_http_agnitel_india_types[] = {
    "Landline", "Mobile", "TollFree", NULL
};


/*
 * Routed here for /v2_beta/...: NGX_DECLINED for any other path.  HTTP
 * Basic with the sandbox's API key and token; the path's account must be
 * the sandbox's.
 */

ngx_int_t
ngx_http_agnitel_sandbox_india(ngx_http_request_t *r)
{
    u_char     *p, *end, *slash;
    ngx_int_t   rc;
    ngx_str_t   account, rest;

    if (r->uri.len <= sizeof(NGX_HTTP_AGNITEL_INDIA_PREFIX) - 1
        || ngx_strncmp(r->uri.data, NGX_HTTP_AGNITEL_INDIA_PREFIX,
                       sizeof(NGX_HTTP_AGNITEL_INDIA_PREFIX) - 1) != 0)
    {
        return NGX_DECLINED;
    }

    rc = ngx_http_agnitel_sandbox_india_auth(r);
    if (rc != NGX_OK) {
        return rc;
    }

    p = r->uri.data + sizeof(NGX_HTTP_AGNITEL_INDIA_PREFIX) - 1;
    end = r->uri.data + r->uri.len;

    slash = ngx_strlchr(p, end, '/');
    if (slash == NULL) {
        return ngx_http_agnitel_sandbox_india_error(r, NGX_HTTP_NOT_FOUND,
                                                    "Not found");
    }

    account.data = p;
    account.len = slash - p;

    rest.data = slash + 1;
    rest.len = end - rest.data;

    if (!ngx_http_agnitel_sandbox_eq(&account,
                                     NGX_HTTP_AGNITEL_SANDBOX_INDIA_SID))
    {
        return ngx_http_agnitel_sandbox_india_error(r, NGX_HTTP_NOT_FOUND,
                                                    "Account not found");
    }

    if (rest.len > sizeof("AvailablePhoneNumbers/IN/") - 1
        && ngx_strncmp(rest.data, "AvailablePhoneNumbers/IN/",
                       sizeof("AvailablePhoneNumbers/IN/") - 1) == 0)
    {
        if (r->method != NGX_HTTP_GET) {
            return ngx_http_agnitel_sandbox_not_allowed(r, "GET");
        }

        rest.data += sizeof("AvailablePhoneNumbers/IN/") - 1;
        rest.len -= sizeof("AvailablePhoneNumbers/IN/") - 1;

        return ngx_http_agnitel_sandbox_india_available(r, &rest);
    }

    if (ngx_http_agnitel_sandbox_eq(&rest, "IncomingPhoneNumbers")) {
        if (r->method == NGX_HTTP_GET) {
            return ngx_http_agnitel_sandbox_india_list(r);
        }

        if (r->method != NGX_HTTP_POST) {
            return ngx_http_agnitel_sandbox_not_allowed(r, "GET, POST");
        }

        rc = ngx_http_read_client_request_body(r,
                                        ngx_http_agnitel_sandbox_india_body);

        return (rc >= NGX_HTTP_SPECIAL_RESPONSE) ? rc : NGX_DONE;
    }

    if (rest.len > sizeof("IncomingPhoneNumbers/") - 1
        && ngx_strncmp(rest.data, "IncomingPhoneNumbers/",
                       sizeof("IncomingPhoneNumbers/") - 1) == 0)
    {
        if (r->method != NGX_HTTP_DELETE) {
            return ngx_http_agnitel_sandbox_not_allowed(r, "DELETE");
        }

        rest.data += sizeof("IncomingPhoneNumbers/") - 1;
        rest.len -= sizeof("IncomingPhoneNumbers/") - 1;

        return ngx_http_agnitel_sandbox_india_release(r, &rest);
    }

    return ngx_http_agnitel_sandbox_india_error(r, NGX_HTTP_NOT_FOUND,
                                                "Not found");
}


static ngx_int_t
ngx_http_agnitel_sandbox_india_auth(ngx_http_request_t *r)
{
    ngx_str_t  *user, *pass;

    if (ngx_http_auth_basic_user(r) == NGX_OK) {
        user = &r->headers_in.user;
        pass = &r->headers_in.passwd;

        if (user->len == sizeof(NGX_HTTP_AGNITEL_SANDBOX_INDIA_KEY) - 1
            && pass->len == sizeof(NGX_HTTP_AGNITEL_SANDBOX_INDIA_TOKEN) - 1
            && (CRYPTO_memcmp(user->data, NGX_HTTP_AGNITEL_SANDBOX_INDIA_KEY,
                              user->len)
                | CRYPTO_memcmp(pass->data,
                                NGX_HTTP_AGNITEL_SANDBOX_INDIA_TOKEN,
                                pass->len))
               == 0)
        {
            return NGX_OK;
        }
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "agnitel sandbox: Indian carrier: authentication failed");

    return ngx_http_agnitel_sandbox_india_error(r, NGX_HTTP_UNAUTHORIZED,
                                                "Authentication failed");
}


/* the stock of one type not sold yet, by InRegion and Contains */

static ngx_int_t
ngx_http_agnitel_sandbox_india_available(ngx_http_request_t *r,
    ngx_str_t *type)
{
    u_char                      number[NGX_HTTP_AGNITEL_INDIA_LEN + 1];
    json_t                     *list, *item;
    MDB_txn                    *txn;
    ngx_str_t                   region, contains;
    ngx_uint_t                  t, i;
    ngx_http_agnitel_circle_t  *c;
    ngx_http_agnitel_store_t   *store;

    for (t = 0; ngx_http_agnitel_india_types[t]; t++) {
        if (ngx_http_agnitel_sandbox_eq(type,
                                        ngx_http_agnitel_india_types[t]))
        {
            break;
        }
    }

    if (ngx_http_agnitel_india_types[t] == NULL) {
        return ngx_http_agnitel_sandbox_india_error(r, NGX_HTTP_NOT_FOUND,
                                                    "No such number type");
    }

    (void) ngx_http_agnitel_sandbox_arg(r, "InRegion", &region);

    /* the argument has room for its NUL: ngx_strnstr() wants one */

    if (ngx_http_agnitel_sandbox_arg(r, "Contains", &contains) == NGX_OK) {
        contains.data[contains.len] = '\0';
    }

    store = ngx_http_agnitel_sandbox_store(r);
    if (store == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    txn = ngx_http_agnitel_store_read(store, r->connection->log);
    if (txn == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    list = json_array();

    for (c = ngx_http_agnitel_circles; list && c->code; c++) {

        /* toll-free numbers belong to no circle */

        if (region.len && (t == 2 || !ngx_http_agnitel_sandbox_eq(&region,
                                                                 c->code)))
        {
            continue;
        }

        for (i = 0; i < NGX_HTTP_AGNITEL_INDIA_PER_TYPE; i++) {
            ngx_http_agnitel_sandbox_india_number(number, c,
                                          ngx_http_agnitel_india_types[t], i);

            if ((contains.len
                 && ngx_strnstr(number + 3, (char *) contains.data,
                                NGX_HTTP_AGNITEL_INDIA_LEN - 3) == NULL)
                || ngx_http_agnitel_sandbox_india_sold(txn,
                                   store->dbi[NGX_HTTP_AGNITEL_DB_SANDBOX],
                                   number))
            {
                continue;
            }

            item = json_pack("{s:s,s:s,s:{s:b,s:b},s:s,s:s?,s:s,s:s}",
                             "friendly_name", number,
                             "phone_number", number,
                             "capabilities", "voice", 1, "sms", t != 2,
                             "country", "IN",
                             "region", t == 2 ? NULL : c->code,
                             "number_type", ngx_http_agnitel_india_types[t],
                             "rental_price", "295.000000");

            if (item == NULL || json_array_append_new(list, item) != 0) {
                json_decref(list);
                list = NULL;
                break;
            }
        }

        if (t == 2) {
            break;
        }
    }

    ngx_http_agnitel_store_read_done(store);

    if (list == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    return ngx_http_agnitel_sandbox_send_json(r, NGX_HTTP_OK, list);
}


static ngx_uint_t
ngx_http_agnitel_sandbox_india_sold(MDB_txn *txn, MDB_dbi dbi,
    u_char *number)
{
    u_char   key[NGX_HTTP_AGNITEL_INDIA_KEY_MAX];
    MDB_val  k, v;

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_sandbox_india_key(key, number,
                                                   NGX_HTTP_AGNITEL_INDIA_LEN);

    return mdb_get(txn, dbi, &k, &v) == 0;
}


/*
 * The numbers sold, all on one page (the sandbox sells few), or only
 * PhoneNumber's: {"incoming_phone_numbers": [...], "next_page_uri": null}
 */

static ngx_int_t
ngx_http_agnitel_sandbox_india_list(ngx_http_request_t *r)
{
    int                        rc;
    u_char                     key[NGX_HTTP_AGNITEL_INDIA_KEY_MAX];
    json_t                    *list, *rec;
    MDB_val                    k, v;
    MDB_txn                   *txn;
    ngx_str_t                  number;
    MDB_cursor                *cur;
    ngx_http_agnitel_store_t  *store;

    (void) ngx_http_agnitel_sandbox_arg(r, "PhoneNumber", &number);

    store = ngx_http_agnitel_sandbox_store(r);

    txn = store ? ngx_http_agnitel_store_read(store, r->connection->log)
                : NULL;

    if (txn == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    list = json_array();

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_sandbox_india_key(key,
                                     number.len ? number.data : (u_char *) "+",
                                     number.len ? number.len : 1);

    rc = mdb_cursor_open(txn, store->dbi[NGX_HTTP_AGNITEL_DB_SANDBOX], &cur);

    if (rc == 0) {
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
             rc == 0 && list
             && k.mv_size >= sizeof("in:+") - 1
             && ngx_strncmp(k.mv_data, "in:+", sizeof("in:+") - 1) == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        {
            if (number.len
                && (k.mv_size != number.len + 3
                    || ngx_strncmp((u_char *) k.mv_data + 3, number.data,
                                   number.len) != 0))
            {
                break;
            }

            rec = json_loadb(v.mv_data, v.mv_size, 0, NULL);

            if (rec == NULL || json_array_append_new(list, rec) != 0) {
                json_decref(list);
                list = NULL;
            }
        }

        mdb_cursor_close(cur);
    }

    ngx_http_agnitel_store_read_done(store);

    if (list == NULL || (rc != 0 && rc != MDB_NOTFOUND)) {
        json_decref(list);
        return ngx_http_agnitel_sandbox_internal(r);
    }

    return ngx_http_agnitel_sandbox_send_json(r, NGX_HTTP_OK,
               json_pack("{s:i,s:i,s:o,s:n}", "page", 0, "page_size",
                         (int) json_array_size(list),
                         "incoming_phone_numbers", list,
                         "next_page_uri"));
}


static void
ngx_http_agnitel_sandbox_india_body(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_agnitel_sandbox_india_buy(r));
}


/* PhoneNumber from the stock, not sold yet: 200 and the ExoPhone */

static ngx_int_t
ngx_http_agnitel_sandbox_india_buy(ngx_http_request_t *r)
{
    int                        rc;
    u_char                     raw[16], sid[32];
    char                      *text;
    json_t                    *rec;
    MDB_txn                   *txn;
    ngx_str_t                  number, name, voice_url;
    const char                *type, *region;
    ngx_http_agnitel_store_t  *store;

    ngx_http_agnitel_sandbox_field_t  fields[] = {
        { "PhoneNumber", &number },
        { "FriendlyName", &name },
        { "VoiceUrl", &voice_url },
        { NULL, NULL }
    };

    rc = ngx_http_agnitel_sandbox_form(r, fields);

    if (rc == NGX_DECLINED) {
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    if (rc != NGX_OK) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    if (number.len != NGX_HTTP_AGNITEL_INDIA_LEN
        || ngx_strncmp(number.data, "+91", 3) != 0
        || (name.data && ngx_http_agnitel_sandbox_text(&name, 64) != NGX_OK)
        || (voice_url.data && ngx_http_agnitel_sandbox_url(&voice_url)
                              != NGX_OK))
    {
        return ngx_http_agnitel_sandbox_india_error(r, NGX_HTTP_BAD_REQUEST,
                                   "PhoneNumber must be +91 and 10 digits; "
                                   "FriendlyName and VoiceUrl, if given, "
                                   "valid");
    }

    type = ngx_http_agnitel_sandbox_india_stock(&number, &region);

    if (type == NULL) {
        return ngx_http_agnitel_sandbox_india_error(r, NGX_HTTP_NOT_FOUND,
                                                    "PhoneNumber is not "
                                                    "available");
    }

    if (ngx_http_agnitel_random(raw, sizeof(raw)) != NGX_OK) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    ngx_hex_dump(sid, raw, sizeof(raw));

    rec = json_pack("{s:s%,s:s%,s:s%,s:{s:b,s:b},s:s,s:s?,s:s,s:s,s:s,"
                    "s:s%}",
                    "sid", sid, sizeof(sid),
                    "phone_number", number.data, number.len,
                    "friendly_name", name.data ? (char *) name.data
                                               : (char *) number.data,
                    name.data ? name.len : number.len,
                    "capabilities", "voice", 1, "sms",
                    ngx_strcmp(type, "TollFree") != 0,
                    "country", "IN",
                    "region", region,
                    "number_type", type,
                    "rental_price", "295.000000",
                    "currency", "INR",
                    "voice_url", voice_url.data ? (char *) voice_url.data : "",
                    voice_url.len);

    txn = ngx_http_agnitel_sandbox_write(r, rec, &text, &store);

    if (txn == NULL) {
        json_decref(rec);
        return ngx_http_agnitel_sandbox_internal(r);
    }

    rc = ngx_http_agnitel_sandbox_india_keep(txn,
                                    store->dbi[NGX_HTTP_AGNITEL_DB_SANDBOX],
                                    &number, sid, text);
    free(text);

    rc = ngx_http_agnitel_store_finish(txn, rc);

    if (rc == MDB_KEYEXIST) {
        json_decref(rec);
        return ngx_http_agnitel_sandbox_india_error(r, NGX_HTTP_NOT_FOUND,
                                                    "PhoneNumber is not "
                                                    "available");
    }

    if (rc != 0) {
        json_decref(rec);
        return ngx_http_agnitel_sandbox_store_failed(r, rc);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "agnitel sandbox: Indian carrier sold %V as %*s", &number,
                  sizeof(sid), sid);

    if (ngx_http_agnitel_sandbox_eq(&number, NGX_HTTP_AGNITEL_INDIA_LOST)) {
        json_decref(rec);
        return ngx_http_agnitel_sandbox_india_error(r,
                                            NGX_HTTP_INTERNAL_SERVER_ERROR,
                                            "Internal error");
    }

    return ngx_http_agnitel_sandbox_send_json(r, NGX_HTTP_OK, rec);
}


static int
ngx_http_agnitel_sandbox_india_keep(MDB_txn *txn, MDB_dbi dbi,
    ngx_str_t *number, u_char *sid, char *text)
{
    int      rc;
    u_char   key[NGX_HTTP_AGNITEL_INDIA_KEY_MAX];
    MDB_val  k, v;

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_sandbox_india_key(key, number->data,
                                                   number->len);
    v.mv_data = text;
    v.mv_size = ngx_strlen(text);

    rc = mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE);
    if (rc != 0) {
        return rc;
    }

    k.mv_size = ngx_http_agnitel_sandbox_india_key(key, sid, 32);
    v.mv_data = number->data;
    v.mv_size = number->len;

    rc = mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE);

    /* a random sid met twice: nothing sold */

    return (rc == MDB_KEYEXIST) ? MDB_PANIC : rc;
}


/* DELETE: the number goes back to the stock; 404 for a sid never sold */

static ngx_int_t
ngx_http_agnitel_sandbox_india_release(ngx_http_request_t *r,
    ngx_str_t *sid)
{
    int                        rc;
    u_char                     key[NGX_HTTP_AGNITEL_INDIA_KEY_MAX];
    u_char                     number[NGX_HTTP_AGNITEL_INDIA_LEN];
    MDB_dbi                    dbi;
    MDB_val                    k, v;
    MDB_txn                   *txn;
    ngx_http_agnitel_store_t  *store;

    if (sid->len != 32) {
        return ngx_http_agnitel_sandbox_india_error(r, NGX_HTTP_NOT_FOUND,
                                                    "Not found");
    }

    store = ngx_http_agnitel_sandbox_store(r);

    txn = store ? ngx_http_agnitel_store_write(store, r->connection->log)
                : NULL;

    if (txn == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    dbi = store->dbi[NGX_HTTP_AGNITEL_DB_SANDBOX];

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_sandbox_india_key(key, sid->data, sid->len);

    rc = mdb_get(txn, dbi, &k, &v);

    if (rc == 0 && v.mv_size != NGX_HTTP_AGNITEL_INDIA_LEN) {
        rc = MDB_CORRUPTED;
    }

    if (rc == 0) {
        ngx_memcpy(number, v.mv_data, v.mv_size);
        rc = mdb_del(txn, dbi, &k, NULL);
    }

    if (rc == 0) {
        k.mv_size = ngx_http_agnitel_sandbox_india_key(key, number,
                                                   NGX_HTTP_AGNITEL_INDIA_LEN);
        rc = mdb_del(txn, dbi, &k, NULL);
    }

    rc = ngx_http_agnitel_store_finish(txn, rc);

    if (rc == MDB_NOTFOUND) {
        return ngx_http_agnitel_sandbox_india_error(r, NGX_HTTP_NOT_FOUND,
                                                    "Not found");
    }

    if (rc != 0) {
        return ngx_http_agnitel_sandbox_store_failed(r, rc);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "agnitel sandbox: Indian carrier released %*s (%V)",
                  (size_t) NGX_HTTP_AGNITEL_INDIA_LEN, number, sid);

    return ngx_http_agnitel_sandbox_send(r, NGX_HTTP_NO_CONTENT, NULL, 0);
}


/* the type of a number of the stock, and its circle; NULL if none */

static const char *
ngx_http_agnitel_sandbox_india_stock(ngx_str_t *number, const char **region)
{
    u_char                      buf[NGX_HTTP_AGNITEL_INDIA_LEN + 1];
    ngx_uint_t                  t, i;
    ngx_http_agnitel_circle_t  *c;

    for (c = ngx_http_agnitel_circles; c->code; c++) {
        for (t = 0; ngx_http_agnitel_india_types[t]; t++) {
            for (i = 0; i < NGX_HTTP_AGNITEL_INDIA_PER_TYPE; i++) {
                ngx_http_agnitel_sandbox_india_number(buf, c,
                                          ngx_http_agnitel_india_types[t], i);

                if (ngx_strncmp(buf, number->data,
                                NGX_HTTP_AGNITEL_INDIA_LEN) == 0)
                {
                    *region = (t == 2) ? NULL : c->code;
                    return ngx_http_agnitel_india_types[t];
                }
            }
        }
    }

    return NULL;
}


/*
 * The i-th number of a type in a circle, NUL-terminated: +91, then the
 * circle's two leading digits and 470919, or 18002700 for toll-free, and
 * two digits more.
 */

static void
ngx_http_agnitel_sandbox_india_number(u_char *buf,
    ngx_http_agnitel_circle_t *c, const char *type, ngx_uint_t i)
{
    if (type[0] == 'T') {
        ngx_sprintf(buf, "+9118002700%ui%Z", 10 + i);

    } else {
        ngx_sprintf(buf, "+91%s470919%ui%Z",
                    type[0] == 'L' ? c->landline : c->mobile, 10 + i);
    }
}


static size_t
ngx_http_agnitel_sandbox_india_key(u_char *buf, u_char *s, size_t len)
{
    return ngx_sprintf(buf, "in:%*s", ngx_min(len, 64), s) - buf;
}


/* the carrier's error body, {"RestException":{"Status":..,"Message":..}} */

static ngx_int_t
ngx_http_agnitel_sandbox_india_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *message)
{
    return ngx_http_agnitel_sandbox_send_json(r, status,
               json_pack("{s:{s:i,s:s}}", "RestException",
                         "Status", (int) status, "Message", message));
}
