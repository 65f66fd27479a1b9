#!/usr/bin/env bash
# Start the console, the worker and the demo (every service's demo simulator, and the integrations
# `hi_setup --demo` adds against them) in the foreground; Ctrl-C stops them all. HI_DEMO=0 leaves the
# demo out. The script names no service: `manage.py hi_demo --shell` says what each one's demo.py offers.
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

# The same reading as hi_setup's: on unless HI_DEMO is something other than 1 / true / yes / on.
demo="${HI_DEMO:-1}"
case "${demo,,}" in 1|true|yes|on) demo=1 ;; *) demo=0 ;; esac

# What `hi_demo --shell` calls, one line per setting, simulator and sentence (its words shell-quoted).
simulators=()
sayings=()
demo_setting() {  # NAME VALUE: a setting the demo wants for the console and the worker, unless already set
  [ -n "${!1:-}" ] || export "$1=$2"
}
demo_simulator() {  # TYPE PORT LABEL VARIABLE ARGS...: start `hi_simulator TYPE` in the background
  local type=$1 port=$2 label=$3 knob=$4
  shift 4
  $PY manage.py hi_simulator "$type" --port "$port" "$@" &
  pids+=($!)
  simulators+=("$!:$port:$label:$knob")
}
demo_says() {  # TEXT: said once everything runs
  sayings+=("$1")
}

if [ "$demo" = 1 ]; then
  # The demo's providers are simulators on 127.0.0.1 over http, which the outbound guard refuses unless
  # allow-listed: add loopback to the allow-list for this run (console and worker). HI_DEMO=0 leaves it as set.
  export HI_OUTBOUND_ALLOWED_NETWORKS="${HI_OUTBOUND_ALLOWED_NETWORKS:+$HI_OUTBOUND_ALLOWED_NETWORKS,}127.0.0.0/8"
  plan="$($PY manage.py hi_demo --shell)"
  eval "$plan"
  # Adding an integration tests the connection live: wait until each simulator answers.
  for entry in "${simulators[@]}"; do
    IFS=: read -r pid port label knob <<<"$entry"
    for _ in $(seq 150); do
      kill -0 "$pid" 2>/dev/null || break
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
      sleep 0.1
    done
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "hi: the $label simulator did not start (is port $port free? $knob picks another)." >&2
      exit 1
    fi
  done
  $PY manage.py hi_setup --demo || echo "hi: a demo integration was not added (see above); everything else runs." >&2
fi
$PY manage.py runserver --noreload "127.0.0.1:${HI_PORT:-8000}" &
pids+=($!)
$PY manage.py hi_worker &
pids+=($!)
echo "hi console: http://127.0.0.1:${HI_PORT:-8000}/  (Ctrl-C stops everything)"
if [ "$demo" = 1 ]; then
  for line in "${sayings[@]}"; do echo "$line"; done
  echo "(HI_DEMO=0 make run starts without the demo)"
fi
# Stop everything as soon as one process exits.
wait -n "${pids[@]}"
