
/*
 * Copyright (C) agnitel
 *
 * agnitel_twilio_sandbox's number search: GET
 * .../AvailablePhoneNumbers/{CC}/{Type}.json over a few fixed blocks of
 * numbers, less the ones the sandbox has sold.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <lmdb.h>
#include <jansson.h>

#include "ngx_http_agnitel.h"
#include "ngx_http_agnitel_sandbox_request.h"
#include "ngx_http_agnitel_sandbox_search.h"
#include "ngx_http_agnitel_store.h"


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

/* GET .../AvailablePhoneNumbers/{CountryCode}/{Local|Mobile|TollFree}.json */

ngx_int_t
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


ngx_uint_t
ngx_http_agnitel_sandbox_toll_free(u_char *area)
{
    /* NANP toll-free codes: 800, 833, 844, 855, 866, 877, 888 */

    return area[0] == '8'
           && ((area[1] == '0' && area[2] == '0')
               || (area[1] >= '3' && area[1] <= '8' && area[2] == area[1]));
}
