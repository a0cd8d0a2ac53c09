#!/usr/bin/env bash
# Installs the offline neural speech recognizer's files: the Moonshine tiny
# English model (MIT, shipped in the npm package @moonshine-ai/moonshine-js),
# the ONNX Runtime shared library that runs it (MIT, from onnxruntime-node)
# and the tokenizer vocabulary (MIT, llama-tokenizer-js). Nothing is
# downloaded at run time: this runs once at setup, from the npm registry,
# with pinned versions and checked sha512 digests, and copies only the
# files the server reads into one directory:
#
#   ${IVR_SPEECH_DIR:-/usr/local/share/openivr/moonshine}
#
# Usage: scripts/fetch-speech-model.sh [DIR]. Safe to run again: an
# installed directory with a matching VERSION file is left alone.
set -euo pipefail

dir="${1:-${IVR_SPEECH_DIR:-/usr/local/share/openivr/moonshine}}"
stamp="moonshine-js@0.1.29 onnxruntime-node@1.30.0 llama-tokenizer-js@1.2.2"
if [[ -f "$dir/VERSION" ]] && [[ "$(cat "$dir/VERSION")" == "$stamp" ]]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "fetch-speech-model: npm is needed (apt-get install nodejs npm)" >&2
  exit 1
fi

# package@version  sha512 (dist.integrity in the npm registry)
pkgs=(
  "@moonshine-ai/moonshine-js@0.1.29 sha512-Gx1B3mJcbM68ihSy/LyJEuEkGq7sYMqTb04zNdcIeidU0URVlSmXP0GyiQOTTAqDZQXlIC7k+bky+FdXk0UPlg=="
  "onnxruntime-node@1.30.0 sha512-twhs1C2C/BFkz1yc5OY0KIU2GUq6DURO7hD4bx5Q2Qy3nAMJwRXW8xU3NVczE29VA9lolLOYepoD8fjTGOfIqw=="
  "llama-tokenizer-js@1.2.2 sha512-Wmth393dc3odWU3IzARJ3r2oIfWgw9GdJ5Gm+hGhfECNO18UHLRqEFSf511jn4E9KcQGzuuKw4Wl08pHAemLAw=="
)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for entry in "${pkgs[@]}"; do
  spec="${entry%% *}"
  want="${entry##* }"
  echo "fetching $spec" >&2
  tgz="$(cd "$work" && npm pack --silent "$spec" 2>/dev/null | tail -1)"
  got="sha512-$(openssl dgst -sha512 -binary "$work/$tgz" | base64 -w0)"
  if [[ "$got" != "$want" ]]; then
    echo "fetch-speech-model: $spec: digest mismatch ($got)" >&2
    exit 1
  fi
  name="${spec%@*}"; name="${name//\//-}"; name="${name#@}"
  mkdir -p "$work/$name"
  tar xzf "$work/$tgz" -C "$work/$name"
done

SUDO=""
if [[ ! -w "$(dirname "$dir")" ]] && [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
tmp="$dir.new"
$SUDO rm -rf "$tmp"
$SUDO mkdir -p "$tmp/licenses"
m="$work/moonshine-ai-moonshine-js/package"
o="$work/onnxruntime-node/package"
t="$work/llama-tokenizer-js/package"
$SUDO cp "$m/dist/model/tiny/quantized/encoder_model.onnx" "$m/dist/model/tiny/quantized/decoder_model_merged.onnx" "$tmp/"
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) echo "fetch-speech-model: no ONNX Runtime build for $(uname -m)" >&2; exit 1 ;;
esac
$SUDO cp "$o/bin/napi-v6/linux/$arch/libonnxruntime.so.1" "$tmp/"
$SUDO cp "$t/llama-tokenizer.js" "$tmp/"
$SUDO cp "$m/LICENSE" "$tmp/licenses/moonshine-js.LICENSE"
$SUDO cp "$o/LICENSE" "$tmp/licenses/onnxruntime.LICENSE" 2>/dev/null || \
  echo "MIT License, Copyright (c) Microsoft Corporation (onnxruntime-node@1.30.0 package.json)" | $SUDO tee "$tmp/licenses/onnxruntime.LICENSE" >/dev/null
$SUDO cp "$t/LICENSE.md" "$tmp/licenses/llama-tokenizer-js.LICENSE"
echo "$stamp" | $SUDO tee "$tmp/VERSION" >/dev/null
$SUDO rm -rf "$dir"
$SUDO mv "$tmp" "$dir"
echo "speech model installed in $dir" >&2
