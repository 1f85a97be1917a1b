
/*
 * Copyright (C) agnitel
 *
 * Number operations that go through the carrier: search, buy, add an
 * existing Twilio number, release a bought one.  Each starts a call
 * (ngx_http_agnitel_call()) and finishes in its resume handler.  The
 * carrier is the workspace's Twilio account, or for Indian numbers the
 * platform's account at the Indian carrier (ngx_http_agnitel_exotel.h).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel_purchase.h"
#include "ngx_http_agnitel_commit.h"
#include "ngx_http_agnitel_crypto.h"
#include "ngx_http_agnitel_e164.h"
#include "ngx_http_agnitel_exotel.h"
#include "ngx_http_agnitel_http.h"
#include "ngx_http_agnitel_idempotency.h"
#include "ngx_http_agnitel_india.h"
#include "ngx_http_agnitel_ledger.h"
#include "ngx_http_agnitel_number.h"
#include "ngx_http_agnitel_providers.h"
#include "ngx_http_agnitel_rate.h"
#include "ngx_http_agnitel_record.h"
#include "ngx_http_agnitel_store.h"
#include "ngx_http_agnitel_twilio.h"


#define NGX_HTTP_AGNITEL_SEARCH_LIMIT   20
#define NGX_HTTP_AGNITEL_SEARCH_MAX     50


/* a search, a purchase, an addition or a release at the carrier */
typedef struct {
    ngx_http_request_t                 *request;
    ngx_http_agnitel_call_t             call;
    ngx_http_agnitel_twilio_account_t   account;
    ngx_http_agnitel_rate_t            *rate;
    u_char                              iso[2];
    ngx_str_t                           number;
    ngx_str_t                           name;
    ngx_http_agnitel_idem_t             idem;
    ngx_uint_t                          limit;

    /* a purchase paid from credits: its debit, or the reversal of it */
    ngx_http_agnitel_entry_t            entry;

    /* a purchase: its record, and what the key and the carrier said */
    MDB_val                             v;
    ngx_uint_t                          state;
    ngx_uint_t                          status;
    ngx_str_t                           text;
    json_t                             *carrier;
    const char                         *sid;
    unsigned                            remove:1;

    /* an Indian number, from the Indian carrier; paid from credits */
    unsigned                            india:1;
    unsigned                            paid:1;
} ngx_http_agnitel_order_t;


static ngx_int_t ngx_http_agnitel_search_args(ngx_http_request_t *r,
    ngx_http_agnitel_order_t *o, ngx_uint_t *type, ngx_str_t *args,
    ngx_http_agnitel_carrier_err_t *err);
static ngx_int_t ngx_http_agnitel_search_india(ngx_http_agnitel_order_t *o,
    ngx_http_agnitel_param_t *params, ngx_str_t *args,
    ngx_http_agnitel_carrier_err_t *err);
static ngx_int_t ngx_http_agnitel_search_done(ngx_http_request_t *r,
    ngx_http_agnitel_call_t *call);
static void ngx_http_agnitel_available(ngx_http_agnitel_json_t *j,
    ngx_http_agnitel_order_t *o, json_t *item);
static void ngx_http_agnitel_prices(ngx_http_agnitel_json_t *j,
    ngx_http_agnitel_rate_t *rate);
static ngx_int_t ngx_http_agnitel_buy_prices(ngx_http_request_t *r,
    ngx_http_agnitel_order_t *o, ngx_http_agnitel_carrier_err_t *err);
static ngx_int_t ngx_http_agnitel_buy_record(ngx_http_request_t *r,
    ngx_http_agnitel_order_t *o);
static int ngx_http_agnitel_pending_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_pending_written(ngx_http_request_t *r,
    void *data, int rc);
static ngx_int_t ngx_http_agnitel_buy_call(ngx_http_request_t *r,
    ngx_http_agnitel_order_t *o);
static ngx_int_t ngx_http_agnitel_buy_done(ngx_http_request_t *r,
    ngx_http_agnitel_call_t *call);
static int ngx_http_agnitel_active_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_active_written(ngx_http_request_t *r,
    void *data, int rc);
static ngx_int_t ngx_http_agnitel_buy_answer(ngx_http_request_t *r,
    ngx_http_agnitel_order_t *o, ngx_uint_t status,
    ngx_http_agnitel_json_t *j, ngx_uint_t remove);
static int ngx_http_agnitel_answer_apply(MDB_txn *txn, void *data);
static ngx_int_t ngx_http_agnitel_answer_written(ngx_http_request_t *r,
    void *data, int rc);
static ngx_int_t ngx_http_agnitel_add_done(ngx_http_request_t *r,
    ngx_http_agnitel_call_t *call);
static ngx_int_t ngx_http_agnitel_release_done(ngx_http_request_t *r,
    ngx_http_agnitel_call_t *call);
static ngx_int_t ngx_http_agnitel_order_account(ngx_http_request_t *r,
    ngx_http_agnitel_order_t *o, ngx_http_agnitel_carrier_err_t *err);
static ngx_int_t ngx_http_agnitel_order_india(ngx_http_request_t *r,
    ngx_http_agnitel_order_t *o, ngx_http_agnitel_carrier_err_t *err);
static ngx_int_t ngx_http_agnitel_order_number(ngx_http_request_t *r,
    json_t *body, ngx_http_agnitel_order_t *o,
    ngx_http_agnitel_carrier_err_t *err);
static ngx_int_t ngx_http_agnitel_fail(ngx_http_agnitel_carrier_err_t *err,
    ngx_uint_t status, const char *code, const char *field,
    const char *message);
static ngx_int_t ngx_http_agnitel_carrier_error(ngx_http_request_t *r,
    ngx_http_agnitel_carrier_err_t *err);
static json_t *ngx_http_agnitel_twilio_number(ngx_http_request_t *r,
    ngx_http_agnitel_order_t *o, json_t *carrier, const char *status);


/* "local" -> "Local.json", as Twilio names its resources */
static const char  *ngx_http_agnitel_resources[] = {
    NULL, "Local", "Mobile", "TollFree"
};


ngx_int_t
ngx_http_agnitel_purchase_search(ngx_http_request_t *r, json_t *body)
{
    ngx_int_t                        rc;
    ngx_str_t                        args;
    ngx_uint_t                       type;
    ngx_http_agnitel_order_t        *o;
    ngx_http_agnitel_carrier_err_t   err;
    ngx_http_agnitel_main_conf_t    *amcf;

    o = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_order_t));
    if (o == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    o->request = r;
    type = NGX_HTTP_AGNITEL_LOCAL;

    rc = ngx_http_agnitel_search_args(r, o, &type, &args, &err);

    if (rc == NGX_OK) {
        rc = ngx_http_agnitel_order_account(r, o, &err);
    }

    if (rc != NGX_OK) {
        return ngx_http_agnitel_carrier_error(r, &err);
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);
    o->rate = ngx_http_agnitel_rate_find(amcf, o->iso, type);

    o->call.method = NGX_HTTP_GET;
    o->call.args = args;
    o->call.resume = ngx_http_agnitel_search_done;
    o->call.data = o;

    if (o->india) {
        rc = ngx_http_agnitel_exotel_search(r->pool, &o->account.account_sid,
                                            type, &o->call);

    } else {
        rc = ngx_http_agnitel_twilio_path(r->pool, &o->call.path,
                                          &o->account.account_sid,
                                          "/AvailablePhoneNumbers/%*s/%s.json",
                                          (size_t) 2, o->iso,
                                          ngx_http_agnitel_resources[type]);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_agnitel_call(r, &o->call);
}


/* the search query, checked and turned into Twilio's */

static ngx_int_t
ngx_http_agnitel_search_args(ngx_http_request_t *r,
    ngx_http_agnitel_order_t *o, ngx_uint_t *type, ngx_str_t *args,
    ngx_http_agnitel_carrier_err_t *err)
{
    ngx_str_t   v, name;
    ngx_uint_t  i, k;

    /* query argument, Twilio parameter, characters allowed, longest */
    static struct {
        const char  *arg;
        const char  *param;
        const char  *allowed;
        size_t       max;
    } filters[] = {
        { "area_code", "AreaCode", "0123456789", 6 },
        { "contains", "Contains",
          "0123456789*ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
          16 },
        { "region", "InRegion", NULL, 64 },
        { "locality", "InLocality", NULL, 64 },
        { "postal_code", "InPostalCode", NULL, 16 },
        { "voice_enabled", "VoiceEnabled", "truefals", 5 },
        { "sms_enabled", "SmsEnabled", "truefals", 5 },
        { "limit", "PageSize", "0123456789", 2 },
    };

    ngx_http_agnitel_param_t  params[sizeof(filters) / sizeof(filters[0])];

    if (ngx_http_agnitel_arg(r, "iso_country", &v) != NGX_OK
        || v.len != 2 || !isalpha(v.data[0]) || !isalpha(v.data[1]))
    {
        return ngx_http_agnitel_fail(err, NGX_HTTP_BAD_REQUEST,
                                     "invalid_field", "iso_country",
                                     "iso_country is required: an ISO "
                                     "3166-1 alpha-2 code");
    }

    o->iso[0] = ngx_toupper(v.data[0]);
    o->iso[1] = ngx_toupper(v.data[1]);
    o->india = (o->iso[0] == 'I' && o->iso[1] == 'N');

    if (ngx_http_agnitel_arg(r, "type", &name) == NGX_OK) {
        *type = ngx_http_agnitel_rate_type(&name);

        if (*type == 0) {
            return ngx_http_agnitel_fail(err, NGX_HTTP_BAD_REQUEST,
                                         "invalid_field", "type",
                                         "type must be local, mobile or "
                                         "toll_free");
        }
    }

    for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        params[i].key = filters[i].param;
        ngx_str_null(&params[i].value);

        if (ngx_http_agnitel_arg(r, filters[i].arg, &v) != NGX_OK) {
            continue;
        }

        if (v.len == 0 || v.len > filters[i].max) {
            goto invalid;
        }

        for (k = 0; k < v.len; k++) {
            if (v.data[k] < 0x20
                || (filters[i].allowed
                    && ngx_strlchr((u_char *) filters[i].allowed,
                                   (u_char *) filters[i].allowed
                                   + ngx_strlen(filters[i].allowed),
                                   v.data[k]) == NULL))
            {
                goto invalid;
            }
        }

        if ((filters[i].allowed == filters[5].allowed
             && !(v.len == 4 && ngx_strncmp(v.data, "true", 4) == 0)
             && !(v.len == 5 && ngx_strncmp(v.data, "false", 5) == 0))
            || (i == 7 && (ngx_atoi(v.data, v.len) < 1
                           || ngx_atoi(v.data, v.len)
                              > NGX_HTTP_AGNITEL_SEARCH_MAX)))
        {
            goto invalid;
        }

        params[i].value = v;
    }

    if (params[7].value.len == 0) {
        ngx_str_set(&params[7].value, "20");
    }

    o->limit = ngx_atoi(params[7].value.data, params[7].value.len);

    if (o->india) {
        return ngx_http_agnitel_search_india(o, params, args, err);
    }

    if (ngx_http_agnitel_twilio_encode(r->pool, params, i, args) != NGX_OK) {
        return ngx_http_agnitel_fail(err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     "internal_error", NULL,
                                     "internal error");
    }

    return NGX_OK;

invalid:

    return ngx_http_agnitel_fail(err, NGX_HTTP_BAD_REQUEST, "invalid_field",
                                 filters[i].arg,
                                 "a search filter is not valid: area_code "
                                 "digits, contains digits, letters and *, "
                                 "voice_enabled and sms_enabled true or "
                                 "false, limit from 1 to 50");
}


/*
 * The Indian carrier is searched by telecom circle (InRegion, such as
 * KA), digits (Contains) and IncomingSMS; it has no page size, so the
 * limit is applied here.  Filters it does not know are refused, not
 * silently dropped.
 */

static ngx_int_t
ngx_http_agnitel_search_india(ngx_http_agnitel_order_t *o,
    ngx_http_agnitel_param_t *params, ngx_str_t *args,
    ngx_http_agnitel_carrier_err_t *err)
{
    ngx_str_t                 *region;
    ngx_uint_t                 i;
    ngx_http_agnitel_param_t   query[3];

    static const char  *unknown[] = {
        "area_code", NULL, NULL, "locality", "postal_code", "voice_enabled"
    };

    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        if (unknown[i] && params[i].value.len) {
            return ngx_http_agnitel_fail(err, NGX_HTTP_BAD_REQUEST,
                                         "invalid_field", unknown[i],
                                         "Indian numbers are searched by "
                                         "type, region (a telecom circle, "
                                         "such as KA), contains and "
                                         "sms_enabled");
        }
    }

    region = &params[2].value;

    if (region->len
        && (region->len != 2 || !isupper(region->data[0])
            || !isupper(region->data[1])))
    {
        return ngx_http_agnitel_fail(err, NGX_HTTP_BAD_REQUEST,
                                     "invalid_field", "region",
                                     "region is a telecom circle: two "
                                     "capital letters, such as KA or MH");
    }

    for (i = 0; i < params[1].value.len; i++) {
        if (!isdigit(params[1].value.data[i])) {
            return ngx_http_agnitel_fail(err, NGX_HTTP_BAD_REQUEST,
                                         "invalid_field", "contains",
                                         "contains is digits for Indian "
                                         "numbers");
        }
    }

    query[0].key = "InRegion";
    query[0].value = *region;
    query[1].key = "Contains";
    query[1].value = params[1].value;
    query[2].key = "IncomingSMS";
    query[2].value = params[6].value;

    if (ngx_http_agnitel_twilio_encode(o->request->pool, query, 3, args)
        != NGX_OK)
    {
        return ngx_http_agnitel_fail(err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     "internal_error", NULL,
                                     "internal error");
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_agnitel_search_done(ngx_http_request_t *r,
    ngx_http_agnitel_call_t *call)
{
    ngx_http_agnitel_order_t  *o = call->data;

    json_t                          *json, *list;
    size_t                           i, n;
    ngx_http_agnitel_json_t         *j;
    ngx_http_agnitel_carrier_err_t   err;

    if (ngx_http_agnitel_carrier_outcome(o->india, r->pool, call,
                                         NGX_HTTP_AGNITEL_TWILIO_SEARCH,
                                         &json, &err)
        != NGX_OK)
    {
        return ngx_http_agnitel_carrier_error(r, &err);
    }

    /* no json: the carrier found nothing (Twilio's 21452, a 404) */

    list = o->india ? ngx_http_agnitel_exotel_list(json)
                    : json_object_get(json, "available_phone_numbers");
    n = ngx_min(json_array_size(list), o->limit);

    j = ngx_http_agnitel_reply(r, 512 * (n + 1), "Available phone numbers");
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_agnitel_json_lit(j, "[");

    for (i = 0; i < n; i++) {
        if (i) {
            ngx_http_agnitel_json_lit(j, ",");
        }

        ngx_http_agnitel_available(j, o, json_array_get(list, i));
    }

    ngx_http_agnitel_json_lit(j, "]");
    ngx_http_agnitel_json_key(j, "meta");
    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "total");
    ngx_http_agnitel_json_int(j, n);
    ngx_http_agnitel_json_lit(j, "}");

    return ngx_http_agnitel_send(r, NGX_HTTP_OK, j);
}


/*
 * One available number with the rate card's prices.  Twilio leaves
 * fields out or null as it pleases, and sends coordinates as strings:
 * only strings are copied, anything else is null.
 */

static void
ngx_http_agnitel_available(ngx_http_agnitel_json_t *j,
    ngx_http_agnitel_order_t *o, json_t *item)
{
    json_t       *caps, *iso;
    const char  **key;

    static const char  *strings[] = {
        "phone_number", "friendly_name", NULL
    };

    static const char  *places[] = {
        "region", "locality", "postal_code", NULL
    };

    ngx_http_agnitel_json_lit(j, "{");

    for (key = strings; *key; key++) {
        ngx_http_agnitel_json_member(j, *key, json_object_get(item, *key));
    }

    iso = json_object_get(item, "iso_country");

    if (json_is_string(iso)) {
        ngx_http_agnitel_json_member(j, "iso_country", iso);

    } else {
        ngx_http_agnitel_json_key(j, "iso_country");
        ngx_http_agnitel_json_str(j, o->iso, 2);
    }

    for (key = places; *key; key++) {
        ngx_http_agnitel_json_member(j, *key, json_object_get(item, *key));
    }

    caps = json_object_get(item, "capabilities");

    ngx_http_agnitel_json_key(j, "capabilities");
    ngx_http_agnitel_json_lit(j, "{");
    ngx_http_agnitel_json_key(j, "voice");
    ngx_http_agnitel_json_bool(j,
                          ngx_http_agnitel_twilio_capability(caps, "voice"));
    ngx_http_agnitel_json_key(j, "sms");
    ngx_http_agnitel_json_bool(j,
                          ngx_http_agnitel_twilio_capability(caps, "sms"));
    ngx_http_agnitel_json_lit(j, "}");

    ngx_http_agnitel_json_member(j, "address_requirements",
                             json_object_get(item, "address_requirements"));

    ngx_http_agnitel_prices(j, o->rate);

    ngx_http_agnitel_json_lit(j, "}");
}


static void
ngx_http_agnitel_prices(ngx_http_agnitel_json_t *j,
    ngx_http_agnitel_rate_t *rate)
{
    if (rate == NULL) {
        ngx_http_agnitel_json_lit(j, ",\"price\":null,"
                                  "\"per_minute_price_inbound\":null,"
                                  "\"per_minute_price_outbound\":null,"
                                  "\"currency\":null");
        return;
    }

    ngx_http_agnitel_json_key(j, "price");
    ngx_http_agnitel_json_money(j, rate->monthly);
    ngx_http_agnitel_json_key(j, "per_minute_price_inbound");
    ngx_http_agnitel_json_money(j, rate->inbound);
    ngx_http_agnitel_json_key(j, "per_minute_price_outbound");
    ngx_http_agnitel_json_money(j, rate->outbound);
    ngx_http_agnitel_json_key(j, "currency");
    ngx_http_agnitel_json_str(j, rate->currency, 3);
}


/*
 * Buying: the price must be the rate card's; the number is written as
 * "pending" before the carrier is asked, and becomes "active" after.
 * Each of the three writes is a group-commit write, answered once durable.
 */

ngx_int_t
ngx_http_agnitel_purchase_buy(ngx_http_request_t *r, json_t *body)
{
    ngx_int_t                        rc;
    ngx_http_agnitel_order_t        *o;
    ngx_http_agnitel_carrier_err_t   fail;

    o = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_order_t));
    if (o == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    o->request = r;

    if (ngx_http_agnitel_order_number(r, body, o, &fail) != NGX_OK) {
        return ngx_http_agnitel_carrier_error(r, &fail);
    }

    /* +91: Indian numbers, never Twilio's */

    o->india = (o->number.len > 3
                && ngx_strncmp(o->number.data, "+91", 3) == 0);

    if (ngx_http_agnitel_buy_prices(r, o, &fail) != NGX_OK) {
        return ngx_http_agnitel_carrier_error(r, &fail);
    }

    rc = ngx_http_agnitel_idem_init(r, body, &o->idem);

    if (rc == NGX_DECLINED) {
        return ngx_http_agnitel_invalid(r, "Idempotency-Key",
                                        "Idempotency-Key must have 1 to 128 "
                                        "characters");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_agnitel_order_account(r, o, &fail) != NGX_OK) {
        return ngx_http_agnitel_carrier_error(r, &fail);
    }

    if (ngx_http_agnitel_buy_record(r, o) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_agnitel_write(r, ngx_http_agnitel_pending_apply,
                                  ngx_http_agnitel_pending_written, o);
}


/*
 * The prices given must be valid money and the rate card's, exactly: the
 * client agreed to them.
 */

static ngx_int_t
ngx_http_agnitel_buy_prices(ngx_http_request_t *r,
    ngx_http_agnitel_order_t *o, ngx_http_agnitel_carrier_err_t *err)
{
    int64_t                        price[3], card[3];
    ngx_uint_t                     i;
    const char                    *msg;
    const u_char                  *cc;
    ngx_http_agnitel_main_conf_t  *amcf;

    static const char  *prices[] = {
        "price", "per_minute_price_inbound", "per_minute_price_outbound"
    };

    for (i = 0; i < 3; i++) {
        msg = ngx_http_agnitel_money(r, prices[i], i == 0, &price[i]);

        if (msg) {
            return ngx_http_agnitel_fail(err, NGX_HTTP_BAD_REQUEST,
                                         "invalid_field", prices[i], msg);
        }
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    cc = ngx_http_agnitel_e164_country(o->number.data, o->number.len);

    if (cc) {
        ngx_memcpy(o->iso, cc, 2);
        o->rate = ngx_http_agnitel_rate_find(amcf, o->iso,
                      ngx_http_agnitel_number_type(o->iso, &o->number));
    }

    if (o->rate == NULL) {
        return ngx_http_agnitel_fail(err, NGX_HTTP_AGNITEL_UNPROCESSABLE,
                                     "invalid_number", "phone_number",
                                     "numbers of this country and type are "
                                     "not sold here");
    }

    card[0] = o->rate->monthly;
    card[1] = o->rate->inbound;
    card[2] = o->rate->outbound;

    for (i = 0; i < 3; i++) {

        /* -1: not given */

        if (price[i] != -1 && price[i] != card[i]) {
            return ngx_http_agnitel_fail(err, NGX_HTTP_CONFLICT,
                                         "price_changed", prices[i],
                                         "the price is not the current "
                                         "one: search again");
        }
    }

    return NGX_OK;
}


/* the pending record, priced from the rate card, in o->v */

static ngx_int_t
ngx_http_agnitel_buy_record(ngx_http_request_t *r,
    ngx_http_agnitel_order_t *o)
{
    u_char                   id[NGX_HTTP_AGNITEL_PN_ID_LEN];
    json_t                  *rec;
    ngx_http_agnitel_ctx_t  *ctx;

    if (ngx_http_agnitel_make_id(id, "pn_") != NGX_OK) {
        return NGX_ERROR;
    }

    rec = ngx_http_agnitel_twilio_number(r, o, NULL, "pending");

    if (rec == NULL
        || json_object_set_new(rec, "id", json_stringn((char *) id,
                                                       sizeof(id))) != 0
        || json_object_set_new(rec, "price",
                               json_integer(o->rate->monthly)) != 0
        || json_object_set_new(rec, "per_minute_price_inbound",
                               json_integer(o->rate->inbound)) != 0
        || json_object_set_new(rec, "per_minute_price_outbound",
                               json_integer(o->rate->outbound)) != 0
        || json_object_set_new(rec, "currency",
                               json_stringn((char *) o->rate->currency, 3))
           != 0
        || ngx_http_agnitel_idem_note(r->pool, &o->idem, rec) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* paid now, from credits, in the write that holds the number */

    if (o->paid) {
        ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);

        if (json_object_set_new(rec, "auto_renew", json_true()) != 0
            || ngx_http_agnitel_entry_init(&o->entry, &ctx->workspace,
                                           (char *) o->rate->currency,
                                           "number_purchase",
                                           -o->rate->monthly)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        o->entry.phone_number = o->number;
        o->entry.covered = 1;
    }

    return ngx_http_agnitel_record_encode(r->pool, rec, &o->v);
}


/* the Idempotency-Key is claimed and the number held, or neither */

static int
ngx_http_agnitel_pending_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_order_t  *o = data;

    int                            rc;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(o->request, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(o->request, ngx_http_agnitel_module);

    o->state = NGX_HTTP_AGNITEL_IDEM_NEW;

    if (o->idem.key.len) {
        rc = ngx_http_agnitel_idem_claim(o->request, txn, &o->idem, &o->state,
                                         &o->status, &o->text);
        if (rc != 0 || o->state != NGX_HTTP_AGNITEL_IDEM_NEW) {
            return rc;
        }
    }

    rc = ngx_http_agnitel_record_insert(txn, amcf->store, &ctx->workspace,
                                        &o->number, &o->v);

    if (rc == 0 && o->paid) {
        rc = ngx_http_agnitel_ledger_append(txn, amcf->store, &o->entry);
    }

    return rc;
}


static ngx_int_t
ngx_http_agnitel_pending_written(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_order_t  *o = data;

    if (rc == MDB_KEYEXIST) {
        return ngx_http_agnitel_number_taken(r);
    }

    if (rc == NGX_HTTP_AGNITEL_NO_CREDITS) {
        return ngx_http_agnitel_error(r, NGX_HTTP_AGNITEL_PAYMENT_REQUIRED,
                                      "insufficient_credits", NULL,
                                      "the credit balance does not cover "
                                      "the number's monthly price: top up "
                                      "first");
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    switch (o->state) {

    case NGX_HTTP_AGNITEL_IDEM_REPLAY:
        return ngx_http_agnitel_send_raw(r, o->status, &o->text);

    case NGX_HTTP_AGNITEL_IDEM_MISMATCH:
        return ngx_http_agnitel_error(r, NGX_HTTP_AGNITEL_UNPROCESSABLE,
                                      "idempotency_mismatch", NULL,
                                      "this Idempotency-Key was used with "
                                      "another request body");

    case NGX_HTTP_AGNITEL_IDEM_BUSY:
        return ngx_http_agnitel_error(r, NGX_HTTP_CONFLICT,
                                      "idempotency_in_progress", NULL,
                                      "a request with this Idempotency-Key "
                                      "is still under way");
    }

    return ngx_http_agnitel_buy_call(r, o);
}


/* the purchase at Twilio, now that the number is held as pending */

static ngx_int_t
ngx_http_agnitel_buy_call(ngx_http_request_t *r, ngx_http_agnitel_order_t *o)
{
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_param_t       form[4];
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    /* empty values (no agnitel_voice_url, say) are left out */

    form[0].key = "PhoneNumber";
    form[0].value = o->number;
    form[1].key = "FriendlyName";
    form[1].value = o->name;
    form[2].key = "VoiceUrl";
    form[2].value = amcf->voice_url;
    form[3].key = "StatusCallback";
    form[3].value = amcf->status_url;

    o->call.method = NGX_HTTP_POST;
    o->call.resume = ngx_http_agnitel_buy_done;
    o->call.data = o;

    /* the Indian carrier takes no status callback */

    if (o->india) {
        if (ngx_http_agnitel_exotel_buy(r->pool, &o->account.account_sid,
                                        form, 3, &o->call)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else if (ngx_http_agnitel_twilio_encode(r->pool, form, 4,
                                              &o->call.body)
               != NGX_OK
               || ngx_http_agnitel_twilio_path(r->pool, &o->call.path,
                                               &o->account.account_sid,
                                               "/IncomingPhoneNumbers.json")
                  != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "agnitel: workspace %V buys %V (pending)",
                  &ctx->workspace, &o->number);

    return ngx_http_agnitel_call(r, &o->call);
}


static ngx_int_t
ngx_http_agnitel_buy_done(ngx_http_request_t *r,
    ngx_http_agnitel_call_t *call)
{
    ngx_http_agnitel_order_t  *o = call->data;

    json_t                          *json;
    ngx_http_agnitel_carrier_err_t   err;

    if (ngx_http_agnitel_carrier_outcome(o->india, r->pool, call,
                                         NGX_HTTP_AGNITEL_TWILIO_BUY,
                                         &json, &err)
        != NGX_OK)
    {
        if (!err.definite) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "agnitel: the purchase of %V has no known outcome: "
                          "it stays pending", &o->number);
        }

        return ngx_http_agnitel_buy_answer(r, o, err.status,
                   ngx_http_agnitel_error_reply(r, err.code, err.field,
                                                err.message),
                   err.definite);
    }

    o->sid = ngx_http_agnitel_twilio_str(json, "sid");

    if (o->sid == NULL || ngx_strlen(o->sid) > 64
        || (!o->india && ngx_strncmp(o->sid, "PN", 2) != 0))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "agnitel: the carrier's answer to the purchase of %V "
                      "has no sid: it stays pending", &o->number);

        return ngx_http_agnitel_buy_answer(r, o, NGX_HTTP_BAD_GATEWAY,
                   ngx_http_agnitel_error_reply(r, "upstream_error", NULL,
                                            "the carrier's answer is "
                                            "malformed"), 0);
    }

    o->carrier = json;

    return ngx_http_agnitel_write(r, ngx_http_agnitel_active_apply,
                                  ngx_http_agnitel_active_written, o);
}


/* the pending record becomes active, and its answer is kept for replays */

static int
ngx_http_agnitel_active_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_order_t  *o = data;

    int                            rc;
    u_char                         key[NGX_HTTP_AGNITEL_STORE_KEY_MAX];
    json_t                        *rec, *caps;
    MDB_val                        k;
    ngx_http_request_t            *r;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_main_conf_t  *amcf;

    r = o->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    k.mv_data = key;
    k.mv_size = ngx_http_agnitel_store_key(key, &ctx->workspace, &o->number);

    rc = ngx_http_agnitel_record_load(r->pool, txn, amcf->store, &k, &rec);
    if (rc != 0) {
        return rc;
    }

    caps = json_object_get(o->carrier, "capabilities");

    if (ngx_http_agnitel_number_activate(r->pool, rec, o->sid, caps, amcf,
                                         &o->v)
        != NGX_OK
        || ngx_http_agnitel_close(ngx_http_agnitel_reply_view(r,
                                      "Phone number bought", &o->v), &o->text)
           != NGX_OK)
    {
        return ENOMEM;
    }

    rc = ngx_http_agnitel_record_put(txn, amcf->store, &k, &o->v, 0);

    if (rc == 0 && o->idem.key.len) {
        rc = ngx_http_agnitel_idem_keep(r, txn, &o->idem, NGX_HTTP_CREATED,
                                        &o->text);
    }

    return rc;
}


static ngx_int_t
ngx_http_agnitel_active_written(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_order_t  *o = data;

    ngx_http_agnitel_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_agnitel_module);

    if (rc != 0 && rc != NGX_HTTP_AGNITEL_UNSYNCED) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "agnitel: bought %V (%s) but could not record it: "
                      "it stays pending", &o->number, o->sid);
    }

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "agnitel: workspace %V bought %V as %s",
                  &ctx->workspace, &o->number, o->sid);

    return ngx_http_agnitel_send_raw(r, NGX_HTTP_CREATED, &o->text);
}


/*
 * A purchase that did not happen: the pending record goes if the carrier
 * surely did nothing ("remove"), and the answer is kept for the
 * Idempotency-Key either way.
 */

static ngx_int_t
ngx_http_agnitel_buy_answer(ngx_http_request_t *r,
    ngx_http_agnitel_order_t *o, ngx_uint_t status,
    ngx_http_agnitel_json_t *j, ngx_uint_t remove)
{
    if (ngx_http_agnitel_close(j, &o->text) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    o->status = status;
    o->remove = remove;

    /* a purchase surely refused: what it was debited comes back */

    if (remove && o->paid) {
        o->entry.amount = -o->entry.amount;
        o->entry.type = "reversal";
        o->entry.covered = 0;

        if (ngx_http_agnitel_make_id(o->entry.id, "le_") != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (!remove && o->idem.key.len == 0) {
        return ngx_http_agnitel_send_raw(r, status, &o->text);
    }

    return ngx_http_agnitel_write(r, ngx_http_agnitel_answer_apply,
                                  ngx_http_agnitel_answer_written, o);
}


static int
ngx_http_agnitel_answer_apply(MDB_txn *txn, void *data)
{
    ngx_http_agnitel_order_t  *o = data;

    int                            rc;
    ngx_http_agnitel_ctx_t        *ctx;
    ngx_http_agnitel_main_conf_t  *amcf;

    ctx = ngx_http_get_module_ctx(o->request, ngx_http_agnitel_module);
    amcf = ngx_http_get_module_main_conf(o->request, ngx_http_agnitel_module);

    if (o->remove) {
        rc = ngx_http_agnitel_record_remove(txn, amcf->store, &ctx->workspace,
                                            &o->number);

        if (rc == 0 && o->paid) {
            rc = ngx_http_agnitel_ledger_append(txn, amcf->store, &o->entry);
        }

        if (rc != 0) {
            return rc;
        }
    }

    if (o->idem.key.len) {
        return ngx_http_agnitel_idem_keep(o->request, txn, &o->idem,
                                          o->status, &o->text);
    }

    return 0;
}


static ngx_int_t
ngx_http_agnitel_answer_written(ngx_http_request_t *r, void *data, int rc)
{
    ngx_http_agnitel_order_t  *o = data;

    if (rc != 0) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    return ngx_http_agnitel_send_raw(r, o->status, &o->text);
}


/*
 * Adding a number the connected Twilio account already has: its SID is
 * fetched from the account, and must be the number given.
 */

ngx_int_t
ngx_http_agnitel_purchase_add(ngx_http_request_t *r, json_t *body)
{
    int                              rc;
    MDB_val                          k, v;
    MDB_txn                         *txn;
    ngx_str_t                        sid;
    const char                      *msg;
    ngx_http_agnitel_order_t        *o;
    ngx_http_agnitel_carrier_err_t   err;
    ngx_http_agnitel_main_conf_t    *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);

    o = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_order_t));
    if (o == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_agnitel_order_number(r, body, o, &err) != NGX_OK) {
        return ngx_http_agnitel_carrier_error(r, &err);
    }

    msg = ngx_http_agnitel_text(r->pool, body, "number_sid", 34, 1, &sid);

    if (msg || ngx_http_agnitel_twilio_sid_valid(&sid, "PN") != NGX_OK) {
        return ngx_http_agnitel_invalid(r, "number_sid",
                                        "number_sid must be PN and 32 hex "
                                        "characters");
    }

    if (ngx_http_agnitel_order_account(r, o, &err) != NGX_OK) {
        return ngx_http_agnitel_carrier_error(r, &err);
    }

    /* no carrier call for a number some workspace holds already */

    txn = ngx_http_agnitel_store_read(amcf->store, r->connection->log);
    if (txn == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    k.mv_data = o->number.data;
    k.mv_size = o->number.len;

    rc = mdb_get(txn, amcf->store->dbi[NGX_HTTP_AGNITEL_DB_NUMBER_OWNERS], &k,
                 &v);

    ngx_http_agnitel_store_read_done(amcf->store);

    if (rc == 0) {
        return ngx_http_agnitel_number_taken(r);
    }

    if (rc != MDB_NOTFOUND) {
        return ngx_http_agnitel_store_error(r, rc);
    }

    o->call.method = NGX_HTTP_GET;
    o->call.resume = ngx_http_agnitel_add_done;
    o->call.data = o;

    if (ngx_http_agnitel_twilio_path(r->pool, &o->call.path,
                                     &o->account.account_sid,
                                     "/IncomingPhoneNumbers/%V.json", &sid)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_agnitel_call(r, &o->call);
}


static ngx_int_t
ngx_http_agnitel_add_done(ngx_http_request_t *r,
    ngx_http_agnitel_call_t *call)
{
    ngx_http_agnitel_order_t  *o = call->data;

    u_char                           id[NGX_HTTP_AGNITEL_PN_ID_LEN];
    json_t                          *json, *rec;
    MDB_val                          v;
    const char                      *number, *sid;
    const u_char                    *cc;
    ngx_http_agnitel_carrier_err_t   err;

    if (ngx_http_agnitel_twilio_outcome(r->pool, call,
                                        NGX_HTTP_AGNITEL_TWILIO_FETCH,
                                        &json, &err)
        != NGX_OK)
    {
        return ngx_http_agnitel_carrier_error(r, &err);
    }

    number = ngx_http_agnitel_twilio_str(json, "phone_number");
    sid = ngx_http_agnitel_twilio_str(json, "sid");

    if (number == NULL || sid == NULL
        || ngx_strlen(number) != o->number.len
        || ngx_strncmp(number, o->number.data, o->number.len) != 0)
    {
        return ngx_http_agnitel_error(r, NGX_HTTP_AGNITEL_UNPROCESSABLE,
                                      "invalid_number", "phone_number",
                                      "number_sid is another number of the "
                                      "Twilio account");
    }

    cc = ngx_http_agnitel_e164_country(o->number.data, o->number.len);
    if (cc) {
        ngx_memcpy(o->iso, cc, 2);
    }

    if (o->name.len == 0) {
        o->name.data = (u_char *) ngx_http_agnitel_twilio_str(json,
                                                              "friendly_name");
        o->name.len = o->name.data ? ngx_strlen(o->name.data) : 0;

        if (o->name.len == 0 || o->name.len > 64) {
            o->name = o->number;
        }
    }

    if (ngx_http_agnitel_make_id(id, "pn_") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* an own account's numbers are billed by Twilio: no price here */

    rec = ngx_http_agnitel_twilio_number(r, o, json, "active");

    if (rec == NULL
        || json_object_set_new(rec, "id", json_stringn((char *) id,
                                                       sizeof(id))) != 0
        || json_object_set_new(rec, "telephony_id", json_string(sid)) != 0
        || ngx_http_agnitel_record_encode(r->pool, rec, &v) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_agnitel_number_insert(r, &o->number, &v,
                                           "Twilio number added");
}


/* a bought number is released at its carrier first; a 404 there is fine */

ngx_int_t
ngx_http_agnitel_purchase_release(ngx_http_request_t *r, ngx_uint_t india,
    ngx_str_t *sid)
{
    ngx_int_t                        rc;
    ngx_http_agnitel_order_t        *o;
    ngx_http_agnitel_carrier_err_t   err;

    o = ngx_pcalloc(r->pool, sizeof(ngx_http_agnitel_order_t));
    if (o == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    o->request = r;
    o->india = india;

    /* a number bought is released whatever its KYC has become since */

    rc = india ? ngx_http_agnitel_order_india(r, o, &err)
               : ngx_http_agnitel_order_account(r, o, &err);

    if (rc != NGX_OK) {
        return ngx_http_agnitel_carrier_error(r, &err);
    }

    o->call.resume = ngx_http_agnitel_release_done;
    o->call.data = o;

    rc = india ? ngx_http_agnitel_exotel_release(r->pool,
                                                 &o->account.account_sid,
                                                 sid, &o->call)
               : ngx_http_agnitel_twilio_release(r->pool,
                                                 &o->account.account_sid,
                                                 sid, &o->call);
    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_agnitel_call(r, &o->call);
}


static ngx_int_t
ngx_http_agnitel_release_done(ngx_http_request_t *r,
    ngx_http_agnitel_call_t *call)
{
    ngx_http_agnitel_order_t  *o = call->data;

    json_t                          *json;
    ngx_http_agnitel_carrier_err_t   err;

    if (ngx_http_agnitel_carrier_outcome(o->india, r->pool, call,
                                         NGX_HTTP_AGNITEL_TWILIO_RELEASE,
                                         &json, &err)
        != NGX_OK)
    {
        /* the number stays active: it is still the workspace's */
        return ngx_http_agnitel_carrier_error(r, &err);
    }

    return ngx_http_agnitel_number_release_local(r);
}


/* the workspace's Twilio account, whose credentials the call will carry */

static ngx_int_t
ngx_http_agnitel_order_account(ngx_http_request_t *r,
    ngx_http_agnitel_order_t *o, ngx_http_agnitel_carrier_err_t *err)
{
    ngx_int_t  rc;

    if (o->india) {
        if (ngx_http_agnitel_india_gate(r, &o->account.id, err) != NGX_OK) {
            return NGX_DECLINED;
        }

        return ngx_http_agnitel_order_india(r, o, err);
    }

    rc = ngx_http_agnitel_twilio_account(r, &o->account);

    if (rc == NGX_DECLINED) {
        return ngx_http_agnitel_fail(err, NGX_HTTP_CONFLICT,
                                     "provider_not_configured", NULL,
                                     "connect a Twilio account first");
    }

    if (rc != NGX_OK) {
        return ngx_http_agnitel_fail(err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     "internal_error", NULL,
                                     "the Twilio provider cannot be used");
    }

    o->call.authorization = o->account.authorization;
    o->paid = o->account.managed;

    return NGX_OK;
}


/*
 * The platform's account at the Indian carrier: every Indian number is
 * bought there, and paid by the workspace from its rupee credits.
 */

static ngx_int_t
ngx_http_agnitel_order_india(ngx_http_request_t *r,
    ngx_http_agnitel_order_t *o, ngx_http_agnitel_carrier_err_t *err)
{
    ngx_http_agnitel_loc_conf_t   *alcf;
    ngx_http_agnitel_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_agnitel_module);
    alcf = ngx_http_get_module_loc_conf(r, ngx_http_agnitel_module);

    if (amcf->india_sid.len == 0 || alcf->india_api.len == 0) {
        return ngx_http_agnitel_fail(err, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     "india_unavailable", NULL,
                                     "Indian numbers are not offered here: "
                                     "the server has no Indian carrier "
                                     "(agnitel_india_account and "
                                     "agnitel_india_api)");
    }

    o->account.account_sid = amcf->india_sid;
    o->call.authorization = amcf->india_authorization;
    o->call.prefix = &alcf->india_api;
    o->paid = 1;

    return NGX_OK;
}


/* phone_number and an optional friendly_name (the number by default) */

static ngx_int_t
ngx_http_agnitel_order_number(ngx_http_request_t *r, json_t *body,
    ngx_http_agnitel_order_t *o, ngx_http_agnitel_carrier_err_t *err)
{
    const char  *msg;

    msg = ngx_http_agnitel_text(r->pool, body, "phone_number", 16, 1,
                                &o->number);

    if (msg || ngx_http_agnitel_e164_valid(o->number.data, o->number.len)
               != NGX_OK)
    {
        return ngx_http_agnitel_fail(err, NGX_HTTP_BAD_REQUEST,
                                     "invalid_field", "phone_number",
                                     "phone_number must be E.164, such as "
                                     "+14155550100");
    }

    msg = ngx_http_agnitel_text(r->pool, body, "friendly_name", 64, 0,
                                &o->name);
    if (msg) {
        return ngx_http_agnitel_fail(err, NGX_HTTP_BAD_REQUEST,
                                     "invalid_field", "friendly_name", msg);
    }

    return NGX_OK;
}


/* fills the answer a helper wants sent; NGX_DECLINED for the caller */

static ngx_int_t
ngx_http_agnitel_fail(ngx_http_agnitel_carrier_err_t *err, ngx_uint_t status,
    const char *code, const char *field, const char *message)
{
    err->status = status;
    err->code = code;
    err->field = field;
    err->message = message;
    err->definite = 1;

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_agnitel_carrier_error(ngx_http_request_t *r,
    ngx_http_agnitel_carrier_err_t *err)
{
    return ngx_http_agnitel_error(r, err->status, err->code, err->field,
                                  err->message);
}


/*
 * The record of a Twilio number (the caller adds id, prices and the SID);
 * capabilities come from the carrier's answer when there is one.
 */

static json_t *
ngx_http_agnitel_twilio_number(ngx_http_request_t *r,
    ngx_http_agnitel_order_t *o, json_t *carrier, const char *status)
{
    json_t     *rec, *caps;
    ngx_str_t  *name;

    caps = json_object_get(carrier, "capabilities");
    name = o->name.len ? &o->name : &o->number;

    rec = json_pack("{s:s%,s:s%,s:s,s:s%,s:s%,s:{s:b,s:b},s:s,s:I}",
                    "phone_number", o->number.data, o->number.len,
                    "friendly_name", name->data, name->len,
                    "provider", o->india ? "india" : "twilio",
                    "provider_id", o->account.id.data, o->account.id.len,
                    "iso_country", o->iso, (size_t) (o->iso[0] ? 2 : 0),
                    "capabilities",
                    "voice", carrier ? (int) ngx_http_agnitel_twilio_capability(
                                                 caps, "voice") : 1,
                    "sms", (int) ngx_http_agnitel_twilio_capability(caps,
                                                                    "sms"),
                    "status", status,
                    "created_at", (json_int_t) ngx_time());

    if (ngx_http_agnitel_json_own(r->pool, rec) != NGX_OK) {
        return NULL;
    }

    return rec;
}
