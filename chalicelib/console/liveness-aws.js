// Rekognition Face Liveness on AWS: the Amplify FaceLivenessDetector, loaded from
// this console's own files (face-liveness.bundle.js, built from npm by
// console-src/face-liveness: no CDN at run time), streaming to Rekognition with
// short-lived credentials of the stage's Cognito identity pool, obtained for the
// signed-in applicant's ID token (plain calls to Cognito Identity: no SDK here).
//
// Only loaded when config.json says liveness.provider is "aws".
const BUNDLE = "./face-liveness.bundle.js";

async function cognitoIdentity(region, target, body) {
  const response = await fetch(`https://cognito-identity.${region}.amazonaws.com/`, {
    method: "POST", credentials: "omit", cache: "no-store",
    headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": `AWSCognitoIdentityService.${target}` },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`Cognito Identity ${target}: ${data.__type || response.status} ${data.message || ""}`);
  return data;
}

function issuerKey(idToken) {
  const claims = JSON.parse(atob(idToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  return String(claims.iss).replace(/^https:\/\//, ""); // cognito-idp.<region>.amazonaws.com/<pool id>
}

/** Credentials for rekognition:StartFaceLivenessSession, from the identity pool, for this applicant. */
export function credentialProvider(auth, region, identityPoolId) {
  return async () => {
    const idToken = await auth.idToken();
    const logins = { [issuerKey(idToken)]: idToken };
    const { IdentityId } = await cognitoIdentity(region, "GetId", { IdentityPoolId: identityPoolId, Logins: logins });
    const { Credentials: c } = await cognitoIdentity(region, "GetCredentialsForIdentity", { IdentityId, Logins: logins });
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretKey, sessionToken: c.SessionToken, expiration: new Date(c.Expiration * 1000) };
  };
}

/** Mount the detector in ``holder``; ``onComplete`` when the stream is analysed (then the app asks the results). */
export async function mount(holder, { sessionId, region, identityPoolId, onComplete, onError, auth }) {
  if (!identityPoolId) throw new Error("config.json has no liveness.identity_pool_id");
  let bundle;
  try {
    bundle = await import(BUNDLE);
  } catch (e) {
    throw new Error(`the Face Liveness component is not in this build (${BUNDLE}: ${e.message}); see docs/face-local.md`);
  }
  return bundle.mountFaceLiveness(holder, {
    sessionId, region,
    credentialProvider: credentialProvider(auth, region, identityPoolId),
    // the component's face model and WebAssembly, served beside the bundle, not from AWS's CDN
    assetsUrl: new URL("./", import.meta.url).href,
    onAnalysisComplete: async () => onComplete(),
    onError: (e) => onError(e && e.error ? e.error : e),
  });
}
