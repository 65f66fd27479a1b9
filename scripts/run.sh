#!/usr/bin/env bash
# Start the console, the worker and the demo (the demo provider's, iFood's and WhatsApp's simulators, with an
# iFood integration polling iFood's and a WhatsApp one notifying its orders' customers) in the foreground;
# Ctrl-C stops them all. HI_DEMO=0 leaves the demo out.
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

if [ "$demo" = 1 ]; then
  # The demo's providers are simulators on 127.0.0.1 over http, which the outbound guard refuses unless
  # allow-listed: add loopback to the allow-list for this run (console and worker). HI_DEMO=0 leaves it as set.
  export HI_OUTBOUND_ALLOWED_NETWORKS="${HI_OUTBOUND_ALLOWED_NETWORKS:+$HI_OUTBOUND_ALLOWED_NETWORKS,}127.0.0.0/8"
  ifood_port="${HI_IFOOD_DEMO_PORT:-8002}"
  whatsapp_port="${HI_WHATSAPP_DEMO_PORT:-8003}"
  # iFood expects a poll every 30 s; the demo polls every 5 s so that its orders show up quickly.
  export HI_IFOOD_POLL_INTERVAL_S="${HI_IFOOD_POLL_INTERVAL_S:-5}"
  $PY manage.py hi_simulator demo --port "${HI_DEMO_PORT:-8001}" &
  pids+=($!)
  # The demo's iFood customers give their own numbers (iFood's masked 0800 ones reach nobody on WhatsApp).
  $PY manage.py hi_simulator ifood --port "$ifood_port" --place-every "${HI_IFOOD_DEMO_EVERY_S:-15}" \
    --customer-phone "+55 11 98765-4321" --customer-phone "+55 21 99876-5432" \
    --customer-phone "+55 31 98888-7777" --customer-phone "+55 41 99123-4567" &
  ifood_pid=$!
  pids+=("$ifood_pid")
  # Customers read the confirmations and sometimes answer "Obrigado!".
  $PY manage.py hi_simulator whatsapp --port "$whatsapp_port" --reply-probability 0.5 --status-delay 2 &
  whatsapp_pid=$!
  pids+=("$whatsapp_pid")
  # Adding an integration tests the connection live: wait until each simulator answers.
  for pair in "$ifood_pid:$ifood_port:iFood:HI_IFOOD_DEMO_PORT" "$whatsapp_pid:$whatsapp_port:WhatsApp:HI_WHATSAPP_DEMO_PORT"; do
    IFS=: read -r pid port label knob <<<"$pair"
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
  $PY manage.py hi_setup --demo --ifood-url "http://127.0.0.1:$ifood_port" --whatsapp-url "http://127.0.0.1:$whatsapp_port" \
    || echo "hi: a demo integration was not added (see above); everything else runs." >&2
fi
$PY manage.py runserver --noreload "127.0.0.1:${HI_PORT:-8000}" &
pids+=($!)
$PY manage.py hi_worker &
pids+=($!)
echo "hi console: http://127.0.0.1:${HI_PORT:-8000}/  (Ctrl-C stops everything)"
if [ "$demo" = 1 ]; then
  echo "iFood demo: a new order every ${HI_IFOOD_DEMO_EVERY_S:-15} s under Orders  (HI_DEMO=0 make run starts without the demo)"
  echo "WhatsApp demo: each new order's customer gets a confirmation; their answers arrive under Messages"
fi
# Stop everything as soon as one process exits.
wait -n "${pids[@]}"
