
/*
 * Copyright (C) agnitel
 *
 * agnitel_twilio_sandbox: an emulator of the few Twilio REST API
 * (2010-04-01) endpoints the module calls, for offline demos and tests.
 * The module reaches it through the same proxy_pass location it uses for
 * api.twilio.com, so it answers with Twilio's JSON shapes, status codes and
 * error bodies, and with Twilio's test-credential magic numbers.
 *
 *   GET    /2010-04-01/Accounts/{Sid}.json
 *   GET    .../{AccountSid}/AvailablePhoneNumbers/{CC}/{Type}.json
 *          (Type: Local, Mobile, TollFree)
 *   GET    .../{AccountSid}/IncomingPhoneNumbers.json
 *   POST   .../{AccountSid}/IncomingPhoneNumbers.json
 *   GET    .../{AccountSid}/IncomingPhoneNumbers/{Sid}.json
 *   POST   /2010-04-01/Accounts.json (subaccounts: ..._accounts.c)
 *   POST   /2010-04-01/Accounts/{Sid}.json (a subaccount's Status, by the
 *          account: ..._accounts.c)
 *   POST   .../{AccountSid}/Calls.json (queued, and nothing more)
 *   DELETE .../{AccountSid}/IncomingPhoneNumbers/{Sid}.json
 *   POST   /v2/Services/{VA}/Verifications, .../VerificationCheck (Verify
 *          v2: ..._verify.c)
 *   POST   /2010-04-01/Sandbox/Calls.json (the sandbox's own: an inbound
 *          call replayed to the module, ..._replay.c)
 *
 * The number search is in ngx_http_agnitel_sandbox_search.c.
 *
 * Bought numbers live in the store's "sandbox" database: "PN..." -> the
 * number's JSON, "+E164" -> "PN...".  The account also owns one number
 * from the start, built on the fly; deleting it leaves a tombstone under
 * its sid.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <lmdb.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "ngx_http_agnitel.h"
#include "ngx_http_agnitel_crypto.h"
#include "ngx_http_agnitel_e164.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_sandbox.h"
#include "ngx_http_agnitel_sandbox_request.h"
#include "ngx_http_agnitel_sandbox_search.h"
#include "ngx_http_agnitel_store.h"
#include "ngx_http_agnitel_twilio.h"


#define NGX_HTTP_AGNITEL_SANDBOX_PREFIX    "/2010-04-01/Accounts/"
#define NGX_HTTP_AGNITEL_SANDBOX_ACCOUNTS  "/2010-04-01/Accounts.json"
#define NGX_HTTP_AGNITEL_SANDBOX_REPLAY    "/2010-04-01/Sandbox/Calls.json"
#define NGX_HTTP_AGNITEL_SANDBOX_SID_LEN   34

#define NGX_HTTP_AGNITEL_SANDBOX_LIST      50
#define NGX_HTTP_AGNITEL_SANDBOX_LIST_MAX  1000
#define NGX_HTTP_AGNITEL_SANDBOX_NAME_MAX  64

/* Twilio's test-credential magic */
#define NGX_HTTP_AGNITEL_SANDBOX_UNAVAILABLE  "+15005550000"
#define NGX_HTTP_AGNITEL_SANDBOX_INVALID      "+15005550001"

/*
 * Bought, but answered with a 500 as if the carrier failed on the way
 * back: the purchase stays pending until reconciliation finds it
 */
#define NGX_HTTP_AGNITEL_SANDBOX_LOST         "+15005550008"

/* the number the account owns from the start */
#define NGX_HTTP_AGNITEL_SANDBOX_OWNED        "+15005550009"
#define NGX_HTTP_AGNITEL_SANDBOX_OWNED_SID    \
    "PN00000000000000000000000000000009"
#define NGX_HTTP_AGNITEL_SANDBOX_OWNED_NAME   "Existing sandbox number"

/* what a deleted pre-owned number's sid maps to */
#define NGX_HTTP_AGNITEL_SANDBOX_TOMBSTONE    "deleted"

/* the account's and the pre-owned number's creation: 2025-01-01 */
#define NGX_HTTP_AGNITEL_SANDBOX_EPOCH        1735689600

#define NGX_HTTP_AGNITEL_SANDBOX_URI_MAX                                     \
    (sizeof(NGX_HTTP_AGNITEL_SANDBOX_PREFIX) + 2 * 34                        \
     + sizeof("/IncomingPhoneNumbers//AssignedAddOns.json"))


enum {
    NGX_HTTP_AGNITEL_SANDBOX_ACCOUNT = 1,
    NGX_HTTP_AGNITEL_SANDBOX_AVAILABLE_NUMBERS,
    NGX_HTTP_AGNITEL_SANDBOX_INCOMING,
    NGX_HTTP_AGNITEL_SANDBOX_INCOMING_SID,
    NGX_HTTP_AGNITEL_SANDBOX_CALLS
};


typedef struct {
    ngx_str_t                       phone_number;
    ngx_str_t                       friendly_name;
    ngx_str_t                       voice_url;
    ngx_str_t                       status_callback;
} ngx_http_agnitel_sandbox_buy_t;


static ngx_int_t ngx_http_agnitel_sandbox_auth(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_loc_conf_t *slcf, ngx_str_t *account);
static ngx_int_t ngx_http_agnitel_sandbox_route(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_loc_conf_t *slcf, ngx_str_t *account);
static ngx_int_t ngx_http_agnitel_sandbox_parse(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_path_t *path);
static const char *ngx_http_agnitel_sandbox_allowed(ngx_uint_t resource,
    ngx_uint_t *methods);

static ngx_int_t ngx_http_agnitel_sandbox_call(ngx_http_request_t *r,
    ngx_str_t *account);
static ngx_int_t ngx_http_agnitel_sandbox_account(ngx_http_request_t *r,
    ngx_str_t *account);

static ngx_int_t ngx_http_agnitel_sandbox_list(ngx_http_request_t *r,
    ngx_str_t *account);
static int ngx_http_agnitel_sandbox_list_walk(MDB_txn *txn, MDB_dbi dbi,
    ngx_str_t *account, ngx_str_t *number, ngx_uint_t page, json_t *list);
static ngx_int_t ngx_http_agnitel_sandbox_list_add(json_t *list,
    ngx_str_t *number, json_t *rec);
static ngx_int_t ngx_http_agnitel_sandbox_fetch(ngx_http_request_t *r,
    ngx_str_t *account, ngx_str_t *sid);
static ngx_int_t ngx_http_agnitel_sandbox_delete(ngx_http_request_t *r,
    ngx_str_t *account, ngx_str_t *sid);
static int ngx_http_agnitel_sandbox_remove(MDB_txn *txn, MDB_dbi dbi,
    MDB_val *key, ngx_str_t *account, ngx_str_t *number);
static json_t *ngx_http_agnitel_sandbox_record(MDB_val *val,
    ngx_str_t *account);
static ngx_uint_t ngx_http_agnitel_sandbox_is_owned_sid(ngx_str_t *sid);

static void ngx_http_agnitel_sandbox_buy_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_sandbox_buy(ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_sandbox_buy_form(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_buy_t *buy);
static ngx_int_t ngx_http_agnitel_sandbox_buy_check(
    ngx_http_agnitel_sandbox_buy_t *buy, ngx_http_agnitel_sandbox_err_t *err);
static int ngx_http_agnitel_sandbox_buy_store(MDB_txn *txn, MDB_dbi dbi,
    ngx_str_t *number, u_char *sid, char *text);
static json_t *ngx_http_agnitel_sandbox_incoming(ngx_str_t *account,
    u_char *sid, ngx_str_t *number, ngx_str_t *name,
    ngx_http_agnitel_sandbox_buy_t *urls, time_t created);
static json_t *ngx_http_agnitel_sandbox_string(ngx_str_t *s);
static json_t *ngx_http_agnitel_sandbox_owned(ngx_str_t *account);
static const char *ngx_http_agnitel_sandbox_type(ngx_str_t *number);


ngx_int_t
ngx_http_agnitel_sandbox_handler(ngx_http_request_t *r)
{
    ngx_int_t                             rc;
    ngx_str_t                             account;
    ngx_http_agnitel_sandbox_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_agnitel_sandbox_module);

    /* a call dialled in: whoever dials a number needs no credentials */

    if (r->uri.len == sizeof(NGX_HTTP_AGNITEL_SANDBOX_REPLAY) - 1
        && ngx_strncmp(r->uri.data, NGX_HTTP_AGNITEL_SANDBOX_REPLAY,
                       r->uri.len) == 0)
    {
        return ngx_http_agnitel_sandbox_replay(r);
    }

    /* the Indian carrier, with credentials of its own: /v2_beta/... */

    rc = ngx_http_agnitel_sandbox_india(r);

    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_agnitel_sandbox_auth(r, slcf, &account);

    if (rc == NGX_ERROR) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "agnitel sandbox: authentication failed");
        return ngx_http_agnitel_sandbox_unauthorized(r);
    }

    /* Verify v2: /v2/Services/... */

    rc = ngx_http_agnitel_sandbox_verify(r, &account);

    if (rc != NGX_DECLINED) {
        return rc;
    }

    return ngx_http_agnitel_sandbox_route(r, slcf, &account);
}


/* the 2010 API: /2010-04-01/Accounts..., as the account authenticated */

static ngx_int_t
ngx_http_agnitel_sandbox_route(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_loc_conf_t *slcf, ngx_str_t *account)
{
    ngx_int_t                         rc;
    ngx_uint_t                        methods;
    const char                       *allow;
    ngx_http_agnitel_sandbox_path_t   path;

    if (r->uri.len == sizeof(NGX_HTTP_AGNITEL_SANDBOX_ACCOUNTS) - 1
        && ngx_strncmp(r->uri.data, NGX_HTTP_AGNITEL_SANDBOX_ACCOUNTS,
                       r->uri.len) == 0)
    {
        if (r->method != NGX_HTTP_POST) {
            return ngx_http_agnitel_sandbox_not_allowed(r, "POST");
        }

        if (account->data != slcf->sid.data) {
            return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_FORBIDDEN,
                                                  20005, "Subaccounts "
                                                  "cannot create accounts");
        }

        return ngx_http_agnitel_sandbox_subaccount_create(r, account);
    }

    if (ngx_http_agnitel_sandbox_parse(r, &path) != NGX_OK) {
        return ngx_http_agnitel_sandbox_not_found(r);
    }

    /* the sandbox account sets its subaccounts' Status */

    if (path.resource == NGX_HTTP_AGNITEL_SANDBOX_ACCOUNT
        && r->method == NGX_HTTP_POST
        && account->data == slcf->sid.data
        && (path.account.len != account->len
            || ngx_strncmp(path.account.data, account->data,
                           path.account.len) != 0))
    {
        return ngx_http_agnitel_sandbox_subaccount_update(r, &path.account);
    }

    /* another account's resources do not exist for this one, as Twilio */

    if (path.account.len != account->len
        || ngx_strncmp(path.account.data, account->data,
                       path.account.len) != 0)
    {
        return ngx_http_agnitel_sandbox_not_found(r);
    }

    allow = ngx_http_agnitel_sandbox_allowed(path.resource, &methods);

    if (!(r->method & methods)) {
        return ngx_http_agnitel_sandbox_not_allowed(r, allow);
    }

    switch (path.resource) {

    case NGX_HTTP_AGNITEL_SANDBOX_ACCOUNT:
        return ngx_http_agnitel_sandbox_account(r, &path.account);

    case NGX_HTTP_AGNITEL_SANDBOX_AVAILABLE_NUMBERS:
        return ngx_http_agnitel_sandbox_available(r, &path);

    case NGX_HTTP_AGNITEL_SANDBOX_CALLS:
        return ngx_http_agnitel_sandbox_call(r, &path.account);

    case NGX_HTTP_AGNITEL_SANDBOX_INCOMING:

        if (r->method == NGX_HTTP_GET) {
            return ngx_http_agnitel_sandbox_list(r, &path.account);
        }

        rc = ngx_http_read_client_request_body(r,
                                            ngx_http_agnitel_sandbox_buy_body);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        return NGX_DONE;

    default: /* NGX_HTTP_AGNITEL_SANDBOX_INCOMING_SID */

        if (r->method == NGX_HTTP_GET) {
            return ngx_http_agnitel_sandbox_fetch(r, &path.account,
                                                  &path.sid);
        }

        return ngx_http_agnitel_sandbox_delete(r, &path.account, &path.sid);
    }
}


/*
 * HTTP Basic with the location's AccountSid and AuthToken.  NGX_DECLINED
 * for a missing, undecodable or wrong pair.  Lengths are compared first
 * (a token's length is no secret worth a constant-time loop), the bytes in
 * constant time.
 */

static ngx_int_t
ngx_http_agnitel_sandbox_auth(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_loc_conf_t *slcf, ngx_str_t *account)
{
    ngx_int_t   rc;
    ngx_str_t  *user, *pass;

    rc = ngx_http_auth_basic_user(r);

    if (rc != NGX_OK) {
        return rc;
    }

    user = &r->headers_in.user;
    pass = &r->headers_in.passwd;

    /* a subaccount's credentials are good for its own resources */

    *account = *user;

    if (user->len != slcf->sid.len
        || pass->len != slcf->token.len)
    {
        return ngx_http_agnitel_sandbox_subaccount(r, user, pass);
    }

    if ((CRYPTO_memcmp(user->data, slcf->sid.data, user->len)
         | CRYPTO_memcmp(pass->data, slcf->token.data, pass->len))
        != 0)
    {
        return ngx_http_agnitel_sandbox_subaccount(r, user, pass);
    }

    /* the sandbox account itself: the one that may create subaccounts */

    *account = slcf->sid;

    return NGX_OK;
}


/* r->uri (decoded, slashes merged by nginx) into a resource */

static ngx_int_t
ngx_http_agnitel_sandbox_parse(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_path_t *path)
{
    u_char      *p, *end;
    ngx_str_t    seg[4], *last;
    ngx_uint_t   n;

    ngx_memzero(path, sizeof(ngx_http_agnitel_sandbox_path_t));

    if (r->uri.len <= sizeof(NGX_HTTP_AGNITEL_SANDBOX_PREFIX) - 1
        || ngx_strncmp(r->uri.data, NGX_HTTP_AGNITEL_SANDBOX_PREFIX,
                       sizeof(NGX_HTTP_AGNITEL_SANDBOX_PREFIX) - 1)
           != 0)
    {
        return NGX_DECLINED;
    }

    p = r->uri.data + sizeof(NGX_HTTP_AGNITEL_SANDBOX_PREFIX) - 1;
    end = r->uri.data + r->uri.len;

    for (n = 0; /* void */; n++) {

        if (n == 4) {
            return NGX_DECLINED;
        }

        seg[n].data = p;

        while (p < end && *p != '/') {
            p++;
        }

        seg[n].len = p - seg[n].data;

        if (seg[n].len == 0) {
            return NGX_DECLINED;
        }

        if (p == end) {
            break;
        }

        p++;
    }

    /* every resource Twilio answers in JSON ends in ".json" */

    last = &seg[n];

    if (last->len <= sizeof(".json") - 1
        || ngx_strncmp(last->data + last->len - (sizeof(".json") - 1),
                       ".json", sizeof(".json") - 1)
           != 0)
    {
        return NGX_DECLINED;
    }

    last->len -= sizeof(".json") - 1;

    path->account = seg[0];

    switch (n) {

    case 0:
        path->resource = NGX_HTTP_AGNITEL_SANDBOX_ACCOUNT;
        return NGX_OK;

    case 1:
        if (ngx_http_agnitel_sandbox_eq(&seg[1], "Calls")) {
            path->resource = NGX_HTTP_AGNITEL_SANDBOX_CALLS;
            return NGX_OK;
        }

        if (!ngx_http_agnitel_sandbox_eq(&seg[1], "IncomingPhoneNumbers")) {
            return NGX_DECLINED;
        }

        path->resource = NGX_HTTP_AGNITEL_SANDBOX_INCOMING;
        return NGX_OK;

    case 2:
        if (!ngx_http_agnitel_sandbox_eq(&seg[1], "IncomingPhoneNumbers")
            || ngx_http_agnitel_twilio_sid_valid(&seg[2], "PN") != NGX_OK)
        {
            return NGX_DECLINED;
        }

        path->resource = NGX_HTTP_AGNITEL_SANDBOX_INCOMING_SID;
        path->sid = seg[2];
        return NGX_OK;

    default: /* 3 */
        if (!ngx_http_agnitel_sandbox_eq(&seg[1], "AvailablePhoneNumbers")) {
            return NGX_DECLINED;
        }

        if (ngx_http_agnitel_sandbox_eq(&seg[3], "Local")) {
            path->type = NGX_HTTP_AGNITEL_LOCAL;

        } else if (ngx_http_agnitel_sandbox_eq(&seg[3], "Mobile")) {
            path->type = NGX_HTTP_AGNITEL_MOBILE;

        } else if (ngx_http_agnitel_sandbox_eq(&seg[3], "TollFree")) {
            path->type = NGX_HTTP_AGNITEL_TOLL_FREE;

        } else {
            return NGX_DECLINED;
        }

        path->resource = NGX_HTTP_AGNITEL_SANDBOX_AVAILABLE_NUMBERS;
        path->country = seg[2];
        return NGX_OK;
    }
}


/* the methods a resource answers, and the Allow header that says so */

static const char *
ngx_http_agnitel_sandbox_allowed(ngx_uint_t resource, ngx_uint_t *methods)
{
    switch (resource) {

    case NGX_HTTP_AGNITEL_SANDBOX_INCOMING:
        *methods = NGX_HTTP_GET|NGX_HTTP_POST;
        return "GET, POST";

    case NGX_HTTP_AGNITEL_SANDBOX_INCOMING_SID:
        *methods = NGX_HTTP_GET|NGX_HTTP_DELETE;
        return "GET, DELETE";

    case NGX_HTTP_AGNITEL_SANDBOX_CALLS:
        *methods = NGX_HTTP_POST;
        return "POST";

    default:
        *methods = NGX_HTTP_GET;
        return "GET";
    }
}


/* GET /2010-04-01/Accounts/{Sid}.json; the auth token is left out */

static ngx_int_t
ngx_http_agnitel_sandbox_account(ngx_http_request_t *r, ngx_str_t *account)
{
    u_char   date[NGX_HTTP_AGNITEL_SANDBOX_DATE_LEN];
    u_char   uri[NGX_HTTP_AGNITEL_SANDBOX_URI_MAX];
    u_char   available[NGX_HTTP_AGNITEL_SANDBOX_URI_MAX];
    u_char   incoming[NGX_HTTP_AGNITEL_SANDBOX_URI_MAX];
    size_t   uri_len, available_len, incoming_len;
    json_t  *json;

    (void) ngx_http_agnitel_sandbox_date(date,
                                         NGX_HTTP_AGNITEL_SANDBOX_EPOCH);

    uri_len = ngx_sprintf(uri, NGX_HTTP_AGNITEL_SANDBOX_PREFIX "%V.json",
                          account)
              - uri;
    available_len = ngx_sprintf(available, NGX_HTTP_AGNITEL_SANDBOX_PREFIX
                                "%V/AvailablePhoneNumbers.json", account)
                    - available;
    incoming_len = ngx_sprintf(incoming, NGX_HTTP_AGNITEL_SANDBOX_PREFIX
                               "%V/IncomingPhoneNumbers.json", account)
                   - incoming;

    json = json_pack("{s:s%,s:s%,s:s,s:s%,s:s%,s:s,s:{s:s%,s:s%},s:s,s:s%}",
                     "date_created", date, sizeof(date),
                     "date_updated", date, sizeof(date),
                     "friendly_name", "agnitel sandbox",
                     "owner_account_sid", account->data, account->len,
                     "sid", account->data, account->len,
                     "status", "active",
                     "subresource_uris",
                         "available_phone_numbers", available, available_len,
                         "incoming_phone_numbers", incoming, incoming_len,
                     "type", "Full",
                     "uri", uri, uri_len);

    return ngx_http_agnitel_sandbox_send_json(r, NGX_HTTP_OK, json);
}


/*
 * GET .../IncomingPhoneNumbers.json[?PhoneNumber=...]: one page holding
 * the pre-owned number (unless deleted) and the bought ones.
 */

static ngx_int_t
ngx_http_agnitel_sandbox_list(ngx_http_request_t *r, ngx_str_t *account)
{
    int                        rc;
    u_char                     uri[NGX_HTTP_AGNITEL_SANDBOX_URI_MAX];
    size_t                     uri_len;
    json_t                    *list, *json;
    MDB_txn                   *txn;
    ngx_int_t                  n;
    ngx_str_t                  number, size;
    ngx_uint_t                 page;
    ngx_http_agnitel_store_t  *store;

    page = NGX_HTTP_AGNITEL_SANDBOX_LIST;

    if (ngx_http_agnitel_sandbox_arg(r, "PhoneNumber", &number) == NGX_ERROR
        || ngx_http_agnitel_sandbox_arg(r, "PageSize", &size) == NGX_ERROR)
    {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    if (size.data) {
        n = ngx_atoi(size.data, size.len);

        if (n <= 0) {
            return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_BAD_REQUEST,
                                                  20001,
                                                  "PageSize must be a "
                                                  "positive integer");
        }

        page = ngx_min((ngx_uint_t) n, NGX_HTTP_AGNITEL_SANDBOX_LIST_MAX);
    }

    store = ngx_http_agnitel_sandbox_store(r);
    if (store == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    list = json_array();
    if (list == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    txn = ngx_http_agnitel_store_read(store, r->connection->log);
    if (txn == NULL) {
        json_decref(list);
        return ngx_http_agnitel_sandbox_internal(r);
    }

    rc = ngx_http_agnitel_sandbox_list_walk(txn,
                                      store->dbi[NGX_HTTP_AGNITEL_DB_SANDBOX],
                                      account, &number, page, list);

    ngx_http_agnitel_store_read_done(store);

    if (rc != 0) {
        json_decref(list);
        return ngx_http_agnitel_sandbox_internal(r);
    }

    uri_len = ngx_sprintf(uri, NGX_HTTP_AGNITEL_SANDBOX_PREFIX
                          "%V/IncomingPhoneNumbers.json", account)
              - uri;

    json = json_pack("{s:i,s:s%,s:o,s:n,s:i,s:i,s:n,s:i,s:s%}",
                     "end", (int) ngx_max(json_array_size(list), 1) - 1,
                     "first_page_uri", uri, uri_len,
                     "incoming_phone_numbers", list,
                     "next_page_uri",
                     "page", 0,
                     "page_size", (int) page,
                     "previous_page_uri",
                     "start", 0,
                     "uri", r->unparsed_uri.data, r->unparsed_uri.len);

    return ngx_http_agnitel_sandbox_send_json(r, NGX_HTTP_OK, json);
}


/*
 * The pre-owned number first, unless it was deleted, then the stored ones:
 * "PN..." keys ("+E164" keys sort before them).  Returns an LMDB code.
 */

static int
ngx_http_agnitel_sandbox_list_walk(MDB_txn *txn, MDB_dbi dbi,
    ngx_str_t *account, ngx_str_t *number, ngx_uint_t page, json_t *list)
{
    int          rc;
    json_t      *rec;
    MDB_val      k, v;
    MDB_cursor  *cur;

    k.mv_data = NGX_HTTP_AGNITEL_SANDBOX_OWNED_SID;
    k.mv_size = sizeof(NGX_HTTP_AGNITEL_SANDBOX_OWNED_SID) - 1;

    rc = mdb_get(txn, dbi, &k, &v);

    if (rc == MDB_NOTFOUND) {
        rec = ngx_http_agnitel_sandbox_owned(account);

        if (ngx_http_agnitel_sandbox_list_add(list, number, rec) != NGX_OK) {
            return MDB_PANIC;
        }

    } else if (rc != 0) {
        return rc;
    }

    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        return rc;
    }

    k.mv_data = "PN";
    k.mv_size = 2;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0 && json_array_size(list) < page;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size < 2 || ngx_strncmp(k.mv_data, "PN", 2) != 0) {
            break;
        }

        /* NULL: a tombstone or another account's number */

        rec = ngx_http_agnitel_sandbox_record(&v, account);

        if (rec && ngx_http_agnitel_sandbox_list_add(list, number, rec)
                   != NGX_OK)
        {
            rc = MDB_PANIC;
            break;
        }
    }

    mdb_cursor_close(cur);

    return (rc == MDB_NOTFOUND) ? 0 : rc;
}


/* appends rec (stolen) when it has the number asked for, if any */

static ngx_int_t
ngx_http_agnitel_sandbox_list_add(json_t *list, ngx_str_t *number,
    json_t *rec)
{
    const char  *value;

    if (rec == NULL) {
        return NGX_ERROR;
    }

    if (number->data) {
        value = json_string_value(json_object_get(rec, "phone_number"));

        if (value == NULL
            || !ngx_http_agnitel_sandbox_eq(number, value))
        {
            json_decref(rec);
            return NGX_OK;
        }
    }

    return json_array_append_new(list, rec) == 0 ? NGX_OK : NGX_ERROR;
}


/* GET .../IncomingPhoneNumbers/{Sid}.json */

static ngx_int_t
ngx_http_agnitel_sandbox_fetch(ngx_http_request_t *r, ngx_str_t *account,
    ngx_str_t *sid)
{
    int                        rc;
    json_t                    *rec;
    MDB_val                    k, v;
    MDB_txn                   *txn;
    ngx_http_agnitel_store_t  *store;

    store = ngx_http_agnitel_sandbox_store(r);
    if (store == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    txn = ngx_http_agnitel_store_read(store, r->connection->log);
    if (txn == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    k.mv_data = sid->data;
    k.mv_size = sid->len;

    rc = mdb_get(txn, store->dbi[NGX_HTTP_AGNITEL_DB_SANDBOX], &k, &v);

    rec = NULL;

    if (rc == 0) {
        /* parsed before the snapshot goes: v points into the map */
        rec = ngx_http_agnitel_sandbox_record(&v, account);

    } else if (rc == MDB_NOTFOUND
               && ngx_http_agnitel_sandbox_is_owned_sid(sid))
    {
        rc = 0;
        rec = ngx_http_agnitel_sandbox_owned(account);

        if (rec == NULL) {
            rc = MDB_PANIC;
        }
    }

    ngx_http_agnitel_store_read_done(store);

    if (rc != 0 && rc != MDB_NOTFOUND) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    if (rec == NULL) {
        return ngx_http_agnitel_sandbox_not_found(r);
    }

    return ngx_http_agnitel_sandbox_send_json(r, NGX_HTTP_OK, rec);
}


/* DELETE .../IncomingPhoneNumbers/{Sid}.json: 204, or 404 */

static ngx_int_t
ngx_http_agnitel_sandbox_delete(ngx_http_request_t *r, ngx_str_t *account,
    ngx_str_t *sid)
{
    int                        rc;
    u_char                     e164[NGX_HTTP_AGNITEL_SANDBOX_E164_MAX];
    MDB_val                    k, v;
    MDB_txn                   *txn;
    ngx_str_t                  number;
    ngx_http_agnitel_store_t  *store;

    store = ngx_http_agnitel_sandbox_store(r);
    if (store == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    txn = ngx_http_agnitel_store_write(store, r->connection->log);
    if (txn == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    k.mv_data = sid->data;
    k.mv_size = sid->len;

    number.data = e164;
    number.len = 0;

    rc = mdb_get(txn, store->dbi[NGX_HTTP_AGNITEL_DB_SANDBOX], &k, &v);

    if (rc == 0) {
        rc = ngx_http_agnitel_sandbox_remove(txn,
                                   store->dbi[NGX_HTTP_AGNITEL_DB_SANDBOX],
                                   &k, account, &number);

    } else if (rc == MDB_NOTFOUND
               && ngx_http_agnitel_sandbox_is_owned_sid(sid))
    {
        /* the pre-owned number is not stored: remember that it is gone */

        v.mv_data = NGX_HTTP_AGNITEL_SANDBOX_TOMBSTONE;
        v.mv_size = sizeof(NGX_HTTP_AGNITEL_SANDBOX_TOMBSTONE) - 1;

        rc = mdb_put(txn, store->dbi[NGX_HTTP_AGNITEL_DB_SANDBOX], &k, &v,
                     MDB_NOOVERWRITE);

        ngx_str_set(&number, NGX_HTTP_AGNITEL_SANDBOX_OWNED);
    }

    rc = ngx_http_agnitel_store_finish(txn, rc);

    if (rc == MDB_NOTFOUND) {
        return ngx_http_agnitel_sandbox_not_found(r);
    }

    if (rc != 0) {
        return ngx_http_agnitel_sandbox_store_failed(r, rc);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "agnitel sandbox: released %V (%V)", &number, sid);

    return ngx_http_agnitel_sandbox_send(r, NGX_HTTP_NO_CONTENT, NULL, 0);
}


/*
 * Removes the account's number stored at key and its "+E164" entry; a
 * tombstone or another account's number is MDB_NOTFOUND.  number gets the
 * E.164 (its buffer has room for one).
 */

static int
ngx_http_agnitel_sandbox_remove(MDB_txn *txn, MDB_dbi dbi, MDB_val *key,
    ngx_str_t *account, ngx_str_t *number)
{
    int          rc;
    json_t      *rec;
    MDB_val      k, v;
    const char  *value;

    if (mdb_get(txn, dbi, key, &v) != 0) {
        return MDB_NOTFOUND;
    }

    rec = ngx_http_agnitel_sandbox_record(&v, account);
    if (rec == NULL) {
        return MDB_NOTFOUND;
    }

    value = json_string_value(json_object_get(rec, "phone_number"));

    if (value == NULL || ngx_strlen(value) > NGX_HTTP_AGNITEL_SANDBOX_E164_MAX)
    {
        json_decref(rec);
        return MDB_CORRUPTED;
    }

    number->len = ngx_cpymem(number->data, value, ngx_strlen(value))
                  - number->data;

    json_decref(rec);

    rc = mdb_del(txn, dbi, key, NULL);
    if (rc != 0) {
        return rc;
    }

    k.mv_data = number->data;
    k.mv_size = number->len;

    /* only if it still points here; a broken entry is no reason to fail */

    if (mdb_get(txn, dbi, &k, &v) == 0 && v.mv_size == key->mv_size
        && ngx_memcmp(v.mv_data, key->mv_data, v.mv_size) == 0)
    {
        return mdb_del(txn, dbi, &k, NULL);
    }

    return 0;
}


/* a stored number of this account; NULL for a tombstone or another's */

static json_t *
ngx_http_agnitel_sandbox_record(MDB_val *val, ngx_str_t *account)
{
    json_t       *rec;
    const char   *owner;
    json_error_t  err;

    if (val->mv_size == 0 || ((u_char *) val->mv_data)[0] != '{') {
        return NULL;
    }

    rec = json_loadb(val->mv_data, val->mv_size, 0, &err);
    if (rec == NULL) {
        return NULL;
    }

    owner = json_string_value(json_object_get(rec, "account_sid"));

    if (owner == NULL || !ngx_http_agnitel_sandbox_eq(account, owner)) {
        json_decref(rec);
        return NULL;
    }

    return rec;
}


static ngx_uint_t
ngx_http_agnitel_sandbox_is_owned_sid(ngx_str_t *sid)
{
    return ngx_http_agnitel_sandbox_eq(sid,
                                       NGX_HTTP_AGNITEL_SANDBOX_OWNED_SID);
}


/* POST .../IncomingPhoneNumbers.json, once the body is in */

static void
ngx_http_agnitel_sandbox_buy_body(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_agnitel_sandbox_buy(r));
}


static ngx_int_t
ngx_http_agnitel_sandbox_buy(ngx_http_request_t *r)
{
    int                             rc;
    u_char                          raw[16];
    u_char                          sid[NGX_HTTP_AGNITEL_SANDBOX_SID_LEN];
    u_char                          name[NGX_HTTP_AGNITEL_SANDBOX_NAME_LEN];
    char                           *text;
    json_t                         *rec;
    MDB_txn                        *txn;
    ngx_int_t                       check;
    ngx_str_t                       account, s;
    ngx_http_agnitel_store_t       *store;
    ngx_http_agnitel_sandbox_buy_t  buy;
    ngx_http_agnitel_sandbox_path_t  path;
    ngx_http_agnitel_sandbox_err_t  err;

    /* the path's account, which the handler checked: maybe a subaccount */

    if (ngx_http_agnitel_sandbox_parse(r, &path) != NGX_OK) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    account = path.account;

    check = ngx_http_agnitel_sandbox_buy_form(r, &buy);

    if (check == NGX_DECLINED) {
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    if (check != NGX_OK) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    if (ngx_http_agnitel_sandbox_buy_check(&buy, &err) != NGX_OK) {
        return ngx_http_agnitel_sandbox_bad_request(r, &err);
    }

    if (buy.friendly_name.data == NULL) {
        buy.friendly_name.data = name;
        buy.friendly_name.len = ngx_http_agnitel_sandbox_format(name,
                                                           &buy.phone_number);
    }

    store = ngx_http_agnitel_sandbox_store(r);
    if (store == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    if (ngx_http_agnitel_random(raw, sizeof(raw)) != NGX_OK) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    sid[0] = 'P';
    sid[1] = 'N';
    ngx_hex_dump(sid + 2, raw, sizeof(raw));

    rec = ngx_http_agnitel_sandbox_incoming(&account, sid, &buy.phone_number,
                                            &buy.friendly_name, &buy,
                                            ngx_time());
    if (rec == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    text = json_dumps(rec, JSON_COMPACT);

    json_decref(rec);

    if (text == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    s.len = ngx_strlen(text);
    s.data = ngx_pnalloc(r->pool, s.len);

    if (s.data == NULL) {
        free(text);
        return ngx_http_agnitel_sandbox_internal(r);
    }

    ngx_memcpy(s.data, text, s.len);

    txn = ngx_http_agnitel_store_write(store, r->connection->log);

    if (txn == NULL) {
        free(text);
        return ngx_http_agnitel_sandbox_internal(r);
    }

    rc = ngx_http_agnitel_sandbox_buy_store(txn,
                                      store->dbi[NGX_HTTP_AGNITEL_DB_SANDBOX],
                                      &buy.phone_number, sid, text);
    free(text);

    rc = ngx_http_agnitel_store_finish(txn, rc);

    if (rc == MDB_KEYEXIST) {
        return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_BAD_REQUEST, 21422,
                                              "PhoneNumber not available");
    }

    if (rc != 0) {
        return ngx_http_agnitel_sandbox_store_failed(r, rc);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "agnitel sandbox: bought %V as %*s", &buy.phone_number,
                  sizeof(sid), sid);

    if (ngx_http_agnitel_sandbox_eq(&buy.phone_number,
                                    NGX_HTTP_AGNITEL_SANDBOX_LOST))
    {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    return ngx_http_agnitel_sandbox_send(r, NGX_HTTP_CREATED, s.data, s.len);
}


/*
 * PhoneNumber, FriendlyName, VoiceUrl and StatusCallback of the form;
 * others are ignored.  NGX_DECLINED for a body over the limit.
 */

static ngx_int_t
ngx_http_agnitel_sandbox_buy_form(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_buy_t *buy)
{
    ngx_http_agnitel_sandbox_field_t  fields[] = {
        { "PhoneNumber", &buy->phone_number },
        { "FriendlyName", &buy->friendly_name },
        { "VoiceUrl", &buy->voice_url },
        { "StatusCallback", &buy->status_callback },
        { NULL, NULL }
    };

    return ngx_http_agnitel_sandbox_form(r, fields);
}


/*
 * Twilio's checks and test-credential magic, before anything is stored:
 * NGX_DECLINED with err set when the purchase cannot be.
 */

static ngx_int_t
ngx_http_agnitel_sandbox_buy_check(ngx_http_agnitel_sandbox_buy_t *buy,
    ngx_http_agnitel_sandbox_err_t *err)
{
    ngx_str_t  *n, *url;

    n = &buy->phone_number;
    url = &buy->voice_url;

    if (n->data == NULL || n->len == 0) {
        err->code = 21421;
        err->message = "PhoneNumber is required";
        return NGX_DECLINED;
    }

    if (ngx_http_agnitel_sandbox_eq(n, NGX_HTTP_AGNITEL_SANDBOX_UNAVAILABLE))
    {
        err->code = 21422;
        err->message = "PhoneNumber not available";
        return NGX_DECLINED;
    }

    if (ngx_http_agnitel_sandbox_eq(n, NGX_HTTP_AGNITEL_SANDBOX_INVALID)
        || ngx_http_agnitel_e164_valid(n->data, n->len) != NGX_OK)
    {
        err->code = 21421;
        err->message = "PhoneNumber is invalid";
        return NGX_DECLINED;
    }

    if (buy->friendly_name.data
        && ngx_http_agnitel_sandbox_text(&buy->friendly_name,
                                         NGX_HTTP_AGNITEL_SANDBOX_NAME_MAX)
           != NGX_OK)
    {
        err->code = 20001;
        err->message = "FriendlyName must be 1 to 64 characters";
        return NGX_DECLINED;
    }

    if (url->data && ngx_http_agnitel_sandbox_url(url) != NGX_OK) {
        err->code = 21402;
        err->message = "VoiceUrl is not a valid URL";
        return NGX_DECLINED;
    }

    if (buy->status_callback.data
        && ngx_http_agnitel_sandbox_url(&buy->status_callback) != NGX_OK)
    {
        err->code = 21609;
        err->message = "StatusCallback is not a valid URL";
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * Inside the write transaction: a number sold already, or the pre-owned
 * one while it is not deleted, is MDB_KEYEXIST.
 */

static int
ngx_http_agnitel_sandbox_buy_store(MDB_txn *txn, MDB_dbi dbi,
    ngx_str_t *number, u_char *sid, char *text)
{
    int      rc;
    MDB_val  k, v;

    if (ngx_http_agnitel_sandbox_eq(number, NGX_HTTP_AGNITEL_SANDBOX_OWNED)) {
        k.mv_data = NGX_HTTP_AGNITEL_SANDBOX_OWNED_SID;
        k.mv_size = sizeof(NGX_HTTP_AGNITEL_SANDBOX_OWNED_SID) - 1;

        rc = mdb_get(txn, dbi, &k, &v);

        if (rc == MDB_NOTFOUND) {
            return MDB_KEYEXIST;
        }

        if (rc != 0) {
            return rc;
        }
    }

    k.mv_data = number->data;
    k.mv_size = number->len;
    v.mv_data = sid;
    v.mv_size = NGX_HTTP_AGNITEL_SANDBOX_SID_LEN;

    rc = mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE);
    if (rc != 0) {
        return rc;
    }

    k.mv_data = sid;
    k.mv_size = NGX_HTTP_AGNITEL_SANDBOX_SID_LEN;
    v.mv_data = text;
    v.mv_size = ngx_strlen(text);

    rc = mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE);

    /* a random sid met twice: no such number was sold, Twilio-wise */

    return (rc == MDB_KEYEXIST) ? MDB_PANIC : rc;
}


/*
 * An incoming phone number as Twilio renders it.  Strings are UTF-8 (the
 * callers checked), so json_pack() fails only when memory does.
 */

static json_t *
ngx_http_agnitel_sandbox_incoming(ngx_str_t *account, u_char *sid,
    ngx_str_t *number, ngx_str_t *name, ngx_http_agnitel_sandbox_buy_t *urls,
    time_t created)
{
    u_char   date[NGX_HTTP_AGNITEL_SANDBOX_DATE_LEN];
    u_char   uri[NGX_HTTP_AGNITEL_SANDBOX_URI_MAX];
    u_char   addons[NGX_HTTP_AGNITEL_SANDBOX_URI_MAX];
    size_t   uri_len, addons_len;

    (void) ngx_http_agnitel_sandbox_date(date, created);

    uri_len = ngx_sprintf(uri, NGX_HTTP_AGNITEL_SANDBOX_PREFIX
                          "%V/IncomingPhoneNumbers/%*s.json", account,
                          (size_t) NGX_HTTP_AGNITEL_SANDBOX_SID_LEN, sid)
              - uri;

    addons_len = ngx_sprintf(addons, NGX_HTTP_AGNITEL_SANDBOX_PREFIX
                             "%V/IncomingPhoneNumbers/%*s/AssignedAddOns.json",
                             account,
                             (size_t) NGX_HTTP_AGNITEL_SANDBOX_SID_LEN, sid)
                 - addons;

    /* json_pack() releases the stolen "o" value when it fails */

    return json_pack("{s:s%,s:s,s:n,s:s,s:b,s:{s:b,s:b,s:b,s:b},s:s%,s:s%,"
                     "s:s,s:n,s:s,s:s%,s:n,s:s,s:s%,s:s%,s:n,s:s,s:n,s:s,"
                     "s:n,s:o,s:s,s:n,s:s%,s:n,s:b,s:s,s:n,s:s,s:o,s:s,"
                     "s:s,s:n,s:{s:s%},s:s}",
                     "account_sid", account->data, account->len,
                     "address_requirements", "none",
                     "address_sid",
                     "api_version", "2010-04-01",
                     "beta", 0,
                     "capabilities",
                         "voice", 1, "sms", 1, "mms", 1, "fax", 0,
                     "date_created", date, sizeof(date),
                     "date_updated", date, sizeof(date),
                     "emergency_status", "Inactive",
                     "emergency_address_sid",
                     "emergency_address_status", "unregistered",
                     "friendly_name", name->data, name->len,
                     "identity_sid",
                     "origin", "twilio",
                     "phone_number", number->data, number->len,
                     "sid", sid, (size_t) NGX_HTTP_AGNITEL_SANDBOX_SID_LEN,
                     "sms_application_sid",
                     "sms_fallback_method", "POST",
                     "sms_fallback_url",
                     "sms_method", "POST",
                     "sms_url",
                     "status_callback",
                         ngx_http_agnitel_sandbox_string(
                                                      &urls->status_callback),
                     "status_callback_method", "POST",
                     "trunk_sid",
                     "uri", uri, uri_len,
                     "voice_application_sid",
                     "voice_caller_id_lookup", 0,
                     "voice_fallback_method", "POST",
                     "voice_fallback_url",
                     "voice_method", "POST",
                     "voice_url",
                         ngx_http_agnitel_sandbox_string(&urls->voice_url),
                     "voice_receive_mode", "voice",
                     "status", "in-use",
                     "bundle_sid",
                     "subresource_uris",
                         "assigned_add_ons", addons, addons_len,
                     "type", ngx_http_agnitel_sandbox_type(number));
}


static json_t *
ngx_http_agnitel_sandbox_owned(ngx_str_t *account)
{
    u_char                          *sid;
    ngx_str_t                        number, name;
    ngx_http_agnitel_sandbox_buy_t   none;

    sid = (u_char *) NGX_HTTP_AGNITEL_SANDBOX_OWNED_SID;

    ngx_str_set(&number, NGX_HTTP_AGNITEL_SANDBOX_OWNED);
    ngx_str_set(&name, NGX_HTTP_AGNITEL_SANDBOX_OWNED_NAME);
    ngx_memzero(&none, sizeof(ngx_http_agnitel_sandbox_buy_t));

    return ngx_http_agnitel_sandbox_incoming(account, sid, &number, &name,
                                             &none,
                                             NGX_HTTP_AGNITEL_SANDBOX_EPOCH);
}


/* a URL of the form, or JSON null when there was none */

static json_t *
ngx_http_agnitel_sandbox_string(ngx_str_t *s)
{
    return s->data ? json_stringn((char *) s->data, s->len) : json_null();
}


/* Twilio's "type" of an incoming number, from the number alone */

static const char *
ngx_http_agnitel_sandbox_type(ngx_str_t *number)
{
    u_char  *d;

    d = number->data;

    if (number->len == 12 && d[1] == '1'
        && ngx_http_agnitel_sandbox_toll_free(&d[2]))
    {
        return "tollfree";
    }

    if (number->len > 4 && d[1] == '4' && d[2] == '4') {

        if (d[3] == '7') {
            return "mobile";
        }

        if (d[3] == '8' && d[4] == '0') {
            return "tollfree";
        }
    }

    return "local";
}


/*
 * POST .../Calls.json: the call is queued, with a sid of its own; the
 * sandbox places no call.
 */

static ngx_int_t
ngx_http_agnitel_sandbox_call(ngx_http_request_t *r, ngx_str_t *account)
{
    u_char   raw[16];
    u_char   sid[NGX_HTTP_AGNITEL_SANDBOX_SID_LEN];
    json_t  *json;

    if (ngx_http_discard_request_body(r) != NGX_OK
        || ngx_http_agnitel_random(raw, sizeof(raw)) != NGX_OK)
    {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    sid[0] = 'C';
    sid[1] = 'A';
    ngx_hex_dump(sid + 2, raw, sizeof(raw));

    json = json_pack("{s:s%,s:s%,s:s,s:s}",
                     "sid", sid, sizeof(sid),
                     "account_sid", account->data, account->len,
                     "status", "queued",
                     "direction", "outbound-api");

    return ngx_http_agnitel_sandbox_send_json(r, NGX_HTTP_CREATED, json);
}
