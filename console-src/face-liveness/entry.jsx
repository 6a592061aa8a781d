// The Amplify FaceLivenessDetector as one ES module the console can import from its own origin
// (chalicelib/console/face-liveness.bundle.js), built by build.sh. Only used on AWS
// (config.json liveness.provider "aws"); see docs/face-local.md for why it is built this way.
import React from "react";
import { createRoot } from "react-dom/client";
import { FaceLivenessDetectorCore } from "@aws-amplify/ui-react-liveness";

/** Mount the detector in ``element``; returns a function that unmounts it. */
export function mountFaceLiveness(element, { sessionId, region, credentialProvider, assetsUrl, onAnalysisComplete, onError }) {
  const root = createRoot(element);
  const config = { credentialProvider };
  if (assetsUrl) {
    // served beside the bundle, so nothing loads from a CDN: tfjs's WebAssembly backend, and the
    // face model when the build copied it (build.sh --face-model DIR)
    config.binaryPath = assetsUrl; // tfjs appends tfjs-backend-wasm[-simd].wasm
    if (FACE_MODEL_SELF_HOSTED) config.faceModelUrl = `${assetsUrl}face-liveness-model.json`;
  }
  root.render(React.createElement(FaceLivenessDetectorCore, {
    sessionId, region, config, onAnalysisComplete, onError, disableStartScreen: false,
  }));
  return () => root.unmount();
}
