
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_INDIA_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_INDIA_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>
#include <lmdb.h>

#include "ngx_http_agnitel_store.h"
#include "ngx_http_agnitel_twilio.h"


/* what an apply returns when the provider is not in the state it needs */
#define NGX_HTTP_AGNITEL_INDIA_STATE     (MDB_KEYEXIST + 1102)


ngx_int_t ngx_http_agnitel_india_create(ngx_http_request_t *r, json_t *body);
ngx_int_t ngx_http_agnitel_india_otp(ngx_http_request_t *r, json_t *body);
ngx_int_t ngx_http_agnitel_india_otp_check(ngx_http_request_t *r,
    json_t *body);

ngx_int_t ngx_http_agnitel_india_gate(ngx_http_request_t *r, ngx_str_t *id,
    ngx_http_agnitel_carrier_err_t *err);
ngx_int_t ngx_http_agnitel_india_find(ngx_http_request_t *r,
    const char **states, json_t **prv, u_char *key, MDB_val *k);
int ngx_http_agnitel_india_get(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    MDB_val *k, const char **states, json_t **prv);
int ngx_http_agnitel_india_put(MDB_txn *txn, ngx_http_agnitel_store_t *store,
    MDB_val *k, json_t *prv);
ngx_int_t ngx_http_agnitel_india_state(ngx_http_request_t *r,
    const char *state);
ngx_int_t ngx_http_agnitel_india_changed(ngx_http_request_t *r);
ngx_int_t ngx_http_agnitel_india_answer(ngx_http_request_t *r,
    ngx_uint_t status, const char *message, json_t *prv);


#endif /* _NGX_HTTP_AGNITEL_INDIA_H_INCLUDED_ */
