// Package appapi is the JSON API the service app (and any other client of the
// insured person) calls under /api/v1. A handler decodes strictly, calls one
// service method and renders; errors become {"error": code, "message": German
// text} in one place (respond.go), never revealing which check failed.
//
// It owns the HTTP shape of the API (routes, request and response bodies, the
// OpenAPI document at /api/openapi.json) and the per-client-IP rate limit. It
// does not own any rule: logins and passwords belong to package account,
// sessions to package session.
package appapi
