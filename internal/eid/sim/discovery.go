package sim

import (
	"encoding/json"
	"net/http"
)

// handleDiscovery serves the OpenID Provider metadata.
func (s *Simulator) handleDiscovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                s.issuer,
		"authorization_endpoint":                s.issuer + "/authorize",
		"token_endpoint":                        s.issuer + "/token",
		"userinfo_endpoint":                     s.issuer + "/userinfo",
		"jwks_uri":                              s.issuer + "/jwks",
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"ES256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"scopes_supported":                      []string{"openid", "profile", "birthdate", "address"},
		"claims_supported": []string{
			"sub", "acr", "amr", "auth_time", "txn", "family_name", "given_name", "birth_family_name",
			"birthdate", "address", "nationalities", "verified_claims",
		},
		"acr_values_supported":                           []string{ACRLow, ACRSubstantial, ACRHigh},
		"claims_parameter_supported":                     false,
		"verified_claims_supported":                      true,
		"trust_frameworks_supported":                     []string{"eidas"},
		"evidence_supported":                             []string{"electronic_record"},
		"authorization_response_iss_parameter_supported": true,
	})
}

// handleJWKS serves the public signing key.
func (s *Simulator) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "max-age=60")
	writeJSON(w, http.StatusOK, s.jwks())
}

// writeJSON answers with status and v as JSON. v is always one of the
// simulator's own values, which encode without error.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// oauthError answers with an error object of RFC 6749 section 5.2.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}
