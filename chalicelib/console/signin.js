// Sign in against Cognito: applicants to the customer pool (and sign up, confirm
// the e-mail code there), or with Google or Apple when the stage offers them;
// staff (reviewers, operators) through the staff pool's managed login, which
// sends them to the bank's identity provider (issue 21): one button, no staff
// password on this page. For a staff pool without managed login (an older
// stage), the pool's own steps (a new password at first sign-in, enrolling an
// authenticator app, its 6-digit code) are answered here, one form at a time.
import { CUSTOMER, STAFF } from "./auth.js";
import { announce, h, replace } from "./dom.js";

const STAFF_PAGES = /^#\/?(review|operator)\b/;

export function render(ctx, done) {
  document.title = "Sign in · Account opening";
  const error = h("p", { class: "error", role: "alert", id: "signin-error" });
  const fail = (e) => {
    error.textContent = e.message || String(e);
  };
  let pool = STAFF_PAGES.test(location.hash) ? STAFF : CUSTOMER; // a staff page asked for: staff sign-in

  const asCustomer = h("input", { type: "radio", name: "pool", id: "signin-as-customer", value: CUSTOMER });
  const asStaff = h("input", { type: "radio", name: "pool", id: "signin-as-staff", value: STAFF });
  const poolChoice = h("fieldset", { id: "signin-pool" },
    h("legend", {}, "I am"),
    h("label", { class: "radio", for: "signin-as-customer" }, asCustomer, "an applicant"),
    h("label", { class: "radio", for: "signin-as-staff" }, asStaff, "staff (reviewer or operator)"));
  const managedStaff = ctx.auth.hasManagedLogin(STAFF);
  const hasStaff = Boolean(ctx.auth.clients[STAFF]);
  // A person in the wrong place is told where to go, in words that say nothing about who has an account:
  // the same text follows every refused sign-in, whoever typed it (no pool is asked about another's users).
  const toApplicant = h("button", { type: "button", class: "link", id: "signin-switch-applicant" },
    "Sign in as an applicant");
  const toStaff = h("button", { type: "button", class: "link", id: "signin-switch-staff" }, "Staff sign-in");
  const staffHint = h("div", { id: "staff-hint", class: "hint" },
    h("p", {}, managedStaff
      ? "For the bank's reviewers and operators: sign in with your organisation's account (and its MFA). "
        + "There is no staff password on this page."
      : "For the bank's reviewers and operators, invited by e-mail (sign-in with an authenticator app); "
        + "there is no staff sign-up."),
    h("p", { id: "staff-hint-applicants" }, "Applying for an account, or already a customer? ", toApplicant, "."));
  // Shown under a refused password: where the other kind of account signs in (issue 18).
  const wrongPool = h("p", { id: "signin-wrong-pool", class: "hint", hidden: true });
  const credentials = [
    field("signin-email", "E-mail", { type: "email", name: "email", autocomplete: "username", required: true }),
    field("signin-password", "Password", {
      type: "password", name: "password", autocomplete: "current-password", required: true,
    }),
  ];
  const passwordSubmit = h("button", { type: "submit", id: "signin-submit" }, "Sign in");
  const staffSignIn = h("button", { type: "button", id: "signin-staff" }, "Sign in with your organisation's account");
  staffSignIn.addEventListener("click", () => {
    ctx.auth.redirectSignIn(STAFF, ctx.auth.staffProvider).catch(fail);
  });
  // Applicants may also come through a social provider the stage configures (Google, Sign in with Apple).
  const social = ctx.auth.hasManagedLogin(CUSTOMER) ? ctx.auth.socialProviders : [];
  const socialSignIn = h("p", { id: "signin-social", class: "stack" }, social.map((provider) => {
    const label = provider === "SignInWithApple" ? "Apple" : provider;
    const button = h("button", { type: "button", class: "secondary", id: `signin-with-${label.toLowerCase()}` },
      `Sign in with ${label}`);
    button.addEventListener("click", () => ctx.auth.redirectSignIn(CUSTOMER, provider).catch(fail));
    return button;
  }));

  const signInTitle = h("h1", { id: "signin-title" }, "Sign in");
  const signInForm = h("form", { id: "signin-form", class: "stack", "aria-labelledby": "signin-title" },
    signInTitle,
    poolChoice,
    ...credentials,
    staffHint,
    passwordSubmit,
    staffSignIn,
    socialSignIn);
  toApplicant.addEventListener("click", () => {
    setPool(CUSTOMER);
    signInForm.querySelector("#signin-email").focus();
  });
  toStaff.addEventListener("click", () => {
    setPool(STAFF);
    (managedStaff ? staffSignIn : signInForm.querySelector("#signin-email")).focus();
  });

  // One step Cognito asks for after the password (staff pool): rebuilt per challenge.
  const challengeForm = h("form", { id: "challenge-form", class: "stack", hidden: true,
    "aria-labelledby": "challenge-title" });
  let challenge = null;

  const signUpSection = h("section", { class: "panel narrow", id: "signup-section" });
  const setPool = (chosen) => {
    pool = chosen;
    error.textContent = "";
    wrongPool.hidden = true;
    signInTitle.textContent = pool === STAFF ? "Staff sign-in" : "Sign in";
    asCustomer.checked = pool === CUSTOMER;
    asStaff.checked = pool === STAFF;
    staffHint.hidden = pool !== STAFF;
    signUpSection.hidden = pool === STAFF;
    const managed = pool === STAFF && managedStaff; // staff: the organisation's sign-in, never a password here
    for (const part of [...credentials, passwordSubmit]) part.hidden = managed;
    for (const input of signInForm.querySelectorAll("#signin-email, #signin-password")) input.required = !managed;
    staffSignIn.hidden = !managed;
    socialSignIn.hidden = pool !== CUSTOMER || social.length === 0;
  };
  asCustomer.addEventListener("change", () => setPool(CUSTOMER));
  asStaff.addEventListener("change", () => setPool(STAFF));

  const signedIn = () => {
    announce(`Signed in as ${ctx.auth.user.email}.`);
    done();
  };

  const proceed = async (next) => {
    challenge = next;
    if (!challenge) {
      signedIn();
      return;
    }
    signInForm.hidden = true;
    await showChallenge(ctx, challengeForm, challenge);
  };

  signInForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    wrongPool.hidden = true;
    const data = new FormData(signInForm);
    try {
      await proceed(await ctx.auth.signIn(String(data.get("email")).trim(), String(data.get("password")), pool));
    } catch (e) {
      if (!REFUSED.has(e.code)) {
        fail(e);
        return;
      }
      // Cognito says the same for an unknown user and a wrong password (and so does this page): say which
      // kind of account was tried, and where the other kind signs in.
      error.textContent = pool === STAFF
        ? "Wrong e-mail or password for a staff account."
        : "Wrong e-mail or password for an applicant account.";
      if (pool === CUSTOMER && hasStaff) {
        replace(wrongPool, "Work at the bank? Reviewers and operators do not sign in with a password here: use ",
          toStaff, managedStaff ? " (your organisation's account)." : ".");
        wrongPool.hidden = false;
      } else if (pool === STAFF) {
        replace(wrongPool, "Applicants have their own sign-in: ", toApplicant, ".");
        wrongPool.hidden = false;
      }
    }
  });
  challengeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const answer = String(new FormData(challengeForm).get("answer") || "").trim();
    try {
      await proceed(await ctx.auth.respond(challenge, answer));
    } catch (e) {
      fail(e);
      if (e.code === "NotAuthorizedException" || e.code === "ExpiredCodeException") {
        challengeForm.hidden = true; // the session is spent: start again from the password
        signInForm.hidden = false;
      }
    }
  });

  const signUpForm = h("form", { id: "signup-form", class: "stack", "aria-labelledby": "signup-title" },
    h("h2", { id: "signup-title" }, "New here? Create an account"),
    field("signup-email", "E-mail", { type: "email", name: "email", autocomplete: "email", required: true }),
    field("signup-password", "Password", {
      type: "password", name: "password", autocomplete: "new-password", required: true, minlength: 12,
      "aria-describedby": "signup-password-hint",
    }),
    h("p", { id: "signup-password-hint", class: "hint" }, "12 or more characters, upper and lower case and a digit."),
    h("button", { type: "submit", class: "secondary", id: "signup-submit" }, "Create account"));
  const confirmHelp = h("p", { id: "confirm-help" }, "Enter the code we sent to your e-mail address.");
  const confirmForm = h("form", { id: "confirm-form", class: "stack", hidden: true, "aria-labelledby": "confirm-title" },
    h("h2", { id: "confirm-title" }, "Confirm your e-mail"),
    confirmHelp,
    field("confirm-code", "Code", { name: "code", inputmode: "numeric", autocomplete: "one-time-code", required: true }),
    h("button", { type: "submit", id: "confirm-submit" }, "Confirm and sign in"));
  let pending = null;
  signUpForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const data = new FormData(signUpForm);
    pending = { email: String(data.get("email")).trim(), password: String(data.get("password")) };
    try {
      const result = await ctx.auth.signUp(pending.email, pending.password);
      if (result.UserConfirmed) {
        await proceed(await ctx.auth.signIn(pending.email, pending.password, CUSTOMER));
        return;
      }
      signUpForm.hidden = true; // one step at a time: the code, for the address just given
      replace(confirmHelp, `Enter the code we sent to ${pending.email}.`);
      confirmForm.hidden = false;
      confirmForm.querySelector("input").focus();
      announce(`A code was sent to ${pending.email}.`);
    } catch (e) {
      fail(e);
    }
  });
  confirmForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      await ctx.auth.confirmSignUp(pending.email, String(new FormData(confirmForm).get("code")).trim());
      await proceed(await ctx.auth.signIn(pending.email, pending.password, CUSTOMER));
    } catch (e) {
      fail(e);
    }
  });

  replace(signUpSection, signUpForm, confirmForm);
  replace(ctx.view, h("section", { class: "panel narrow" }, signInForm, challengeForm, error, wrongPool),
    signUpSection);
  setPool(pool);
  if (ctx.auth.redirectError) { // the organisation's (or Google's, Apple's) sign-in came back refused
    const refused = ctx.auth.redirectError;
    ctx.auth.redirectError = null;
    if (refused.pool) setPool(refused.pool);
    fail(refused);
    if (refused.pool === STAFF) { // e.g. someone the bank's provider does not know, or a cancelled sign-in
      replace(wrongPool, "This sign-in is for the bank's staff. Applicants have their own: ", toApplicant, ".");
      wrongPool.hidden = false;
    }
  }
  (pool === STAFF && managedStaff ? staffSignIn : signInForm.querySelector("#signin-email")).focus();
}

/** Cognito's answers to a wrong e-mail or password (one text for both: no account's existence shows). */
const REFUSED = new Set(["NotAuthorizedException", "UserNotFoundException"]);

const CHALLENGES = {
  NEW_PASSWORD_REQUIRED: {
    title: "Choose your password",
    help: "This is your first sign-in with the password you were sent: choose your own. "
      + "14 or more characters, upper and lower case, a digit and a symbol.",
    input: { type: "password", autocomplete: "new-password", minlength: 14 },
    label: "New password",
  },
  MFA_SETUP: {
    title: "Set up your authenticator app",
    help: "Staff sign in with a one-time code. Add this key to an authenticator app "
      + "(time-based, 6 digits), then enter the code it shows.",
    input: { inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: 6 },
    label: "Code from the app",
  },
  SOFTWARE_TOKEN_MFA: {
    title: "Enter your code",
    help: "Enter the 6-digit code your authenticator app shows for Account opening.",
    input: { inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: 6 },
    label: "Code from the app",
  },
};

async function showChallenge(ctx, form, challenge) {
  const step = CHALLENGES[challenge.name];
  if (!step) throw new Error(`Cognito asks for ${challenge.name}; the console cannot answer it`);
  const parts = [h("h2", { id: "challenge-title" }, step.title), h("p", { id: "challenge-help" }, step.help)];
  if (challenge.name === "MFA_SETUP") {
    const secret = await ctx.auth.enrol(challenge);
    const uri = `otpauth://totp/Account%20opening:${encodeURIComponent(challenge.username)}`
      + `?secret=${encodeURIComponent(secret)}&issuer=Account%20opening`;
    parts.push(h("p", {}, "Key: ", h("code", { id: "mfa-secret" }, secret)),
      h("p", { class: "hint" }, "Or as a link for apps that read one: ", h("code", { id: "mfa-uri" }, uri)));
  }
  parts.push(field("challenge-answer", step.label, { name: "answer", required: true, ...step.input }),
    h("button", { type: "submit", id: "challenge-submit" }, "Continue"));
  replace(form, ...parts);
  form.dataset.challenge = challenge.name;
  form.hidden = false;
  form.querySelector("#challenge-answer").focus();
  announce(step.title);
}

export function field(id, label, attrs) {
  return h("p", { class: "field" }, h("label", { for: id }, label), h("input", { id, ...attrs }));
}
