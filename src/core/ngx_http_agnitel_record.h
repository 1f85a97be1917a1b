
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_RECORD_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_RECORD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>
#include <lmdb.h>

#include "ngx_http_agnitel_json.h"
#include "ngx_http_agnitel_store.h"


/*
 * A number record as stored in the "numbers" and "number_history"
 * databases:
 *
 *     header | due | view | record
 *
 * "record" is the canonical JSON object (money in integer micro-units,
 * times in seconds since the epoch, secrets sealed).  "view" is the number
 * object of the API rendered from it at write time, so that reads copy
 * bytes instead of parsing JSON.  The header carries what list filters
 * look at, and is copied into the number's "number_list" entry.  "due"
 * (since version 2) is when the renew job must next look at the number,
 * so that it parses no record before then.  A version 1 record, written
 * before, has no "due" and stays readable.
 */

#define NGX_HTTP_AGNITEL_RECORD_V1      1
#define NGX_HTTP_AGNITEL_RECORD_V2      2

/* the "due" of a number the renew job has nothing to do with */
#define NGX_HTTP_AGNITEL_NEVER_DUE      INT64_MAX

#define NGX_HTTP_AGNITEL_PENDING        1
#define NGX_HTTP_AGNITEL_ACTIVE         2
#define NGX_HTTP_AGNITEL_GRACE          3
#define NGX_HTTP_AGNITEL_RELEASED       4

#define NGX_HTTP_AGNITEL_CUSTOM         1
#define NGX_HTTP_AGNITEL_TWILIO         2
#define NGX_HTTP_AGNITEL_INDIA          3


/* an E.164 number, NUL-padded, in an index entry */
#define NGX_HTTP_AGNITEL_INDEX_NUMBER   16


typedef struct {
    uint8_t                     version;
    uint8_t                     status;
    uint8_t                     provider;
    u_char                      iso_country[2];
    u_char                      reserved[3];
    uint32_t                    view_len;
} ngx_http_agnitel_record_hdr_t;


/* a number_list duplicate: sorted by number, then header */
typedef struct {
    u_char                          number[NGX_HTTP_AGNITEL_INDEX_NUMBER];
    ngx_http_agnitel_record_hdr_t   hdr;
} ngx_http_agnitel_index_entry_t;


/* money that is not an integer, null in the view */
#define NGX_HTTP_AGNITEL_NO_MONEY       INT64_MIN


/*
 * What a number's view, header and "due" are written from.  A string with
 * NULL data is null in the view, as a time of 0 and money of
 * NGX_HTTP_AGNITEL_NO_MONEY; ngx_http_agnitel_number_init() starts a number
 * with all of them null.  The flags say which of the optional members the
 * record has.
 */
typedef struct {
    ngx_str_t                   id;
    ngx_str_t                   phone_number;
    ngx_str_t                   friendly_name;
    ngx_str_t                   provider;
    ngx_str_t                   provider_id;
    ngx_str_t                   telephony_id;
    ngx_str_t                   iso_country;
    ngx_str_t                   currency;
    ngx_str_t                   status;
    ngx_str_t                   agent_id;
    ngx_str_t                   termination_uri;
    ngx_str_t                   sip_username;
    ngx_str_t                   release_reason;

    int64_t                     price;
    int64_t                     price_inbound;
    int64_t                     price_outbound;

    int64_t                     purchased_at;
    int64_t                     renews_at;
    int64_t                     grace_ends_at;
    int64_t                     created_at;
    int64_t                     released_at;

    int64_t                     calls_inbound;
    int64_t                     calls_outbound;
    int64_t                     minutes_inbound;
    int64_t                     minutes_outbound;

    unsigned                    voice:1;
    unsigned                    sms:1;
    unsigned                    calls:1;        /* it took calls */
    unsigned                    has_agent:1;
    unsigned                    managed:1;      /* it has "auto_renew" */
    unsigned                    auto_renew:1;
    unsigned                    released:1;     /* it has "released_at" */
    unsigned                    has_reason:1;
} ngx_http_agnitel_number_t;


void ngx_http_agnitel_number_init(ngx_http_agnitel_number_t *n);
ngx_int_t ngx_http_agnitel_record_encode(ngx_pool_t *pool, json_t *rec,
    MDB_val *val);
void ngx_http_agnitel_record_begin(ngx_http_agnitel_json_t *j,
    ngx_pool_t *pool, ngx_http_agnitel_number_t *n);
ngx_int_t ngx_http_agnitel_record_end(ngx_http_agnitel_json_t *j,
    MDB_val *val);
int ngx_http_agnitel_record_put(MDB_txn *txn,
    ngx_http_agnitel_store_t *store, MDB_val *key, MDB_val *val,
    unsigned flags);
int ngx_http_agnitel_record_del(MDB_txn *txn,
    ngx_http_agnitel_store_t *store, MDB_val *key);
int ngx_http_agnitel_record_insert(MDB_txn *txn,
    ngx_http_agnitel_store_t *store, ngx_str_t *ws, ngx_str_t *number,
    MDB_val *val);
int ngx_http_agnitel_record_remove(MDB_txn *txn,
    ngx_http_agnitel_store_t *store, ngx_str_t *ws, ngx_str_t *number);
int ngx_http_agnitel_owner_free(MDB_txn *txn,
    ngx_http_agnitel_store_t *store, ngx_str_t *ws, ngx_str_t *number);
ngx_int_t ngx_http_agnitel_record_hdr(MDB_val *val,
    ngx_http_agnitel_record_hdr_t *hdr);
int ngx_http_agnitel_index_first(MDB_txn *txn,
    ngx_http_agnitel_store_t *store, ngx_str_t *ws, MDB_cursor **cur,
    MDB_val *page);
int ngx_http_agnitel_index_next(MDB_cursor *cur, MDB_val *page);
void ngx_http_agnitel_index_entry(MDB_val *page, ngx_uint_t i,
    ngx_http_agnitel_index_entry_t *entry);
ngx_int_t ngx_http_agnitel_record_header(MDB_val *val,
    ngx_http_agnitel_record_hdr_t *hdr, ngx_str_t *view);
ngx_int_t ngx_http_agnitel_record_due(MDB_val *val,
    ngx_http_agnitel_record_hdr_t *hdr, int64_t *due);
int ngx_http_agnitel_record_text(MDB_txn *txn,
    ngx_http_agnitel_store_t *store, MDB_val *key, ngx_str_t *json);
int ngx_http_agnitel_record_load(ngx_pool_t *pool, MDB_txn *txn,
    ngx_http_agnitel_store_t *store, MDB_val *key, json_t **rec);

ngx_uint_t ngx_http_agnitel_status(ngx_str_t *name);
ngx_uint_t ngx_http_agnitel_provider(ngx_str_t *name);


#endif /* _NGX_HTTP_AGNITEL_RECORD_H_INCLUDED_ */
