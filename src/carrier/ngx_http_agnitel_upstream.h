
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_UPSTREAM_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_UPSTREAM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


typedef struct ngx_http_agnitel_call_s  ngx_http_agnitel_call_t;

typedef ngx_int_t (*ngx_http_agnitel_resume_pt)(ngx_http_request_t *r,
    ngx_http_agnitel_call_t *call);


/*
 * One carrier call: an in-memory subrequest to the agnitel_twilio_api
 * location, whose proxy_pass reaches the carrier.  The request that made
 * it resumes in "resume" once the call is over, whatever its outcome.
 */

struct ngx_http_agnitel_call_s {
    ngx_str_t                      *prefix;        /* NULL: twilio_api */
    ngx_uint_t                      method;
    ngx_str_t                       path;          /* after the prefix */
    ngx_str_t                       args;          /* encoded query */
    ngx_str_t                       body;          /* encoded form */
    ngx_str_t                       authorization; /* for the variable */
    ngx_http_agnitel_resume_pt      resume;
    void                           *data;          /* the caller's */

    /* the outcome */
    ngx_uint_t                      status;        /* carrier's, or 0 */
    ngx_int_t                       rc;            /* subrequest's */
    ngx_str_t                       response;
};


ngx_int_t ngx_http_agnitel_call(ngx_http_request_t *r,
    ngx_http_agnitel_call_t *call);
ngx_int_t ngx_http_agnitel_add_variables(ngx_conf_t *cf);


#endif /* _NGX_HTTP_AGNITEL_UPSTREAM_H_INCLUDED_ */
