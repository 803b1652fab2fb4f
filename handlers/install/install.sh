#!/bin/sh
# WCMS agent installer for Linux, from {{.Base}}
#
# Paste as root, with a registration PIN from the dashboard:
#   curl -fsSL {{.Base}}/install/install.sh | sudo sh -s -- 123456
#   wget -qO- {{.Base}}/install/install.sh | sudo sh -s -- 123456
# Without the PIN it asks for one. WCMS_INSTALL_DIR chooses the folder (default /usr/local/bin).
#
# It downloads the newest agent for this machine, checks its SHA-256, stops and removes an
# agent service already installed, installs the agent as a service and registers it.
set -eu

SERVER='{{.Base}}'
INSTALL_DIR="${WCMS_INSTALL_DIR:-/usr/local/bin}"
BIN="$INSTALL_DIR/wcms-agent"

fail() {
	echo "wcms-agent install: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || fail "run this as root: curl -fsSL $SERVER/install/install.sh | sudo sh -s -- PIN"

PIN="${1:-}"
if [ -z "$PIN" ]; then
	# Piped into sh, standard input is this script: ask on the terminal instead.
	{ printf 'Registration PIN (6 digits): ' >/dev/tty && read -r PIN </dev/tty; } 2>/dev/null ||
		fail "no PIN given and no terminal to ask on: pass it after 'sh -s --'"
fi
case "$PIN" in
[0-9][0-9][0-9][0-9][0-9][0-9]) ;;
*) fail "the PIN must be 6 digits" ;;
esac

[ "$(uname -s)" = Linux ] || fail "this installer is for Linux; on Windows use install.ps1 or install.cmd"
case "$(uname -m)" in
x86_64 | amd64) ARCH=amd64 ;;
aarch64 | arm64) ARCH=arm64 ;;
i386 | i486 | i586 | i686) ARCH=386 ;;
*) fail "no agent build for machine type $(uname -m)" ;;
esac

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
URL="$SERVER/download/wcms-agent-linux-$ARCH"
echo "Downloading $URL"
if command -v curl >/dev/null 2>&1; then
	curl -fsS -D "$TMP/headers" -o "$TMP/wcms-agent" "$URL" || fail "download failed: $URL"
elif command -v wget >/dev/null 2>&1; then
	wget -q -S -O "$TMP/wcms-agent" "$URL" 2>"$TMP/headers" || fail "download failed: $URL"
else
	fail "curl or wget is needed"
fi

# The last X-Checksum-SHA256 header (after any redirect), in any letter case.
WANT=$(sed -n 's/^[[:space:]]*[Xx]-[Cc][Hh][Ee][Cc][Kk][Ss][Uu][Mm]-[Ss][Hh][Aa]256:[[:space:]]*\([0-9A-Fa-f]\{64\}\).*/\1/p' "$TMP/headers" | tail -n 1 | tr 'A-F' 'a-f')
[ -n "$WANT" ] || fail "the server sent no X-Checksum-SHA256 header"
GOT=$(sha256sum "$TMP/wcms-agent" | cut -d ' ' -f 1)
[ "$GOT" = "$WANT" ] || fail "checksum mismatch: the download hashes to $GOT, the server says $WANT"

if [ -x "$BIN" ]; then
	echo "Removing the installed agent service"
	"$BIN" stop >/dev/null 2>&1 || true
	"$BIN" uninstall >/dev/null 2>&1 || true
fi
mkdir -p "$INSTALL_DIR"
# Copied beside the target and renamed over it: a binary still running cannot be overwritten.
cp "$TMP/wcms-agent" "$BIN.new"
chmod 0755 "$BIN.new"
mv -f "$BIN.new" "$BIN"

echo "Installing $BIN as a service for $SERVER"
STATUS=0
"$BIN" install -server "$SERVER" -pin "$PIN" || STATUS=$?
exit "$STATUS"
