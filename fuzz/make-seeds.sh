#!/usr/bin/env bash
# Writes the seed corpus (fuzz/seeds/TARGET/*) from the fixtures: the AI tools' config files
# under tests/fixtures/configs, and the header values, metadata documents, token and
# registration answers, links and callback requests the fixture servers and unit tests use.
# Run again after the fixtures change; the output is committed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
seeds="$here/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"/{www_authenticate,metadata,token_response,register,tool_config,links,callback,paste_back,redact}
n=0
seed() { # target, content
  n=$((n + 1))
  printf '%s' "$2" >"$seeds/$1/seed-$n"
}

# WWW-Authenticate values (one per line is one header value).
seed www_authenticate 'Bearer resource_metadata="http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp", scope="mcp"'
seed www_authenticate 'Bearer error="invalid_token", error_description="The access token expired", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource"'
seed www_authenticate 'Bearer error="insufficient_scope", scope="mcp files:read files:write", resource_metadata="https://x/prm"'
seed www_authenticate 'Bearer realm="api", Basic realm="old", Negotiate abc+/def=='
seed www_authenticate $'Bearer\nDPoP algs="ES256 PS256", error="use_dpop_nonce"'
seed www_authenticate 'Bearer realm="a\"b", scope="x"'
seed www_authenticate 'Bearer, Negotiate abc+/def==, Basic'

# Metadata documents.
seed metadata '{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://as.example.com"],"scopes_supported":["mcp","offline_access"],"resource_name":"Example"}'
seed metadata '{"issuer":"https://gitlab.example.com","authorization_endpoint":"https://gitlab.example.com/oauth/authorize","token_endpoint":"https://gitlab.example.com/oauth/token","registration_endpoint":"https://gitlab.example.com/oauth/register","revocation_endpoint":"https://gitlab.example.com/oauth/revoke","scopes_supported":["mcp","api","read_user"],"response_types_supported":["code"],"code_challenge_methods_supported":["plain","S256"],"token_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post","none"],"grant_types_supported":["authorization_code","refresh_token"],"authorization_response_iss_parameter_supported":true,"client_id_metadata_document_supported":true}'
seed metadata '{"issuer":"http://127.0.0.1:4000","authorization_endpoint":"http://127.0.0.1:4000/auth","token_endpoint":"http://127.0.0.1:4000/token","code_challenge_methods_supported":[]}'

# Token answers.
seed token_response '{"access_token":"at-1","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-1","scope":"mcp offline_access"}'
seed token_response '{"access_token":"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.c2ln","token_type":"bearer","expires_in":"5250","scope":""}'
seed token_response '{"ok":false,"error":"invalid_code","error_description":"the code has expired"}'
seed token_response '{"access_token":"","token_type":"DPoP","expires_in":-1}'
seed token_response 'access_token=PLANTED-SECRET-1234-AT&refresh_token=PLANTED-SECRET-1234-RT&token_type=bearer&expires_in=3600'

# Registration answers.
seed register '{"client_id":"c-123","client_id_issued_at":1700000000,"redirect_uris":["http://127.0.0.1:33418/callback"],"grant_types":["authorization_code","refresh_token"],"token_endpoint_auth_method":"none"}'
seed register '{"client_id":"c-9","client_secret":"cs-9","client_secret_expires_at":0,"registration_access_token":"rat","registration_client_uri":"https://as.example/register/c-9","token_endpoint_auth_method":"client_secret_post"}'
seed register '{"error":"invalid_redirect_uri","error_description":"loopback only"}'

# Links.
seed links 'latchkey://login?url=https%3A%2F%2Fmcp.example.com%2Fmcp&scope=mcp+files%3Aread'
seed links 'latchkey://why?url=http%3A%2F%2F127.0.0.1%3A3000%2Fmcp'
seed links 'latchkey:login?url=https://x/mcp'

# Callback request heads.
seed callback $'GET /callback?code=abc&state=fuzz-state-0123456789&iss=https%3A%2F%2Fas.example HTTP/1.1\r\nHost: 127.0.0.1:33418\r\n\r\n'
seed callback $'GET /callback?error=access_denied&error_description=The+user+said+no&state=fuzz-state-0123456789 HTTP/1.1\r\n\r\n'
seed callback $'GET /favicon.ico HTTP/1.1\r\n\r\n'

# Addresses pasted back (the browser on another computer).
seed paste_back 'http://127.0.0.1:33418/callback?code=abc&state=fuzz-state-0123456789&iss=https%3A%2F%2Fas.example'
seed paste_back 'http://127.0.0.1:33418/callback?error=access_denied&state=fuzz-state-0123456789'
seed paste_back 'http://127.0.0.1:40001/callback?code=abc&state=other'
seed paste_back 'not an address'

# Redaction inputs.
seed redact 'https://as.example/callback?code=C0DE&state=S1&iss=https%3A%2F%2Fas&x=AKIA1234567890ABCDEF'
seed redact '{"error":"invalid_grant","error_description":"refresh_token PLANTED-SECRET-1234 is unknown","nested":{"accessToken":"x"}}'
seed redact 'grant_type=refresh_token&refresh_token=rt&client_id=abc'
seed redact $'event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{"token":"T0K"}}\n\n'

# The AI tools' config files; the first byte picks the reader (tools::SourceKind::ALL order).
kind() {
  case "$1" in
    */.claude.json) echo 0 ;;
    */.mcp.json) echo 1 ;;
    */claude_desktop_config.json) echo 2 ;;
    */.cursor/mcp.json) echo 3 ;;
    */Code/User/mcp.json | */.vscode/mcp.json) echo 4 ;;
    */.gemini/settings.json) echo 5 ;;
    */config.toml) echo 6 ;;
    */mcp_config.json) echo 7 ;;
    */zed/settings.json | */.zed/settings.json) echo 8 ;;
    *) echo "" ;;
  esac
}
while IFS= read -r f; do
  k="$(kind "$f")"
  [ -n "$k" ] || continue
  n=$((n + 1))
  { printf "\\x$(printf %02x "$k")"; cat "$f"; } >"$seeds/tool_config/seed-$n"
done < <(find "$root/tests/fixtures/configs" -type f | sort)
echo "seeds written under $seeds"
