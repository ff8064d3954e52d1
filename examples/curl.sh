#!/bin/sh
# GraphQL over HTTP with nothing but curl: sign in (a mutation whose result is a union), then
# a query with the access token.
#
#   examples/curl.sh [URL]        URL defaults to http://127.0.0.1:8000/graphql (scripts/serve)
#
# EMAIL and PASSWORD come from the environment (default: a demo account of scripts/serve).
# Accept: application/graphql-response+json asks for the spec's status codes, so an invalid
# request is an HTTP error and --fail-with-body stops the script on it, printing the error.
set -eu
URL="${1:-http://127.0.0.1:8000/graphql}"
EMAIL="${EMAIL:-supervisor.cgmlti@demo.local}"
PASSWORD="${PASSWORD:-Demo12345!}"

graphql() {
  curl --silent --show-error --fail-with-body "$URL" \
    -H 'Content-Type: application/json' \
    -H 'Accept: application/graphql-response+json' \
    "$@"
}

login=$(graphql --data-binary @- <<JSON
{"query": "mutation Login(\$input: LoginInput!) { login(input: \$input) { __typename ... on AuthPayload { accessToken } ... on Error { code message } } }",
 "variables": {"input": {"email": "$EMAIL", "password": "$PASSWORD"}}}
JSON
)
# The union: AuthPayload carries the token; InvalidCredentialsError (an Error) says why not.
token=$(printf '%s' "$login" | sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p')
if [ -z "$token" ]; then
  echo "sign-in failed: $login" >&2
  exit 1
fi

graphql -H "Authorization: Bearer $token" \
  --data '{"query": "{ me { email role } items(first: 3) { totalCount edges { node { name quantity } } } }"}'
echo
