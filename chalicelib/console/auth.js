// Sign-in against Cognito directly from the browser: the public InitiateAuth
// JSON API (USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH), SignUp and ConfirmSignUp.
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

export class Auth {
  constructor(cognito) {
    this.endpoint = cognito.endpoint;
    this.clientId = cognito.client_id;
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
      groups: claims["cognito:groups"] || [],
    };
  }

  hasGroup(group) {
    return Boolean(this.user && this.user.groups.includes(group));
  }

  async signIn(email, password) {
    const result = await this.call("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: this.clientId,
      AuthParameters: { USERNAME: email, PASSWORD: password },
    });
    if (!result.AuthenticationResult) {
      throw new AuthError("challenge", `Cognito asks for ${result.ChallengeName || "another step"}; not supported here`);
    }
    this.store(result.AuthenticationResult, null);
  }

  async signUp(email, password) {
    return this.call("SignUp", {
      ClientId: this.clientId,
      Username: email,
      Password: password,
      UserAttributes: [{ Name: "email", Value: email }],
    });
  }

  async confirmSignUp(email, code) {
    return this.call("ConfirmSignUp", { ClientId: this.clientId, Username: email, ConfirmationCode: code });
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
      const refreshToken = this.session.refreshToken;
      this.refreshing = this.call("InitiateAuth", {
        AuthFlow: "REFRESH_TOKEN_AUTH",
        ClientId: this.clientId,
        AuthParameters: { REFRESH_TOKEN: refreshToken },
      }).then(
        (result) => this.store(result.AuthenticationResult, refreshToken),
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

  store(result, previousRefreshToken) {
    const claims = decodeJwt(result.IdToken);
    this.session = {
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
  };
  return known[code] || message || code;
}

function load() {
  try {
    const session = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
    return session && session.idToken && session.refreshToken ? session : null;
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
