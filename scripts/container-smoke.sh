#!/usr/bin/env bash
# Build the Optiscope image and check it end to end, then remove the container.
#
#   scripts/container-smoke.sh            # podman (or CONTAINER_ENGINE=docker)
#
# Steps: build (torch from a local wheel folder when one is found, see below) -> run on a
# loopback port with a read-only root file system -> wait for /api/health and the image's
# HEALTHCHECK -> a small trajectory run, answer checked -> the page, and Plotly from the
# container -> `optiscope run` and `optiscope render` with no network at all -> remove.
#
# Environment:
#   CONTAINER_ENGINE  podman (default) or docker (same commands; only podman was tried)
#   IMAGE             tag to build (default optiscope:smoke); kept afterwards, so a rerun reuses
#                     the layer cache (remove it with `podman rmi optiscope:smoke`)
#   PORT              loopback port for the server (default 18080)
#   TORCH_WHEEL_DIR   folder holding a torch wheel for this Python (default /opt/wheels). When it
#                     has one, the wheel is copied into .wheels/ (git-ignored) of the build
#                     context and used through the TORCH_WHEELS build argument; otherwise torch
#                     comes from the Dockerfile's default index (download.pytorch.org/whl/cpu).
#   HEALTH_TIMEOUT_S  how long to wait for the server to answer (default 90)
set -euo pipefail

ENGINE=${CONTAINER_ENGINE:-podman}
IMAGE=${IMAGE:-optiscope:smoke}
PORT=${PORT:-18080}
TORCH_WHEEL_DIR=${TORCH_WHEEL_DIR:-/opt/wheels}
HEALTH_TIMEOUT_S=${HEALTH_TIMEOUT_S:-90}
NAME="optiscope-smoke-$$"
BASE="http://127.0.0.1:${PORT}"
REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
STARTED=$SECONDS

step() { printf '\n==> [%3ds] %s\n' "$((SECONDS - STARTED))" "$*"; }
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}
cleanup() {
  local status=$?
  if "$ENGINE" container inspect "$NAME" >/dev/null 2>&1; then
    if [ "$status" -ne 0 ]; then
      echo "--- container log (last 40 lines) ---" >&2
      "$ENGINE" logs --tail 40 "$NAME" >&2 || true
    fi
    "$ENGINE" rm --force --time 2 "$NAME" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
  if [ "$status" -eq 0 ]; then
    printf '\nPASS: container smoke test in %ds\n' "$((SECONDS - STARTED))"
  else
    printf '\nFAIL after %ds (exit %d)\n' "$((SECONDS - STARTED))" "$status" >&2
  fi
}
trap cleanup EXIT

command -v "$ENGINE" >/dev/null || fail "$ENGINE not found (on these machines: sh ../shared/tools/container-setup.sh)"
command -v curl >/dev/null || fail "curl not found"
command -v python3 >/dev/null || fail "python3 not found (used to check JSON answers)"
cd "$REPO"
[ -f static/index.html ] || fail "static/index.html is missing: the image would serve no page"

step "build $IMAGE"
build_args=()
wheel=$(find "$TORCH_WHEEL_DIR" -maxdepth 1 -name 'torch-*-cp311-*.whl' 2>/dev/null | sort | tail -n 1)
if [ -n "$wheel" ]; then
  mkdir -p .wheels
  # Copy only when changed: the wheel is ~180 MB.
  cmp -s "$wheel" ".wheels/$(basename "$wheel")" || cp "$wheel" .wheels/
  build_args+=(--build-arg TORCH_WHEELS=.wheels)
  echo "torch from $wheel (via .wheels/)"
else
  echo "no torch wheel in $TORCH_WHEEL_DIR: torch comes from the Dockerfile's default index"
fi
build_started=$SECONDS
# docker format: the OCI format has no HEALTHCHECK.
format_args=()
[ "$ENGINE" = podman ] && format_args=(--format docker)
"$ENGINE" build "${format_args[@]}" "${build_args[@]}" -t "$IMAGE" . >"$WORK/build.log" 2>&1 \
  || {
    tail -n 40 "$WORK/build.log" >&2
    fail "build failed"
  }
size=$("$ENGINE" image inspect --format '{{.Size}}' "$IMAGE")
echo "built in $((SECONDS - build_started))s; image size $((size / 1000000)) MB"

step "run on 127.0.0.1:$PORT (read-only root file system)"
# podman's own log goes to a file: without systemd it says it cannot schedule the periodic
# health check, which is expected here (`podman healthcheck run` below runs it once).
"$ENGINE" run --detach --name "$NAME" --read-only --publish "127.0.0.1:${PORT}:8000" "$IMAGE" \
  >/dev/null 2>"$WORK/run.log" || {
  cat "$WORK/run.log" >&2
  fail "the container did not start"
}
user=$("$ENGINE" exec "$NAME" id -un)
[ "$user" = optiscope ] || fail "the server runs as $user, not as the optiscope user"
echo "runs as $user"

step "wait for /api/health"
deadline=$((SECONDS + HEALTH_TIMEOUT_S))
until curl --silent --fail --max-time 2 "$BASE/api/health" >"$WORK/health.json"; do
  [ "$SECONDS" -lt "$deadline" ] || fail "no answer from /api/health within ${HEALTH_TIMEOUT_S}s"
  "$ENGINE" container inspect --format '{{.State.Running}}' "$NAME" | grep -q true \
    || fail "the container exited"
  sleep 1
done
python3 - "$WORK/health.json" <<'PY'
import json, sys
health = json.load(open(sys.argv[1]))
assert health["status"] == "ok", health
print(f"healthy: optiscope {health['version']}, torch {health['torch']}, "
      f"cuda_available={health['cuda_available']}, device={health['device']}")
PY
if [ "$ENGINE" = podman ]; then
  "$ENGINE" healthcheck run "$NAME" >/dev/null || fail "the image's HEALTHCHECK fails"
  echo "the image's HEALTHCHECK passes"
fi

step "POST /api/runs (2 series, 4 rows, 300 steps)"
cat >"$WORK/spec.json" <<'JSON'
{"landscape": {"id": "rosenbrock"}, "steps": 300,
 "series": [{"optimizer": "adam", "hparams": {"lr": 0.01}},
            {"optimizer": "anon", "hparams": {"lr": 0.001},
             "sweep": {"param": "gamma", "values": [0, 0.5, 1]}}]}
JSON
curl --silent --show-error --fail --max-time 60 -H 'Content-Type: application/json' \
  --data @"$WORK/spec.json" "$BASE/api/runs" >"$WORK/result.json"
python3 - "$WORK/result.json" <<'PY'
import json, math, sys
result = json.load(open(sys.argv[1]))
assert result["steps"] == 300 and result["landscape"]["id"] == "rosenbrock", result.keys()
rows = result["series"]
assert [row["label"] for row in rows] == [
    "Adam", "Anon gamma=0", "Anon gamma=0.5", "Anon gamma=1"], [r["label"] for r in rows]
for row in rows:
    assert len(row["trajectory"]) == 301 and row["diverged_at"] is None, row["label"]
    assert row["trajectory"][0] == row["start"], row["label"]
    assert math.isfinite(row["final_loss"]), row["label"]
adam = rows[0]
assert adam["final_loss"] < adam["loss"][0], "Adam did not lower the loss"
print("; ".join(f"{r['label']}: loss {r['loss'][0]:.3g} -> {r['final_loss']:.3g}" for r in rows))
PY

step "the page and Plotly from the container"
curl --silent --show-error --fail "$BASE/" >"$WORK/index.html"
grep -qi '<html' "$WORK/index.html" || fail "/ is not an HTML page"
if grep -Eio '<(script|link)[^>]+(src|href)="(https?:)?//[^"]*' "$WORK/index.html"; then
  fail "the page loads the scripts or styles above from the network"
fi
assets=$(grep -Eo '(src|href)="/[^"]+"' "$WORK/index.html" | cut -d'"' -f2 | sort -u)
for asset in $assets; do
  curl --silent --fail --output /dev/null "$BASE$asset" || fail "the page's $asset is missing"
done
echo "/: $(wc -c <"$WORK/index.html") bytes, no external scripts or styles;" \
  "its $(echo "$assets" | wc -w) local scripts and styles are served:" $assets
curl --silent --show-error --fail --compressed -D "$WORK/plotly.headers" \
  "$BASE/vendor/plotly.min.js" >"$WORK/plotly.min.js"
grep -qi '^content-type: text/javascript' "$WORK/plotly.headers" || fail "plotly.min.js: wrong type"
head -c 300 "$WORK/plotly.min.js" | grep -q 'plotly.js v' || fail "plotly.min.js is not Plotly"
echo "/vendor/plotly.min.js: $(wc -c <"$WORK/plotly.min.js") bytes, $(head -c 300 "$WORK/plotly.min.js" | grep -o 'plotly.js v[0-9.]*')"

step "optiscope run and optiscope render with no network"
chmod a+rwx "$WORK" # the container's user (uid 10001) writes the figure here
offline=(run --rm --network none --no-healthcheck --read-only -v "$WORK:/work:z" "$IMAGE")
"$ENGINE" "${offline[@]}" optiscope run /work/spec.json -o /work/cli-result.json
python3 - "$WORK/result.json" "$WORK/cli-result.json" <<'PY'
import json, sys
server, cli = (json.load(open(path)) for path in sys.argv[1:])
assert server == cli, "optiscope run differs from the server's answer"
print("optiscope run: same result as the server")
PY
"$ENGINE" "${offline[@]}" optiscope render /work/spec.json -o /work/figure.html
python3 - "$WORK/figure.html" <<'PY'
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
external = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//', html)
assert not external, external
assert "Anon gamma=0.5" in html
print(f"optiscope render: {len(html) // 1000} kB standalone HTML, Plotly inlined")
PY

step "remove the container"
