
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_IDEMPOTENCY_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_IDEMPOTENCY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>
#include <lmdb.h>

#include "ngx_http_agnitel_store.h"


/* what an Idempotency-Key found in the store */
#define NGX_HTTP_AGNITEL_IDEM_NEW       0
#define NGX_HTTP_AGNITEL_IDEM_REPLAY    1
#define NGX_HTTP_AGNITEL_IDEM_MISMATCH  2
#define NGX_HTTP_AGNITEL_IDEM_BUSY      3


typedef struct {
    /* workspace "/" Idempotency-Key: empty when the request has none */
    ngx_str_t                   key;

    /* the hex SHA-256 of the body the key must come with */
    u_char                      hash[2 * NGX_HTTP_AGNITEL_SHA256_LEN];
} ngx_http_agnitel_idem_t;


ngx_int_t ngx_http_agnitel_idem_init(ngx_http_request_t *r, json_t *body,
    ngx_http_agnitel_idem_t *idem);
int ngx_http_agnitel_idem_claim(ngx_http_request_t *r, MDB_txn *txn,
    ngx_http_agnitel_idem_t *idem, ngx_uint_t *state, ngx_uint_t *status,
    ngx_str_t *text);
int ngx_http_agnitel_idem_keep(ngx_http_request_t *r, MDB_txn *txn,
    ngx_http_agnitel_idem_t *idem, ngx_uint_t status, ngx_str_t *text);
ngx_int_t ngx_http_agnitel_idem_note(ngx_pool_t *pool,
    ngx_http_agnitel_idem_t *idem, json_t *rec);
int ngx_http_agnitel_idem_settle(MDB_txn *txn,
    ngx_http_agnitel_store_t *store, json_t *rec, ngx_uint_t status,
    ngx_str_t *answer);
int ngx_http_agnitel_idem_purge(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    time_t now, ngx_uint_t max, ngx_uint_t *purged);


#endif /* _NGX_HTTP_AGNITEL_IDEMPOTENCY_H_INCLUDED_ */
