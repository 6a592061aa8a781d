// Sign-in against Cognito from the browser. Two user pools: applicants sign up
// and in to the customer pool with the public InitiateAuth JSON API
// (USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH), SignUp and ConfirmSignUp -- or, when
// the stage offers it, with Google or Apple through the customer pool's managed
// login. Reviewers and operators sign in through the staff pool's managed login
// (issue 21): an authorization code with PKCE (RFC 7636), the pool sending them to
// the bank's identity provider (password and MFA there); no staff password ever
// reaches this page, and the staff app client has no password flow at all.
// Managed-login sessions are refreshed and revoked at the pool's OAuth endpoints.
// The challenges of the pools' own password sign-in (NEW_PASSWORD_REQUIRED,
// MFA_SETUP, SOFTWARE_TOKEN_MFA) are still answered for a pool that uses it.
// The API accepts each pool's tokens only on its own routes.
// Tokens live in sessionStorage (this tab only, gone when it closes) and go
// nowhere but the Authorization header and the WebSocket's ?token=.

const STORE_KEY = "account-opening.session";
const PENDING_KEY = "account-opening.sign-in"; // a managed-login sign-in under way: state, PKCE verifier, page
const REFRESH_MARGIN_MS = 60_000;

export class AuthError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export const CUSTOMER = "customer";
export const STAFF = "staff";

export class Auth {
  constructor(cognito) {
    this.endpoint = cognito.endpoint;
    this.clients = { [CUSTOMER]: cognito.client_id, [STAFF]: cognito.staff_client_id };
    // The user pools' domains (managed login) and the providers people are sent to there.
    this.domains = { [CUSTOMER]: cognito.customer_auth_url || null, [STAFF]: cognito.staff_auth_url || null };
    this.staffProvider = cognito.staff_identity_provider || null;
    this.socialProviders = cognito.customer_identity_providers || [];
    this.session = load();
    this.listeners = new Set();
    this.refreshing = null;
    this.redirectError = null; // why the last managed-login sign-in came back without a session
  }

  /** Whether ``pool`` signs in through its managed login here. */
  hasManagedLogin(pool) {
    return Boolean(this.domains[pool] && this.clients[pool]);
  }

  /**
   * Leave for the pool's managed login (authorization code + PKCE), to come back to this page with a code.
   * ``provider``: the identity provider to go straight to (Corporate, Google, SignInWithApple).
   */
  async redirectSignIn(pool, provider) {
    if (!this.hasManagedLogin(pool)) throw new AuthError("no_pool", `No ${pool} sign-in is configured`);
    const verifier = randomToken(48);
    const state = randomToken(24);
    const redirectUri = location.origin + location.pathname;
    sessionStorage.setItem(PENDING_KEY, JSON.stringify({ state, verifier, pool, redirectUri, hash: location.hash }));
    const url = new URL("/oauth2/authorize", this.domains[pool]);
    const query = {
      response_type: "code",
      client_id: this.clients[pool],
      redirect_uri: redirectUri,
      scope: "openid email profile",
      state,
      code_challenge: await s256(verifier),
      code_challenge_method: "S256",
    };
    if (provider) query.identity_provider = provider;
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    location.assign(url.toString());
  }

  /**
   * This page load may be the return from managed login (?code=&state= or ?error=): exchange the code (with
   * the PKCE verifier) for the pool's tokens. The code leaves the address bar at once; the page asked for
   * before signing in is restored. Resolves to true when signed in this way.
   */
  async completeRedirectSignIn() {
    const params = new URLSearchParams(location.search);
    if (!params.has("code") && !params.has("error")) return false;
    let pending = null;
    try {
      pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || "null");
    } catch {
      pending = null;
    }
    sessionStorage.removeItem(PENDING_KEY);
    history.replaceState(null, "", location.pathname + ((pending && pending.hash) || ""));
    if (!pending || params.get("state") !== pending.state) {
      throw new AuthError("state", "That sign-in was not started from this page. Sign in again.");
    }
    if (params.has("error")) {
      const refused = new AuthError(params.get("error"), redirectFailure(params.get("error"), params.get("error_description")));
      refused.pool = pending.pool; // which sign-in came back refused: the page says where the other one is
      throw refused;
    }
    const tokens = await this.token(pending.pool, {
      grant_type: "authorization_code",
      code: params.get("code"),
      redirect_uri: pending.redirectUri,
      code_verifier: pending.verifier,
    }).catch((error) => {
      error.pool = pending.pool;
      throw error;
    });
    this.store({ IdToken: tokens.id_token, RefreshToken: tokens.refresh_token, ExpiresIn: tokens.expires_in },
      null, pending.pool, "managed");
    return true;
  }

  /** The pool's OAuth token endpoint (form-encoded, no credentials: a public client with PKCE). */
  async token(pool, form) {
    let response;
    try {
      response = await fetch(new URL("/oauth2/token", this.domains[pool]), {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ client_id: this.clients[pool], ...form }),
        credentials: "omit",
        cache: "no-store",
      });
    } catch {
      throw new AuthError("network", "Cannot reach the sign-in service");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const code = data.error || `http_${response.status}`;
      throw new AuthError(code, redirectFailure(code, data.error_description));
    }
    return data;
  }

  onChange(listener) {
    this.listeners.add(listener);
  }

  get signedIn() {
    return this.session !== null;
  }

  /** Claims of the ID token, for the page only (the API verifies the token itself). */
  get user() {
    if (!this.session) return null;
    const claims = decodeJwt(this.session.idToken);
    return {
      sub: claims.sub,
      email: claims.email || claims["cognito:username"] || claims.sub,
      pool: this.session.pool,
      // groups mean something only in the staff pool (the API ignores them elsewhere too)
      groups: this.session.pool === STAFF ? claims["cognito:groups"] || [] : [],
    };
  }

  hasGroup(group) {
    return Boolean(this.user && this.user.groups.includes(group));
  }

  /**
   * USER_PASSWORD_AUTH against the pool's client. Resolves to null when signed in, or to the
   * challenge Cognito asks for next ({name, session, username, pool}); answer it with respond().
   */
  async signIn(email, password, pool = CUSTOMER) {
    const clientId = this.clients[pool];
    if (!clientId) throw new AuthError("no_pool", `No ${pool} sign-in is configured`);
    const result = await this.call("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: clientId,
      AuthParameters: { USERNAME: email, PASSWORD: password },
    });
    return this.next(result, { username: email, pool });
  }

  /**
   * Answer a challenge: NEW_PASSWORD_REQUIRED (answer: the new password), SOFTWARE_TOKEN_MFA
   * (the 6-digit code), MFA_SETUP (the code of the newly enrolled app; call enrol() first).
   */
  async respond(challenge, answer) {
    const responses = { USERNAME: challenge.username };
    let session = challenge.session;
    if (challenge.name === "NEW_PASSWORD_REQUIRED") {
      responses.NEW_PASSWORD = answer;
    } else if (challenge.name === "SOFTWARE_TOKEN_MFA") {
      responses.SOFTWARE_TOKEN_MFA_CODE = answer;
    } else if (challenge.name === "MFA_SETUP") {
      const verified = await this.call("VerifySoftwareToken", {
        Session: session, UserCode: answer, FriendlyDeviceName: "account-opening console",
      });
      if (verified.Status && verified.Status !== "SUCCESS") throw new AuthError("CodeMismatchException", "");
      session = verified.Session || session;
    } else {
      throw new AuthError("challenge", `Cognito asks for ${challenge.name}; not supported here`);
    }
    const result = await this.call("RespondToAuthChallenge", {
      ChallengeName: challenge.name,
      ClientId: this.clients[challenge.pool],
      Session: session,
      ChallengeResponses: responses,
    });
    return this.next(result, challenge);
  }

  /** MFA_SETUP: a new authenticator secret for this user (shown once, to add to the app). */
  async enrol(challenge) {
    const result = await this.call("AssociateSoftwareToken", { Session: challenge.session });
    challenge.session = result.Session || challenge.session;
    return result.SecretCode;
  }

  next(result, { username, pool }) {
    if (result.AuthenticationResult) {
      this.store(result.AuthenticationResult, null, pool);
      return null;
    }
    return {
      name: result.ChallengeName || "unknown",
      session: result.Session,
      username: (result.ChallengeParameters && result.ChallengeParameters.USER_ID_FOR_SRP) || username,
      pool,
    };
  }

  async signUp(email, password) {
    return this.call("SignUp", {
      ClientId: this.clients[CUSTOMER],
      Username: email,
      Password: password,
      UserAttributes: [{ Name: "email", Value: email }],
    });
  }

  async confirmSignUp(email, code) {
    return this.call("ConfirmSignUp", { ClientId: this.clients[CUSTOMER], Username: email, ConfirmationCode: code });
  }

  /** A valid ID token, refreshed first when it expires within a minute. */
  async idToken() {
    if (!this.session) throw new AuthError("signed_out", "sign in first");
    if (this.session.expiresAt - Date.now() < REFRESH_MARGIN_MS) await this.refresh();
    return this.session.idToken;
  }

  async refresh() {
    if (!this.session) throw new AuthError("signed_out", "sign in first");
    if (!this.refreshing) {
      const { refreshToken, pool, via } = this.session;
      const refreshed = via === "managed"
        ? this.token(pool, { grant_type: "refresh_token", refresh_token: refreshToken }).then((tokens) => ({
          IdToken: tokens.id_token, ExpiresIn: tokens.expires_in,
        }))
        : this.call("InitiateAuth", {
          AuthFlow: "REFRESH_TOKEN_AUTH",
          ClientId: this.clients[pool],
          AuthParameters: { REFRESH_TOKEN: refreshToken },
        }).then((result) => result.AuthenticationResult);
      this.refreshing = refreshed.then(
        (result) => this.store(result, refreshToken, pool, via),
        (error) => {
          this.signOut();
          throw error;
        },
      ).finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  /** Forget every token of this tab; a managed-login session's refresh token is revoked at its pool. */
  signOut() {
    const ended = this.session;
    this.session = null;
    sessionStorage.removeItem(STORE_KEY);
    if (ended && ended.via === "managed" && this.domains[ended.pool]) {
      fetch(new URL("/oauth2/revoke", this.domains[ended.pool]), {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: ended.refreshToken, client_id: this.clients[ended.pool] }),
        credentials: "omit",
        keepalive: true,
      }).catch(() => {}); // the tokens are gone from this tab either way
    }
    this.emit();
  }

  store(result, previousRefreshToken, pool, via = "password") {
    const claims = decodeJwt(result.IdToken);
    this.session = {
      pool: pool === STAFF ? STAFF : CUSTOMER,
      via: via === "managed" ? "managed" : "password",
      idToken: result.IdToken,
      refreshToken: result.RefreshToken || previousRefreshToken,
      expiresAt: claims.exp ? claims.exp * 1000 : Date.now() + (result.ExpiresIn || 3600) * 1000,
    };
    sessionStorage.setItem(STORE_KEY, JSON.stringify(this.session));
    this.emit();
  }

  emit() {
    for (const listener of this.listeners) listener(this.user);
  }

  async call(action, body) {
    let response;
    try {
      response = await fetch(this.endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
        },
        body: JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch (error) {
      throw new AuthError("network", "Cannot reach the sign-in service");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const code = String(data.__type || response.status).split("#").pop();
      throw new AuthError(code, friendly(code, data.message));
    }
    return data;
  }
}

function friendly(code, message) {
  const known = {
    NotAuthorizedException: "Wrong e-mail or password.",
    UserNotFoundException: "Wrong e-mail or password.",
    UserNotConfirmedException: "Confirm your e-mail address first.",
    UsernameExistsException: "An account with this e-mail already exists.",
    InvalidPasswordException: "The password does not meet the policy: 12+ characters, upper and lower case and a digit.",
    CodeMismatchException: "That code is not right.",
    EnableSoftwareTokenMFAException: "That code is not right.",
    ExpiredCodeException: "That code has expired; sign in again.",
    PasswordResetRequiredException: "Your password must be reset first.",
  };
  return known[code] || message || code;
}

function redirectFailure(code, description) {
  const known = {
    access_denied: "The sign-in was refused",
    invalid_grant: "That sign-in has expired; sign in again.",
    state: "That sign-in was not started from this page. Sign in again.",
  };
  const text = known[code] || "Sign-in failed";
  return description ? `${text}: ${description}` : text;
}

/** URL-safe random text (RFC 4648 base64url, no padding) of ``bytes`` random bytes. */
function randomToken(bytes) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** PKCE's S256 code challenge of a verifier. */
async function s256(verifier) {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function load() {
  try {
    const session = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
    return session && session.idToken && session.refreshToken && session.pool ? session : null;
  } catch {
    return null;
  }
}

export function decodeJwt(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(
      Array.from(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")),
        (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join(""),
    );
    return JSON.parse(json);
  } catch {
    return {};
  }
}
