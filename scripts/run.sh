#!/usr/bin/env bash
# Start the console, the worker and the demo provider's simulator in the foreground; Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT
# Ctrl-C or a TERM is the normal way to stop: stop the children and exit cleanly.
trap 'stop; exit 0' INT TERM

$PY manage.py hi_simulator demo --port "${HI_DEMO_PORT:-8001}" &
pids+=($!)
$PY manage.py runserver --noreload "127.0.0.1:${HI_PORT:-8000}" &
pids+=($!)
$PY manage.py hi_worker &
pids+=($!)
echo "hi console: http://127.0.0.1:${HI_PORT:-8000}/  (Ctrl-C stops everything)"
# Stop everything as soon as one process exits.
wait -n "${pids[@]}"
