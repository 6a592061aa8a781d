// Sign in, or sign up and confirm the e-mail code, against Cognito.
import { announce, h, replace } from "./dom.js";

export function render(ctx, done) {
  document.title = "Sign in · Account opening";
  const error = h("p", { class: "error", role: "alert", id: "signin-error" });
  const fail = (e) => {
    error.textContent = e.message || String(e);
  };

  const signInForm = h("form", { id: "signin-form", class: "stack", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in"),
    field("signin-email", "E-mail", { type: "email", name: "email", autocomplete: "username", required: true }),
    field("signin-password", "Password", {
      type: "password", name: "password", autocomplete: "current-password", required: true,
    }),
    h("button", { type: "submit", id: "signin-submit" }, "Sign in"));
  signInForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const data = new FormData(signInForm);
    try {
      await ctx.auth.signIn(String(data.get("email")).trim(), String(data.get("password")));
      announce(`Signed in as ${ctx.auth.user.email}.`);
      done();
    } catch (e) {
      fail(e);
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
  const confirmForm = h("form", { id: "confirm-form", class: "stack", hidden: true, "aria-labelledby": "confirm-title" },
    h("h2", { id: "confirm-title" }, "Confirm your e-mail"),
    h("p", {}, "Enter the code we sent to your e-mail address."),
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
        await ctx.auth.signIn(pending.email, pending.password);
        done();
        return;
      }
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
      await ctx.auth.signIn(pending.email, pending.password);
      announce(`Signed in as ${ctx.auth.user.email}.`);
      done();
    } catch (e) {
      fail(e);
    }
  });

  replace(ctx.view, h("section", { class: "panel narrow" }, signInForm, error),
    h("section", { class: "panel narrow" }, signUpForm, confirmForm));
  signInForm.querySelector("input").focus();
}

export function field(id, label, attrs) {
  return h("p", { class: "field" }, h("label", { for: id }, label), h("input", { id, ...attrs }));
}
