#!/usr/bin/env bash
# Certificates for TLS on the worker gRPC channel, for tests and local runs (never production: see
# docs/security-conductor.md for how Terraform provides them). Writes into DIR:
#   ca.pem ca.key          a private CA
#   server.pem server.key  the conductor, for DNS:localhost, DNS:conductor.internal, IP:127.0.0.1
#   client.pem client.key  a worker client certificate (for CONDUCTOR_TLS_CLIENT_CA)
#   other-ca.pem           an unrelated CA, which must not be accepted
set -euo pipefail
dir="${1:?usage: make-dev-certs.sh DIR}"
days="${DAYS:-2}"
mkdir -p "$dir"
cd "$dir"
umask 077

ca() { # name subject
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$days" \
    -subj "/CN=$2" -keyout "$1.key" -out "$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

leaf() { # name subject extensions
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$2" \
    -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days "$days" \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

ca ca "agent-conductor dev CA"
ca other-ca "some other CA"
rm -f other-ca.key
leaf server "conductor.internal" "subjectAltName=DNS:localhost,DNS:conductor.internal,IP:127.0.0.1
extendedKeyUsage=serverAuth"
leaf client "worker" "extendedKeyUsage=clientAuth"
rm -f ca.srl
