// Sign-in against Cognito directly from the browser: the public InitiateAuth
// JSON API (USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH), SignUp and ConfirmSignUp.
// Two user pools: applicants sign up and in to the customer pool; reviewers and
// operators sign in to the staff pool (invited, MFA required), whose challenges
// are answered here: NEW_PASSWORD_REQUIRED (first sign-in of an invited user),
// MFA_SETUP (enrol an authenticator app: AssociateSoftwareToken,
// VerifySoftwareToken) and SOFTWARE_TOKEN_MFA (the app's 6-digit code).
// The API accepts each pool's tokens only on its own routes.
// Tokens live in sessionStorage (this tab only, gone when it closes) and go
// nowhere but the Authorization header and the WebSocket's ?token=.

const STORE_KEY = "account-opening.session";
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
    this.session = load();
    this.listeners = new Set();
    this.refreshing = null;
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
      const { refreshToken, pool } = this.session;
      this.refreshing = this.call("InitiateAuth", {
        AuthFlow: "REFRESH_TOKEN_AUTH",
        ClientId: this.clients[pool],
        AuthParameters: { REFRESH_TOKEN: refreshToken },
      }).then(
        (result) => this.store(result.AuthenticationResult, refreshToken, pool),
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

  /** Forget every token of this tab. */
  signOut() {
    this.session = null;
    sessionStorage.removeItem(STORE_KEY);
    this.emit();
  }

  store(result, previousRefreshToken, pool) {
    const claims = decodeJwt(result.IdToken);
    this.session = {
      pool: pool === STAFF ? STAFF : CUSTOMER,
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
