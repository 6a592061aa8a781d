#!/usr/bin/env bash
# Build the Amplify FaceLivenessDetector into the console's own files, for the AWS liveness step:
#   chalicelib/console/face-liveness.bundle.js   the component, React included, one ES module (esbuild)
#   chalicelib/console/face-liveness.css         its stylesheet
#   chalicelib/console/tfjs-backend-wasm*.wasm   tfjs's WebAssembly backend (the component's face detector)
#   chalicelib/console/face-liveness-model.json  the BlazeFace model and its group1-shard*.bin weights, only
#                                                with --face-model DIR (see below)
# The console serves each of them only when present (chalicelib/api/console.py OPTIONAL_ASSETS).
# From package-lock.json (npm ci checks every package's integrity hash); needs Node 20 and the npm
# registry. The local stack never loads any of it (config.json's liveness.provider is "local" there).
# The package step runs this before zipping the Lambda; the output is not committed (.gitignore).
#
#   console-src/face-liveness/build.sh [--face-model DIR]
#
# --face-model DIR: a directory holding model.json and its weight shards (BlazeFace 1.0.2, which AWS
# publishes only on its liveness CDN, not on npm): copied beside the bundle so nothing loads from a CDN
# at run time. Without it the component fetches the model from cdn.liveness.rekognition.amazonaws.com,
# and the console's CSP must allow that origin (docs/face-local.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../../chalicelib/console"
model=""
if [ "${1:-}" = "--face-model" ]; then model="$2"; fi
cd "$here"
npm ci --no-audit --no-fund --ignore-scripts
self_hosted=false
if [ -n "$model" ]; then
  [ -f "$model/model.json" ] || { echo "build.sh: $model/model.json not found" >&2; exit 1; }
  cp "$model/model.json" "$out/face-liveness-model.json" && cp "$model"/group1-shard*.bin "$out/"
  self_hosted=true
fi
npx esbuild entry.jsx --bundle --format=esm --minify --target=es2020 --legal-comments=eof \
  --define:FACE_MODEL_SELF_HOSTED=$self_hosted --define:process.env.NODE_ENV='"production"' \
  --outfile="$out/face-liveness.bundle.js"
cp node_modules/@aws-amplify/ui-react-liveness/dist/styles.css "$out/face-liveness.css"
# the plain and SIMD backends; the threaded one needs cross-origin isolation, which the console does not set
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm \
   node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm "$out/"
ls -la "$out"/face-liveness* "$out"/tfjs-backend-wasm*
