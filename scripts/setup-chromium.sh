#!/usr/bin/env bash
# Installs Debian's `chromium` (headless browser for the report test, tests/tests/report_html.rs)
# when it is missing. Idempotent; needs root (or sudo) and access to the Debian mirrors.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    SUDO="sudo"
fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium
