#!/usr/bin/env bash
# Install the Debian 12 packages cardsmith needs to build, test and run its demo.
#
# Idempotent and fast when everything is present: dpkg is asked first, and
# apt-get (including `apt-get update`) runs only when something is missing.
# Set CARDSMITH_NO_INSTALL=1 to only report what is missing.
set -euo pipefail

pkgs=(
	# build
	build-essential pkg-config clang llvm
	libpcsclite-dev libssl-dev libpopt-dev libsqlite3-dev libcmocka-dev
	libp11-dev libjansson-dev zlib1g-dev
	# runtime: PC/SC daemon, virtual reader driver, middleware
	pcscd vsmartcard-vpcd opensc opensc-pkcs11 libengine-pkcs11-openssl
	# peers used by interop tests and benchmarks
	yubico-piv-tool yubikey-manager pcsc-tools openssl sqlite3
	# certificate parsers of the OID parse matrix (t-400): GnuTLS certtool,
	# NSS certutil, Go crypto/x509, Debian's python3-cryptography
	gnutls-bin libnss3-tools golang-go python3-cryptography
	# test tooling
	valgrind procps iproute2 python3
	# man page checks (tests/cli/t-466-doc-coverage.sh)
	man-db groff-base
)

missing=()
for p in "${pkgs[@]}"; do
	case "$p" in \#*) continue ;; esac
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "install-deps: missing Debian packages: ${missing[*]}" >&2
if [ "${CARDSMITH_NO_INSTALL:-0}" = 1 ]; then
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "install-deps: run as root (or install the packages above)" >&2
		exit 1
	fi
else
	SUDO=
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: installed ${#missing[@]} package(s)" >&2
