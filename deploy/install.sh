#!/usr/bin/env bash
# Installs the collector as a systemd service on a Debian/Ubuntu host (run as root from the repo root).
#   bash deploy/install.sh [path/to/plant-config.json]
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-config/edgecollector.json}
id -u edgecollector >/dev/null 2>&1 || useradd --system --home /var/lib/edgecollector --shell /usr/sbin/nologin edgecollector
dotnet publish src/EdgeCollector/EdgeCollector.csproj -c Release -o /opt/edgecollector
install -d -m 0750 -o root -g edgecollector /etc/edgecollector
install -m 0640 -o root -g edgecollector "$config" /etc/edgecollector/edgecollector.json
[ -f /etc/edgecollector/secrets.env ] || install -m 0600 /dev/null /etc/edgecollector/secrets.env
/opt/edgecollector/edgecollector check-config --config /etc/edgecollector/edgecollector.json
install -m 0644 deploy/edgecollector.service /etc/systemd/system/edgecollector.service
systemctl daemon-reload
systemctl enable --now edgecollector
echo "installed; secrets (PLC_PASSWORD, INFLUX_TOKEN, …) go in /etc/edgecollector/secrets.env; logs: journalctl -u edgecollector"
