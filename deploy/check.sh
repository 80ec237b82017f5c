#!/usr/bin/env bash
# Check the deploy folder: `systemd-analyze verify` on every unit and `nginx -t` on the site.
# Installs systemd, nginx-light and openssl with apt-get when missing (CI machines are fresh;
# run as root there). Exit 0 when everything passes. Touches nothing outside a temp folder.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

need=()
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
    echo "check.sh: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

# The units name /srv/coproduction; here they point into a copy with stand-in programs, so
# verify checks the units themselves, not whether this machine has the platform installed.
root="$work/srv"
mkdir -p "$root/.venv/bin" "$root/deploy" "$work/units"
for program in gunicorn flask; do
    printf '#!/bin/sh\nexit 0\n' >"$root/.venv/bin/$program"
    chmod +x "$root/.venv/bin/$program"
done
cp "$here/gunicorn.conf.py" "$root/deploy/"
for unit in "$here"/systemd/*; do
    name="$(basename "$unit")"
    case "$name" in
        *@.service) name="${name/@./@1.}" ;;  # a template is verified through an instance
    esac
    sed "s#/srv/coproduction#$root#g" "$unit" >"$work/units/$name"
done
status=0
echo "== systemd-analyze verify"
# --man=no: the units have no man pages to look up; a unit that fails prints why.
if ! output="$(cd "$work/units" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no ./*.service ./*.timer 2>&1)"; then
    status=1
fi
# Warnings about this machine itself (no D-Bus, missing dependencies like postgresql.service)
# are not about our units; anything naming one of our files is.
ours="$(printf '%s\n' "$output" | grep -E 'coproduction-' || true)"
if [ -n "$ours" ]; then
    printf '%s\n' "$ours"
    status=1
fi
[ $status -eq 0 ] && echo "units ok ($(ls "$work/units" | wc -l) files)"

echo "== nginx -t"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=check \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
mkdir -p "$work/nginx/logs" "$work/nginx/conf"
sed -e "s#/srv/coproduction#$root#g" \
    -e "s#/etc/ssl/certs/ssl-cert-snakeoil.pem#$work/cert.pem#" \
    -e "s#/etc/ssl/private/ssl-cert-snakeoil.key#$work/key.pem#" \
    -e "s#/var/log/nginx/#$work/nginx/logs/#" \
    "$here/nginx/coproduction.conf" >"$work/nginx/conf/site.conf"
cat >"$work/nginx/conf/nginx.conf" <<CONF
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events {}
http {
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    include $work/nginx/conf/site.conf;
}
CONF
if "$NGINX" -t -q -p "$work/nginx" -c "$work/nginx/conf/nginx.conf"; then
    echo "nginx site ok"
else
    status=1
fi
exit $status
