#!/usr/bin/env bash
# Install the load generator used by the benchmark harness (wrk, from Debian's packages).
# Idempotent: does nothing when wrk is already on PATH. Run as root (or with sudo available).
set -euo pipefail

if command -v wrk >/dev/null 2>&1; then
    echo "wrk already installed: $(command -v wrk)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "error: wrk is missing and installing it needs root (apt-get install -y wrk)" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq wrk
echo "wrk installed: $(command -v wrk)"
