
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
 *   DELETE .../{AccountSid}/IncomingPhoneNumbers/{Sid}.json
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
#include "ngx_http_agnitel_store.h"
#include "ngx_http_agnitel_twilio.h"


#define NGX_HTTP_AGNITEL_SANDBOX_PREFIX    "/2010-04-01/Accounts/"
#define NGX_HTTP_AGNITEL_SANDBOX_ERRORS    "https://www.twilio.com/docs/errors/"
#define NGX_HTTP_AGNITEL_SANDBOX_SID_LEN   34

#define NGX_HTTP_AGNITEL_SANDBOX_PAGE      20
#define NGX_HTTP_AGNITEL_SANDBOX_PAGE_MAX  50
#define NGX_HTTP_AGNITEL_SANDBOX_LIST      50
#define NGX_HTTP_AGNITEL_SANDBOX_LIST_MAX  1000
#define NGX_HTTP_AGNITEL_SANDBOX_BODY_MAX  (64 * 1024)
#define NGX_HTTP_AGNITEL_SANDBOX_NAME_MAX  64
#define NGX_HTTP_AGNITEL_SANDBOX_URL_MAX   1024

/* Twilio's test-credential magic */
#define NGX_HTTP_AGNITEL_SANDBOX_AVAILABLE    "+15005550006"
#define NGX_HTTP_AGNITEL_SANDBOX_UNAVAILABLE  "+15005550000"
#define NGX_HTTP_AGNITEL_SANDBOX_INVALID      "+15005550001"
#define NGX_HTTP_AGNITEL_SANDBOX_NO_NUMBERS   "533"

/* the number the account owns from the start */
#define NGX_HTTP_AGNITEL_SANDBOX_OWNED        "+15005550009"
#define NGX_HTTP_AGNITEL_SANDBOX_OWNED_SID    \
    "PN00000000000000000000000000000009"
#define NGX_HTTP_AGNITEL_SANDBOX_OWNED_NAME   "Existing sandbox number"

/* what a deleted pre-owned number's sid maps to */
#define NGX_HTTP_AGNITEL_SANDBOX_TOMBSTONE    "deleted"

/* the account's and the pre-owned number's creation: 2025-01-01 */
#define NGX_HTTP_AGNITEL_SANDBOX_EPOCH        1735689600

/* "Thu, 30 Jul 2015 23:19:04 +0000" */
#define NGX_HTTP_AGNITEL_SANDBOX_DATE_LEN                                    \
    (sizeof("Thu, 30 Jul 2015 23:19:04 +0000") - 1)

/* "+" and at most 15 digits */
#define NGX_HTTP_AGNITEL_SANDBOX_E164_MAX     16

/* "(415) 555-0100" or an E.164, and a NUL */
#define NGX_HTTP_AGNITEL_SANDBOX_NAME_LEN                                    \
    (NGX_HTTP_AGNITEL_SANDBOX_E164_MAX + 1)

#define NGX_HTTP_AGNITEL_SANDBOX_URI_MAX                                     \
    (sizeof(NGX_HTTP_AGNITEL_SANDBOX_PREFIX) + 2 * 34                        \
     + sizeof("/IncomingPhoneNumbers//AssignedAddOns.json"))


enum {
    NGX_HTTP_AGNITEL_SANDBOX_ACCOUNT = 1,
    NGX_HTTP_AGNITEL_SANDBOX_AVAILABLE_NUMBERS,
    NGX_HTTP_AGNITEL_SANDBOX_INCOMING,
    NGX_HTTP_AGNITEL_SANDBOX_INCOMING_SID
};


typedef struct {
    ngx_uint_t                      resource;
    ngx_str_t                       account;
    ngx_str_t                       country;
    ngx_uint_t                      type;
    ngx_str_t                       sid;
} ngx_http_agnitel_sandbox_path_t;


/*
 * A block of numbers the sandbox offers: "+" cc stem NNNN for the line
 * numbers first..last.  NANP stems are the area code and the exchange 555;
 * the British ones are Ofcom's ranges reserved for drama.
 */

typedef struct {
    const char                     *country;
    ngx_uint_t                      type;
    const char                     *cc;
    const char                     *stem;
    ngx_uint_t                      first;
    ngx_uint_t                      last;
    const char                     *locality;
    const char                     *region;
    const char                     *postal_code;
    const char                     *lata;
    const char                     *rate_center;
    const char                     *latitude;
    const char                     *longitude;
    unsigned                        voice:1;
    unsigned                        sms:1;
    unsigned                        mms:1;
} ngx_http_agnitel_sandbox_block_t;


typedef struct {
    MDB_txn                        *txn;
    MDB_dbi                         dbi;
    json_t                         *list;

    /* Contains, letters turned into keypad digits */
    ngx_str_t                       contains;
    ngx_str_t                       region;
    ngx_str_t                       locality;
    ngx_str_t                       postal_code;

    ngx_uint_t                      voice;
    ngx_uint_t                      sms;
    ngx_uint_t                      mms;

    ngx_uint_t                      size;
    ngx_uint_t                      count;
} ngx_http_agnitel_sandbox_search_t;


/* what a check found wrong: a 400 with this Twilio code and message */

typedef struct {
    ngx_uint_t                      code;
    const char                     *message;
} ngx_http_agnitel_sandbox_err_t;


typedef struct {
    ngx_str_t                       phone_number;
    ngx_str_t                       friendly_name;
    ngx_str_t                       voice_url;
} ngx_http_agnitel_sandbox_buy_t;


static ngx_int_t ngx_http_agnitel_sandbox_auth(ngx_http_request_t *r,
    ngx_http_agnitel_loc_conf_t *alcf);
static ngx_int_t ngx_http_agnitel_sandbox_parse(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_path_t *path);
static const char *ngx_http_agnitel_sandbox_allowed(ngx_uint_t resource,
    ngx_uint_t *methods);

static ngx_int_t ngx_http_agnitel_sandbox_account(ngx_http_request_t *r,
    ngx_str_t *account);

static ngx_int_t ngx_http_agnitel_sandbox_available(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_path_t *path);
static ngx_int_t ngx_http_agnitel_sandbox_search_args(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_search_t *s, ngx_str_t *area,
    ngx_http_agnitel_sandbox_err_t *err);
static ngx_int_t ngx_http_agnitel_sandbox_search(
    ngx_http_agnitel_sandbox_search_t *s, u_char *iso, ngx_uint_t type,
    ngx_str_t *area);
static ngx_uint_t ngx_http_agnitel_sandbox_block_match(
    ngx_http_agnitel_sandbox_search_t *s,
    const ngx_http_agnitel_sandbox_block_t *b);
static ngx_int_t ngx_http_agnitel_sandbox_block_search(
    ngx_http_agnitel_sandbox_search_t *s,
    const ngx_http_agnitel_sandbox_block_t *b);
static ngx_int_t ngx_http_agnitel_sandbox_offer(
    ngx_http_agnitel_sandbox_search_t *s,
    const ngx_http_agnitel_sandbox_block_t *b, u_char *e164, size_t len);
static ngx_uint_t ngx_http_agnitel_sandbox_contains(u_char *digits,
    size_t len, ngx_str_t *pattern);
static ngx_int_t ngx_http_agnitel_sandbox_pattern(ngx_str_t *pattern);
static ngx_uint_t ngx_http_agnitel_sandbox_toll_free(u_char *area);

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
    u_char *sid, ngx_str_t *number, ngx_str_t *name, ngx_str_t *voice_url,
    time_t created);
static json_t *ngx_http_agnitel_sandbox_owned(ngx_str_t *account);
static const char *ngx_http_agnitel_sandbox_type(ngx_str_t *number);
static size_t ngx_http_agnitel_sandbox_format(u_char *dst,
    ngx_str_t *number);
static u_char *ngx_http_agnitel_sandbox_date(u_char *buf, time_t t);

static ngx_int_t ngx_http_agnitel_sandbox_arg(ngx_http_request_t *r,
    const char *name, ngx_str_t *value);
static ngx_uint_t ngx_http_agnitel_sandbox_flag(ngx_http_request_t *r,
    const char *name);
static size_t ngx_http_agnitel_sandbox_unescape(u_char *p, size_t len);
static ngx_int_t ngx_http_agnitel_sandbox_text(ngx_str_t *s, size_t max);
static ngx_uint_t ngx_http_agnitel_sandbox_eq(ngx_str_t *s, const char *v);
static ngx_uint_t ngx_http_agnitel_sandbox_caseeq(ngx_str_t *s,
    const char *v);

static ngx_int_t ngx_http_agnitel_sandbox_error(ngx_http_request_t *r,
    ngx_uint_t status, ngx_uint_t code, const char *message);
static ngx_int_t ngx_http_agnitel_sandbox_bad_request(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_err_t *err);
static ngx_int_t ngx_http_agnitel_sandbox_unauthorized(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_sandbox_not_found(ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_sandbox_not_allowed(ngx_http_request_t *r,
    const char *allow);
static ngx_int_t ngx_http_agnitel_sandbox_internal(ngx_http_request_t *r);
static ngx_int_t ngx_http_agnitel_sandbox_send_json(ngx_http_request_t *r,
    ngx_uint_t status, json_t *json);
static ngx_int_t ngx_http_agnitel_sandbox_send(ngx_http_request_t *r,
    ngx_uint_t status, u_char *data, size_t len);
static ngx_http_agnitel_store_t *ngx_http_agnitel_sandbox_store(
    ngx_http_request_t *r);


static const ngx_http_agnitel_sandbox_block_t  ngx_http_agnitel_sandbox_blocks[]
    = {

    /* area code 500 first: Twilio's +15005550006 heads a default search */

    { "US", NGX_HTTP_AGNITEL_LOCAL, "1", "500555", 100, 9999,
      "San Francisco", "CA", "94105", "722", "SNFC CNTRL",
      "37.790000", "-122.400000", 1, 1, 1 },

    { "US", NGX_HTTP_AGNITEL_LOCAL, "1", "415555", 100, 9999,
      "San Francisco", "CA", "94103", "722", "SNFC CNTRL",
      "37.770000", "-122.410000", 1, 1, 1 },

    { "US", NGX_HTTP_AGNITEL_LOCAL, "1", "212555", 100, 9999,
      "New York", "NY", "10001", "132", "NWYRCYZN01",
      "40.750000", "-73.990000", 1, 1, 1 },

    { "US", NGX_HTTP_AGNITEL_LOCAL, "1", "312555", 100, 9999,
      "Chicago", "IL", "60601", "358", "CHICAGO",
      "41.880000", "-87.630000", 1, 1, 1 },

    { "US", NGX_HTTP_AGNITEL_LOCAL, "1", "512555", 100, 9999,
      "Austin", "TX", "78701", "558", "AUSTIN",
      "30.270000", "-97.740000", 1, 1, 1 },

    { "US", NGX_HTTP_AGNITEL_LOCAL, "1", "808555", 100, 9999,
      "Hilo", "HI", "96720", "834", "HILO",
      "19.720000", "-155.090000", 1, 1, 1 },

    { "US", NGX_HTTP_AGNITEL_TOLL_FREE, "1", "800555", 100, 9999,
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1, 1, 0 },

    { "CA", NGX_HTTP_AGNITEL_LOCAL, "1", "416555", 100, 9999,
      "Toronto", "ON", "M5H", NULL, "TORONTO",
      "43.650000", "-79.380000", 1, 1, 1 },

    { "CA", NGX_HTTP_AGNITEL_LOCAL, "1", "604555", 100, 9999,
      "Vancouver", "BC", "V6B", NULL, "VANCOUVER",
      "49.280000", "-123.120000", 1, 1, 1 },

    { "CA", NGX_HTTP_AGNITEL_LOCAL, "1", "514555", 100, 9999,
      "Montreal", "QC", "H2Y", NULL, "MONTREAL",
      "45.500000", "-73.570000", 1, 1, 1 },

    { "CA", NGX_HTTP_AGNITEL_TOLL_FREE, "1", "833555", 100, 9999,
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1, 1, 0 },

    { "GB", NGX_HTTP_AGNITEL_LOCAL, "44", "207946", 100, 999,
      "London", "London", NULL, NULL, NULL,
      "51.510000", "-0.130000", 1, 0, 0 },

    { "GB", NGX_HTTP_AGNITEL_LOCAL, "44", "161496", 100, 999,
      "Manchester", "Manchester", NULL, NULL, NULL,
      "53.480000", "-2.240000", 1, 0, 0 },

    { "GB", NGX_HTTP_AGNITEL_MOBILE, "44", "770090", 100, 999,
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1, 1, 0 },

    { "GB", NGX_HTTP_AGNITEL_TOLL_FREE, "44", "808157", 100, 999,
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1, 0, 0 },
};


/* letters on a telephone keypad, for Contains */
static const u_char  ngx_http_agnitel_sandbox_keypad[] =
    "22233344455566677778889999";

static const char  *const ngx_http_agnitel_sandbox_week[] = {
    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};

static const char  *const ngx_http_agnitel_sandbox_months[] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};


ngx_int_t
ngx_http_agnitel_sandbox_handler(ngx_http_request_t *r)
{
    ngx_int_t                         rc;
    ngx_uint_t                        methods;
    const char                       *allow;
    ngx_http_agnitel_loc_conf_t      *alcf;
    ngx_http_agnitel_sandbox_path_t   path;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_agnitel_module);

    rc = ngx_http_agnitel_sandbox_auth(r, alcf);

    if (rc == NGX_ERROR) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "agnitel sandbox: authentication failed");
        return ngx_http_agnitel_sandbox_unauthorized(r);
    }

    /* another account's resources do not exist for this one, as Twilio */

    if (ngx_http_agnitel_sandbox_parse(r, &path) != NGX_OK
        || path.account.len != alcf->sandbox_sid.len
        || ngx_strncmp(path.account.data, alcf->sandbox_sid.data,
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
    ngx_http_agnitel_loc_conf_t *alcf)
{
    ngx_int_t   rc;
    ngx_str_t  *user, *pass;

    rc = ngx_http_auth_basic_user(r);

    if (rc != NGX_OK) {
        return rc;
    }

    user = &r->headers_in.user;
    pass = &r->headers_in.passwd;

    if (user->len != alcf->sandbox_sid.len
        || pass->len != alcf->sandbox_token.len)
    {
        return NGX_DECLINED;
    }

    if ((CRYPTO_memcmp(user->data, alcf->sandbox_sid.data, user->len)
         | CRYPTO_memcmp(pass->data, alcf->sandbox_token.data, pass->len))
        != 0)
    {
        return NGX_DECLINED;
    }

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


/* GET .../AvailablePhoneNumbers/{CountryCode}/{Local|Mobile|TollFree}.json */

static ngx_int_t
ngx_http_agnitel_sandbox_available(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_path_t *path)
{
    u_char                             iso[2];
    json_t                            *json;
    ngx_int_t                          rc;
    ngx_str_t                          area;
    ngx_http_agnitel_store_t          *store;
    ngx_http_agnitel_sandbox_err_t     err;
    ngx_http_agnitel_sandbox_search_t  s;

    if (path->country.len != 2
        || !isalpha(path->country.data[0]) || !isalpha(path->country.data[1]))
    {
        return ngx_http_agnitel_sandbox_not_found(r);
    }

    iso[0] = ngx_toupper(path->country.data[0]);
    iso[1] = ngx_toupper(path->country.data[1]);

    ngx_memzero(&s, sizeof(ngx_http_agnitel_sandbox_search_t));

    rc = ngx_http_agnitel_sandbox_search_args(r, &s, &area, &err);

    if (rc == NGX_DECLINED) {
        return ngx_http_agnitel_sandbox_bad_request(r, &err);
    }

    if (rc != NGX_OK) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    /* AreaCode applies to the US and Canada only, as on Twilio */

    if (ngx_strncmp(iso, "US", 2) != 0 && ngx_strncmp(iso, "CA", 2) != 0) {
        ngx_str_null(&area);
    }

    if (area.data) {
        if (area.len != 3 || area.data[0] < '2' || area.data[0] > '9'
            || !isdigit(area.data[1]) || !isdigit(area.data[2]))
        {
            return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_BAD_REQUEST,
                                                  21451, "Invalid area code");
        }

        if (ngx_strncmp(area.data, NGX_HTTP_AGNITEL_SANDBOX_NO_NUMBERS, 3)
            == 0)
        {
            return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_BAD_REQUEST,
                                                  21452,
                                                  "No phone numbers found");
        }
    }

    store = ngx_http_agnitel_sandbox_store(r);
    if (store == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    s.list = json_array();
    if (s.list == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    s.dbi = store->dbi[NGX_HTTP_AGNITEL_DB_SANDBOX];
    s.txn = ngx_http_agnitel_store_read(store, r->connection->log);

    if (s.txn == NULL) {
        json_decref(s.list);
        return ngx_http_agnitel_sandbox_internal(r);
    }

    rc = ngx_http_agnitel_sandbox_search(&s, iso, path->type, &area);

    ngx_http_agnitel_store_read_done(store);

    if (rc != NGX_OK) {
        json_decref(s.list);
        return ngx_http_agnitel_sandbox_internal(r);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "agnitel sandbox: %ui number(s) offered in %*s",
                  s.count, (size_t) 2, iso);

    json = json_pack("{s:o,s:s%}",
                     "available_phone_numbers", s.list,
                     "uri", r->unparsed_uri.data, r->unparsed_uri.len);

    return ngx_http_agnitel_sandbox_send_json(r, NGX_HTTP_OK, json);
}


/*
 * The query arguments of a search; AreaCode goes to area (data NULL when
 * absent).  NGX_DECLINED with err set for a bad argument.
 */

static ngx_int_t
ngx_http_agnitel_sandbox_search_args(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_search_t *s, ngx_str_t *area,
    ngx_http_agnitel_sandbox_err_t *err)
{
    ngx_int_t  n;
    ngx_str_t  v;

    ngx_str_null(area);

    if (ngx_http_agnitel_sandbox_arg(r, "AreaCode", area) == NGX_ERROR
        || ngx_http_agnitel_sandbox_arg(r, "Contains", &s->contains)
           == NGX_ERROR
        || ngx_http_agnitel_sandbox_arg(r, "InRegion", &s->region)
           == NGX_ERROR
        || ngx_http_agnitel_sandbox_arg(r, "InLocality", &s->locality)
           == NGX_ERROR
        || ngx_http_agnitel_sandbox_arg(r, "InPostalCode", &s->postal_code)
           == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    if (s->contains.data
        && ngx_http_agnitel_sandbox_pattern(&s->contains) != NGX_OK)
    {
        err->code = 21421;
        err->message = "Contains must be 2 or more digits, letters or *";
        return NGX_DECLINED;
    }

    s->voice = ngx_http_agnitel_sandbox_flag(r, "VoiceEnabled");
    s->sms = ngx_http_agnitel_sandbox_flag(r, "SmsEnabled");
    s->mms = ngx_http_agnitel_sandbox_flag(r, "MmsEnabled");

    s->size = NGX_HTTP_AGNITEL_SANDBOX_PAGE;

    switch (ngx_http_agnitel_sandbox_arg(r, "PageSize", &v)) {

    case NGX_ERROR:
        return NGX_ERROR;

    case NGX_OK:
        n = ngx_atoi(v.data, v.len);

        if (n <= 0) {
            err->code = 20001;
            err->message = "PageSize must be a positive integer";
            return NGX_DECLINED;
        }

        s->size = ngx_min((ngx_uint_t) n, NGX_HTTP_AGNITEL_SANDBOX_PAGE_MAX);
        break;

    default:
        break;
    }

    return NGX_OK;
}


/*
 * Walks the blocks of the country and type (only the area code's when one
 * is given) and offers their numbers until the page is full.  An area code
 * the table does not know still has numbers, without a place.
 */

static ngx_int_t
ngx_http_agnitel_sandbox_search(ngx_http_agnitel_sandbox_search_t *s,
    u_char *iso, ngx_uint_t type, ngx_str_t *area)
{
    u_char                                  stem[7];
    ngx_int_t                               rc;
    ngx_uint_t                              i, found;
    ngx_http_agnitel_sandbox_block_t        generic;
    const ngx_http_agnitel_sandbox_block_t *b;

    found = 0;

    for (i = 0;
         i < sizeof(ngx_http_agnitel_sandbox_blocks)
             / sizeof(ngx_http_agnitel_sandbox_block_t);
         i++)
    {
        b = &ngx_http_agnitel_sandbox_blocks[i];

        if (b->type != type || ngx_strncmp(b->country, iso, 2) != 0
            || (area->data && ngx_strncmp(b->stem, area->data, 3) != 0))
        {
            continue;
        }

        found = 1;

        if (!ngx_http_agnitel_sandbox_block_match(s, b)) {
            continue;
        }

        rc = ngx_http_agnitel_sandbox_block_search(s, b);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    /* no mobile numbers in North America; toll-free codes are not local */

    if (found || area->data == NULL || type == NGX_HTTP_AGNITEL_MOBILE
        || (type == NGX_HTTP_AGNITEL_TOLL_FREE)
           != ngx_http_agnitel_sandbox_toll_free(area->data))
    {
        return NGX_OK;
    }

    ngx_memzero(&generic, sizeof(ngx_http_agnitel_sandbox_block_t));

    ngx_sprintf(stem, "%*s555%Z", (size_t) 3, area->data);

    generic.country = (iso[0] == 'C') ? "CA" : "US";
    generic.type = type;
    generic.cc = "1";
    generic.stem = (const char *) stem;
    generic.first = 100;
    generic.last = 9999;
    generic.voice = 1;
    generic.sms = 1;
    generic.mms = (type == NGX_HTTP_AGNITEL_LOCAL);

    if (!ngx_http_agnitel_sandbox_block_match(s, &generic)) {
        return NGX_OK;
    }

    return ngx_http_agnitel_sandbox_block_search(s, &generic);
}


/* InRegion, InLocality, InPostalCode and the capabilities asked for */

static ngx_uint_t
ngx_http_agnitel_sandbox_block_match(ngx_http_agnitel_sandbox_search_t *s,
    const ngx_http_agnitel_sandbox_block_t *b)
{
    if ((s->voice && !b->voice) || (s->sms && !b->sms)
        || (s->mms && !b->mms))
    {
        return 0;
    }

    if (s->region.data
        && (b->region == NULL
            || !ngx_http_agnitel_sandbox_caseeq(&s->region, b->region)))
    {
        return 0;
    }

    if (s->locality.data
        && (b->locality == NULL
            || !ngx_http_agnitel_sandbox_caseeq(&s->locality, b->locality)))
    {
        return 0;
    }

    if (s->postal_code.data
        && (b->postal_code == NULL
            || !ngx_http_agnitel_sandbox_caseeq(&s->postal_code,
                                                b->postal_code)))
    {
        return 0;
    }

    return 1;
}


static ngx_int_t
ngx_http_agnitel_sandbox_block_search(ngx_http_agnitel_sandbox_search_t *s,
    const ngx_http_agnitel_sandbox_block_t *b)
{
    u_char      e164[NGX_HTTP_AGNITEL_SANDBOX_E164_MAX + 1];
    size_t      len;
    ngx_int_t   rc;
    ngx_uint_t  line;

    /* Twilio's test credentials always offer +15005550006 in area 500 */

    if (ngx_strcmp(b->cc, "1") == 0 && ngx_strncmp(b->stem, "500", 3) == 0
        && b->type == NGX_HTTP_AGNITEL_LOCAL && s->count < s->size)
    {
        len = ngx_cpystrn(e164, (u_char *) NGX_HTTP_AGNITEL_SANDBOX_AVAILABLE,
                          sizeof(e164))
              - e164;

        rc = ngx_http_agnitel_sandbox_offer(s, b, e164, len);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    for (line = b->first; line <= b->last && s->count < s->size; line++) {

        len = ngx_sprintf(e164, "+%s%s%04ui%Z", b->cc, b->stem, line) - e164
              - 1;

        rc = ngx_http_agnitel_sandbox_offer(s, b, e164, len);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * Adds one number to the page unless Contains rules it out or the sandbox
 * sold it already: NGX_OK, NGX_DECLINED or NGX_ERROR.
 */

static ngx_int_t
ngx_http_agnitel_sandbox_offer(ngx_http_agnitel_sandbox_search_t *s,
    const ngx_http_agnitel_sandbox_block_t *b, u_char *e164, size_t len)
{
    int        rc;
    u_char     name[NGX_HTTP_AGNITEL_SANDBOX_NAME_LEN];
    size_t     cc;
    json_t    *item;
    MDB_val    k, v;
    ngx_str_t  number;

    cc = ngx_strlen(b->cc);

    if (s->contains.data
        && !ngx_http_agnitel_sandbox_contains(e164 + 1 + cc, len - 1 - cc,
                                              &s->contains))
    {
        return NGX_DECLINED;
    }

    k.mv_data = e164;
    k.mv_size = len;

    rc = mdb_get(s->txn, s->dbi, &k, &v);

    if (rc == 0) {
        return NGX_DECLINED;
    }

    if (rc != MDB_NOTFOUND) {
        return NGX_ERROR;
    }

    number.data = e164;
    number.len = len;

    name[ngx_http_agnitel_sandbox_format(name, &number)] = '\0';

    item = json_pack("{s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s,s:s,"
                     "s:b,s:{s:b,s:b,s:b}}",
                     "friendly_name", name,
                     "phone_number", e164,
                     "lata", b->lata,
                     "locality", b->locality,
                     "rate_center", b->rate_center,
                     "latitude", b->latitude,
                     "longitude", b->longitude,
                     "region", b->region,
                     "postal_code", b->postal_code,
                     "iso_country", b->country,
                     "address_requirements", "none",
                     "beta", 0,
                     "capabilities",
                         "voice", (int) b->voice,
                         "SMS", (int) b->sms,
                         "MMS", (int) b->mms);

    if (json_array_append_new(s->list, item) != 0) {
        return NGX_ERROR;
    }

    s->count++;

    return NGX_OK;
}


/* Twilio's Contains: the pattern anywhere in the national number */

static ngx_uint_t
ngx_http_agnitel_sandbox_contains(u_char *digits, size_t len,
    ngx_str_t *pattern)
{
    size_t  i, j;

    if (pattern->len > len) {
        return 0;
    }

    for (i = 0; i + pattern->len <= len; i++) {

        for (j = 0; j < pattern->len; j++) {
            if (pattern->data[j] != '*' && pattern->data[j] != digits[i + j])
            {
                break;
            }
        }

        if (j == pattern->len) {
            return 1;
        }
    }

    return 0;
}


/* digits, "*" and letters (2 or more); letters become keypad digits */

static ngx_int_t
ngx_http_agnitel_sandbox_pattern(ngx_str_t *pattern)
{
    u_char      c;
    ngx_uint_t  i;

    if (pattern->len < 2 || pattern->len > NGX_HTTP_AGNITEL_SANDBOX_E164_MAX)
    {
        return NGX_DECLINED;
    }

    for (i = 0; i < pattern->len; i++) {
        c = ngx_toupper(pattern->data[i]);

        if (c >= 'A' && c <= 'Z') {
            pattern->data[i] = ngx_http_agnitel_sandbox_keypad[c - 'A'];

        } else if (!isdigit(c) && c != '*') {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_agnitel_sandbox_toll_free(u_char *area)
{
    /* NANP toll-free codes: 800, 833, 844, 855, 866, 877, 888 */

    return area[0] == '8'
           && ((area[1] == '0' && area[2] == '0')
               || (area[1] >= '3' && area[1] <= '8' && area[2] == area[1]));
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
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "agnitel sandbox: store: %s", mdb_strerror(rc));
        return ngx_http_agnitel_sandbox_internal(r);
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
    ngx_http_agnitel_loc_conf_t    *alcf;
    ngx_http_agnitel_sandbox_buy_t  buy;
    ngx_http_agnitel_sandbox_err_t  err;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_agnitel_module);
    account = alcf->sandbox_sid;

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
                                            &buy.friendly_name,
                                            &buy.voice_url, ngx_time());
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
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "agnitel sandbox: store: %s", mdb_strerror(rc));
        return ngx_http_agnitel_sandbox_internal(r);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "agnitel sandbox: bought %V as %*s", &buy.phone_number,
                  sizeof(sid), sid);

    return ngx_http_agnitel_sandbox_send(r, NGX_HTTP_CREATED, s.data, s.len);
}


/*
 * PhoneNumber, FriendlyName and VoiceUrl of the form; others are ignored.
 * NGX_DECLINED for a body over the limit.
 */

static ngx_int_t
ngx_http_agnitel_sandbox_buy_form(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_buy_t *buy)
{
    u_char     *body, *p, *end, *amp, *eq;
    size_t      len;
    ngx_str_t   key, val, *field;

    ngx_memzero(buy, sizeof(ngx_http_agnitel_sandbox_buy_t));

    body = ngx_http_agnitel_body(r, NGX_HTTP_AGNITEL_SANDBOX_BODY_MAX, &len);

    if (body == NULL) {
        return (len > NGX_HTTP_AGNITEL_SANDBOX_BODY_MAX) ? NGX_DECLINED
                                                         : NGX_ERROR;
    }

    end = body + len;

    for (p = body; p < end; p = amp + 1) {

        amp = ngx_strlchr(p, end, '&');
        if (amp == NULL) {
            amp = end;
        }

        eq = ngx_strlchr(p, amp, '=');
        if (eq == NULL) {
            continue;
        }

        /* in place: a decoded text is never longer than its encoding */

        key.data = p;
        key.len = ngx_http_agnitel_sandbox_unescape(p, eq - p);
        val.data = eq + 1;
        val.len = ngx_http_agnitel_sandbox_unescape(eq + 1, amp - eq - 1);

        if (ngx_http_agnitel_sandbox_eq(&key, "PhoneNumber")) {
            field = &buy->phone_number;

        } else if (ngx_http_agnitel_sandbox_eq(&key, "FriendlyName")) {
            field = &buy->friendly_name;

        } else if (ngx_http_agnitel_sandbox_eq(&key, "VoiceUrl")) {
            field = &buy->voice_url;

        } else {
            continue;
        }

        if (field->data == NULL) {
            *field = val;
        }
    }

    return NGX_OK;
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

    if (url->data
        && (ngx_http_agnitel_sandbox_text(url,
                                          NGX_HTTP_AGNITEL_SANDBOX_URL_MAX)
            != NGX_OK
            || !((url->len > 7
                  && ngx_strncasecmp(url->data, (u_char *) "http://", 7)
                     == 0)
                 || (url->len > 8
                     && ngx_strncasecmp(url->data, (u_char *) "https://", 8)
                        == 0))))
    {
        err->code = 21402;
        err->message = "VoiceUrl is not a valid URL";
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
    ngx_str_t *number, ngx_str_t *name, ngx_str_t *voice_url, time_t created)
{
    u_char   date[NGX_HTTP_AGNITEL_SANDBOX_DATE_LEN];
    u_char   uri[NGX_HTTP_AGNITEL_SANDBOX_URI_MAX];
    u_char   addons[NGX_HTTP_AGNITEL_SANDBOX_URI_MAX];
    size_t   uri_len, addons_len;
    json_t  *url;

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

    url = voice_url->data ? json_stringn((char *) voice_url->data,
                                         voice_url->len)
                          : json_null();

    /* json_pack() releases the stolen "o" value when it fails */

    return json_pack("{s:s%,s:s,s:n,s:s,s:b,s:{s:b,s:b,s:b,s:b},s:s%,s:s%,"
                     "s:s,s:n,s:s,s:s%,s:n,s:s,s:s%,s:s%,s:n,s:s,s:n,s:s,"
                     "s:n,s:n,s:s,s:n,s:s%,s:n,s:b,s:s,s:n,s:s,s:o,s:s,"
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
                     "status_callback_method", "POST",
                     "trunk_sid",
                     "uri", uri, uri_len,
                     "voice_application_sid",
                     "voice_caller_id_lookup", 0,
                     "voice_fallback_method", "POST",
                     "voice_fallback_url",
                     "voice_method", "POST",
                     "voice_url", url,
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
    u_char     *sid;
    ngx_str_t   number, name, url;

    sid = (u_char *) NGX_HTTP_AGNITEL_SANDBOX_OWNED_SID;

    ngx_str_set(&number, NGX_HTTP_AGNITEL_SANDBOX_OWNED);
    ngx_str_set(&name, NGX_HTTP_AGNITEL_SANDBOX_OWNED_NAME);
    ngx_str_null(&url);

    return ngx_http_agnitel_sandbox_incoming(account, sid, &number, &name,
                                             &url,
                                             NGX_HTTP_AGNITEL_SANDBOX_EPOCH);
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


/* "(415) 555-0100" for NANP numbers, the E.164 itself elsewhere */

static size_t
ngx_http_agnitel_sandbox_format(u_char *dst, ngx_str_t *number)
{
    u_char  *d;

    d = number->data;

    if (number->len == 12 && d[1] == '1') {
        return ngx_sprintf(dst, "(%*s) %*s-%*s", (size_t) 3, d + 2,
                           (size_t) 3, d + 5, (size_t) 4, d + 8)
               - dst;
    }

    return ngx_cpymem(dst, d, ngx_min(number->len,
                                      NGX_HTTP_AGNITEL_SANDBOX_E164_MAX))
           - dst;
}


/* RFC 2822, as Twilio writes dates: "Thu, 30 Jul 2015 23:19:04 +0000" */

static u_char *
ngx_http_agnitel_sandbox_date(u_char *buf, time_t t)
{
    ngx_tm_t  tm;

    ngx_gmtime(t, &tm);

    return ngx_sprintf(buf, "%s, %02d %s %4d %02d:%02d:%02d +0000",
                       ngx_http_agnitel_sandbox_week[tm.ngx_tm_wday],
                       tm.ngx_tm_mday,
                       ngx_http_agnitel_sandbox_months[tm.ngx_tm_mon - 1],
                       tm.ngx_tm_year, tm.ngx_tm_hour, tm.ngx_tm_min,
                       tm.ngx_tm_sec);
}


/*
 * A query argument, form-decoded ("+" is a space) into pool memory:
 * NGX_OK, NGX_DECLINED when absent (value->data NULL), NGX_ERROR.
 */

static ngx_int_t
ngx_http_agnitel_sandbox_arg(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_str_t  raw;

    ngx_str_null(value);

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &raw) != NGX_OK) {
        return NGX_DECLINED;
    }

    value->data = ngx_pnalloc(r->pool, raw.len + 1);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(value->data, raw.data, raw.len);
    value->len = ngx_http_agnitel_sandbox_unescape(value->data, raw.len);

    return NGX_OK;
}


/* "true" asks for a capability; "false" or nothing does not filter */

static ngx_uint_t
ngx_http_agnitel_sandbox_flag(ngx_http_request_t *r, const char *name)
{
    ngx_str_t  v;

    return ngx_http_agnitel_sandbox_arg(r, name, &v) == NGX_OK
           && ngx_http_agnitel_sandbox_caseeq(&v, "true");
}


/* application/x-www-form-urlencoded decoding in place; returns the length */

static size_t
ngx_http_agnitel_sandbox_unescape(u_char *p, size_t len)
{
    u_char     *dst, *end, *start;
    ngx_int_t   c;

    start = p;
    dst = p;
    end = p + len;

    while (p < end) {

        if (*p == '+') {
            *dst++ = ' ';
            p++;
            continue;
        }

        if (*p == '%' && end - p >= 3) {
            c = ngx_hextoi(p + 1, 2);

            if (c != NGX_ERROR) {
                *dst++ = (u_char) c;
                p += 3;
                continue;
            }
        }

        *dst++ = *p++;
    }

    return dst - start;
}


/* UTF-8 of 1 to max characters, no control characters */

static ngx_int_t
ngx_http_agnitel_sandbox_text(ngx_str_t *s, size_t max)
{
    u_char      *p, *end;
    uint32_t     c;
    ngx_uint_t   chars;

    p = s->data;
    end = s->data + s->len;
    chars = 0;

    while (p < end) {

        if (*p < 0x80) {
            if (*p < 0x20 || *p == 0x7f) {
                return NGX_DECLINED;
            }

            p++;

        } else {
            c = ngx_utf8_decode(&p, end - p);

            if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
                return NGX_DECLINED;
            }
        }

        chars++;
    }

    return (chars > 0 && chars <= max) ? NGX_OK : NGX_DECLINED;
}


static ngx_uint_t
ngx_http_agnitel_sandbox_eq(ngx_str_t *s, const char *v)
{
    return s->len == ngx_strlen(v)
           && ngx_strncmp(s->data, v, s->len) == 0;
}


static ngx_uint_t
ngx_http_agnitel_sandbox_caseeq(ngx_str_t *s, const char *v)
{
    return s->len == ngx_strlen(v)
           && ngx_strncasecmp(s->data, (u_char *) v, s->len) == 0;
}


/* Twilio's error body: {"code":..., "message":..., "more_info":..., ...} */

static ngx_int_t
ngx_http_agnitel_sandbox_error(ngx_http_request_t *r, ngx_uint_t status,
    ngx_uint_t code, const char *message)
{
    u_char   more[sizeof(NGX_HTTP_AGNITEL_SANDBOX_ERRORS) + NGX_INT_T_LEN];
    size_t   len;
    json_t  *json;

    len = ngx_sprintf(more, NGX_HTTP_AGNITEL_SANDBOX_ERRORS "%ui", code)
          - more;

    json = json_pack("{s:i,s:s,s:s%,s:i}",
                     "code", (int) code,
                     "message", message,
                     "more_info", more, len,
                     "status", (int) status);

    return ngx_http_agnitel_sandbox_send_json(r, status, json);
}


static ngx_int_t
ngx_http_agnitel_sandbox_bad_request(ngx_http_request_t *r,
    ngx_http_agnitel_sandbox_err_t *err)
{
    return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_BAD_REQUEST, err->code,
                                          err->message);
}


static ngx_int_t
ngx_http_agnitel_sandbox_unauthorized(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");
    ngx_str_set(&h->value, "Basic realm=\"Twilio API\"");

    r->headers_out.www_authenticate = h;

    return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_UNAUTHORIZED, 20003,
                                          "Authenticate");
}


/* Twilio names the path; a path that is not plain text is not repeated */

static ngx_int_t
ngx_http_agnitel_sandbox_not_found(ngx_http_request_t *r)
{
    u_char      *msg;
    ngx_uint_t   i;

    for (i = 0; i < r->uri.len; i++) {
        if (r->uri.data[i] < 0x20 || r->uri.data[i] > 0x7e) {
            return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_NOT_FOUND,
                                                  20404,
                                                  "The requested resource "
                                                  "was not found");
        }
    }

    msg = ngx_pnalloc(r->pool, r->uri.len + sizeof("The requested resource "
                                                   " was not found"));
    if (msg == NULL) {
        return ngx_http_agnitel_sandbox_internal(r);
    }

    ngx_sprintf(msg, "The requested resource %V was not found%Z", &r->uri);

    return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_NOT_FOUND, 20404,
                                          (const char *) msg);
}


static ngx_int_t
ngx_http_agnitel_sandbox_not_allowed(ngx_http_request_t *r,
    const char *allow)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Allow");
    h->value.data = (u_char *) allow;
    h->value.len = ngx_strlen(allow);

    return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_NOT_ALLOWED, 20004,
                                          "Method not allowed");
}


static ngx_int_t
ngx_http_agnitel_sandbox_internal(ngx_http_request_t *r)
{
    return ngx_http_agnitel_sandbox_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                          20500, "Internal Server Error");
}


/* sends json and releases it; NULL (jansson out of memory) is a 500 */

static ngx_int_t
ngx_http_agnitel_sandbox_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json)
{
    char    *text;
    size_t   len;
    u_char  *data;

    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    text = json_dumps(json, JSON_COMPACT);

    json_decref(json);

    if (text == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_strlen(text);

    data = ngx_pnalloc(r->pool, len);
    if (data == NULL) {
        free(text);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(data, text, len);
    free(text);

    return ngx_http_agnitel_sandbox_send(r, status, data, len);
}


/* a 204 goes out as headers only: nginx's header filter sees to it */

static ngx_int_t
ngx_http_agnitel_sandbox_send(ngx_http_request_t *r, ngx_uint_t status,
    u_char *data, size_t len)
{
    ngx_str_t  text;

    text.data = data;
    text.len = len;

    return ngx_http_agnitel_send_raw(r, status, &text);
}


/* opened by every worker in init_process; NULL only if that failed */

static ngx_http_agnitel_store_t *
ngx_http_agnitel_sandbox_store(ngx_http_request_t *r)
{
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    if (amcf->store == NULL) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "agnitel sandbox: the store is not open");
    }

    return amcf->store;
}
